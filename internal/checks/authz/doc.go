// Package authz holds Merlon's authorization checks, which need more than
// one identity to say anything: broken object level authorization (one
// user reading or changing another's objects) and broken function level
// authorization (a lower role, or nobody at all, reaching a privileged
// operation).
//
// Both compare the answers different identities get for the same request.
// A difference in who may do what is the signal; the same answer for
// everybody means the object or function is public, which is not reported.
package authz
