// Package resource holds Merlon's checks for unrestricted resource
// consumption (OWASP API4:2023): no rate limiting, no rate-limit headers,
// page sizes without a ceiling, oversized unpaginated responses and
// request bodies without a size limit.
//
// A black-box scan cannot see a limit it does not reach, so every finding
// here says what was observed (how many requests, how large a body) and
// stays at "likely" at most: a limit beyond Merlon's bounded probes may
// still exist.
package resource
