// Package property holds Merlon's checks of object property level
// authorization (OWASP API3:2023), starting with mass assignment
// (CWE-915): an API that copies a client's JSON into its stored object
// lets the client set attributes only the server should own, such as
// is_admin, role, credits or owner.
//
// Two checks share one view of the API, the resources of resources.go and
// the read-only candidates of candidates.go:
//
//   - MassAssignmentSurface reads the spec and ordinary GET responses and
//     says where mass assignment could happen. It never claims more than
//     "likely", because only a write can tell.
//   - MassAssignment, active only, creates its own objects, injects
//     attributes on create and on update, and believes nothing but a
//     separate read-back: a value the write merely echoes proves nothing.
//     A finding is confirmed only when two different injected values were
//     both read back, and a privilege attribute that was accepted is then
//     tried on the API's administrative operations (chain.go). Everything
//     it creates is deleted again (cleanup.go).
package property
