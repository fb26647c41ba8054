// Package input holds Merlon's input-handling checks: writable fields
// that accept and store values their own spec forbids, and malformed
// input that makes the server fail with a 5xx or a stack trace.
package input
