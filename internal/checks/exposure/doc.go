// Package exposure holds Merlon's checks for information an API gives away
// in its responses: stack traces, debug and management endpoints, and
// sensitive data (secrets, password hashes, personal data, internal
// addresses) that should never leave the server.
//
// exposure.error-disclosure also covers what some scanners call "verbose
// errors": Merlon has no separate check for them.
package exposure
