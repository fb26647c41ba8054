// Package inject proves injection — SQL, NoSQL operator, OS command and
// server-side template — with payloads that read nothing and change
// nothing. Each check runs only with --active.
//
// Every parameter (path, query, header, cookie) and every string or number
// field of a JSON body is an injection point. An operation's unchanged
// request is sent first, three times, to learn how its answer varies on
// its own (timestamps, request IDs, latency); a payload counts only for
// what it changes beyond that variance. Proofs are differential: an error
// that appears for a broken quote and not for a balanced one, a true
// condition and a false one that answer differently and each the same
// when repeated, an arithmetic result that only evaluation could produce,
// a delay that grows with the delay asked for. docs/safety.md explains
// why each payload family is harmless.
//
// Write operations are left as they were found: each object a create's
// request makes is deleted before the next request, and an update is
// probed only on an object the check created for it (objects.go).
package inject
