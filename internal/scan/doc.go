// Package scan is Merlon's domain: what is scanned (Target, Operation,
// Identity), what looks at it (Check, Meta), what it finds (Finding,
// Evidence) and how sure it is (Severity, Confidence).
//
// It imports nothing from the rest of Merlon, so that checks, reports, the
// store and the engine can all depend on it without depending on each other.
package scan
