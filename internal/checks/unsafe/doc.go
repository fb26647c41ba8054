// Package unsafe holds Merlon's checks for unsafe consumption of APIs
// (OWASP API10:2023) that a black-box scan can see: webhook or callback
// registration that accepts any URL, open redirects that send users to a
// host a parameter names, and third-party content an API fetches and puts
// into its own HTML unencoded.
//
// Most of API10 — how the API treats what third-party APIs send back —
// happens between the target and services Merlon cannot observe;
// docs/checks.md says so plainly.
package unsafe
