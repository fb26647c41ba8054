// Package misconfig holds Merlon's passive checks for security
// misconfiguration (OWASP API8:2023) visible in response headers: missing
// security headers, permissive CORS and disclosed server versions.
//
// None of them changes state; each sends only GET (and, for CORS, OPTIONS)
// requests through the engine's Requester.
package misconfig
