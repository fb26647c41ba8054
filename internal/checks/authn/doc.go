// Package authn holds Merlon's authentication checks (OWASP API2:2023):
// secured operations that answer without credentials, JSON Web Tokens the
// API trusts when it should not (alg none, unverified signatures, weak
// HMAC secrets, expired tokens), tokens that never expire or carry
// personal data, and login endpoints that do not slow down guessing.
//
// The JWT checks work on the tokens of the scan's identities (an
// Authorization bearer token, a JWT-valued cookie or header) and on tokens
// harvested from responses. A forged token is only judged against a probe
// operation: a GET that answers 2xx with the genuine token and 401/403
// without it, so that "accepted" means the token was checked at all. Every
// forged request is sent as scan.Anonymous with the forged token as its only
// credential.
//
// All checks but login-brute-force send GET requests only.
package authn
