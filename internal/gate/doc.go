// Package gate decides whether a scan should fail a CI build. It reads the
// policy files (a rules file per check, a suppressions file of accepted
// risks), applies them to a report, and compares the report with a
// baseline. It does no network I/O and never prints: the CLI reads the
// files, calls Apply and Decide, and maps the decision to an exit code.
//
// Only findings flip the gate. Transport errors, timeouts and checks that
// could not run are never findings, and a finding is not counted as new
// when the baseline could not have seen it because its check did not
// finish there.
package gate
