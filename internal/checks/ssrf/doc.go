// Package ssrf holds Merlon's server-side request forgery check (OWASP
// API7:2023): parameters that take a URL are given one that points at
// Merlon's own callback listener, and the check is confirmed when the
// listener sees the target's request arrive.
//
// The points that take URLs are found by name (url, uri, link, src,
// callback, webhook, image, feed, fetch, proxy…), by schema format (uri,
// url) and by value (an example or harvested value that is an http URL).
// The package exports them for other families (webhooks, API10) to reuse.
package ssrf
