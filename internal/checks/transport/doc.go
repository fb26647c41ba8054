// Package transport holds Merlon's checks of how an API protects data in
// transit: TLS protocol versions and cipher suites, the certificate, the
// redirect from HTTP to HTTPS, cookie attributes and mixed content (OWASP
// API8:2023). HSTS is judged by misconfig.security-headers, not here.
//
// The TLS and certificate checks make their own TLS handshakes, the one
// exception to "checks never dial": the engine's HTTP client negotiates the
// best protocol it can and hides the rest, while these checks must offer
// what a good client never would (TLS 1.0, insecure suites) and see a
// certificate the client might reject. The helper in handshake.go dials
// only the target's own host and port and is bounded to a few handshakes.
package transport
