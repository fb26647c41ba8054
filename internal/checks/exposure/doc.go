// Package exposure holds Merlon's checks for information an API gives away
// in its responses: stack traces, debug pages and other internals that
// should never leave the server (OWASP API8:2023).
package exposure
