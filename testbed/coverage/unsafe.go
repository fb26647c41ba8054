package coverage

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const unsafeSpec = `{"openapi":"3.0.3","info":{"title":"outbound twin","version":"1"},"paths":{
 "/login":{"get":{"parameters":[{"name":"next","in":"query","schema":{"type":"string"},"example":"/home"}],"responses":{"302":{"description":"redirect"}}}},
 "/preview":{"get":{"parameters":[{"name":"url","in":"query","required":true,"schema":{"type":"string","format":"uri"},"example":"https://example.com/"}],"responses":{"200":{"description":"a link preview"}}}},
 "/card":{"get":{"parameters":[{"name":"source","in":"query","required":true,"schema":{"type":"string","format":"uri"},"example":"https://example.com/"}],"responses":{"200":{"description":"an HTML card showing the page at source"}}}},
 "/webhooks":{"post":{"requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["url"],"properties":{"url":{"type":"string","format":"uri"},"event":{"type":"string","example":"order.created"}}}}}},"responses":{"201":{"description":"registered"}}}},
 "/webhooks/{id}":{"delete":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}],"responses":{"204":{"description":"removed"}}}}}}`

// outboundAPI is the outbound-request twin: open redirects, link
// previews fetched server-side (as JSON, and as an HTML card), and
// webhook registration.
type outboundAPI struct {
	hardened bool
	client   *http.Client

	mu    sync.Mutex
	hooks map[int]string
	next  int
}

// UnsafeVulnerable is an API with an open redirect (/login?next= goes
// anywhere), a link preview that fetches any URL it is given (SSRF), an
// HTML card that does the same and puts the page it read into its own
// HTML unencoded (third-party content reflected), and
// webhook registration that accepts and pings any URL. So that tests never
// reach beyond the machine, it fetches only http URLs on 127.0.0.1.
func UnsafeVulnerable() http.Handler { return newOutboundAPI(false) }

// UnsafeClean is its twin: /login redirects only to relative paths,
// previews, cards and webhooks accept only allowlisted https hosts, and
// the card escapes what it read.
func UnsafeClean() http.Handler { return newOutboundAPI(true) }

// allowedHosts are the only hosts the clean twin fetches or calls.
var allowedHosts = map[string]bool{"example.com": true, "hooks.example.com": true}

func newOutboundAPI(hardened bool) http.Handler {
	a := &outboundAPI{
		hardened: hardened,
		client: &http.Client{
			Timeout:       2 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		hooks: make(map[int]string),
		next:  1,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", serveSpec(unsafeSpec))
	mux.HandleFunc("GET /login", a.login)
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, `{"page":"home"}`) })
	mux.HandleFunc("GET /preview", a.preview)
	mux.HandleFunc("GET /card", a.card)
	mux.HandleFunc("POST /webhooks", a.register)
	mux.HandleFunc("DELETE /webhooks/{id}", a.unregister)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 404, `{"error":"not found"}`) })
	return mux
}

func (a *outboundAPI) login(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if next == "" {
		next = "/home"
	}
	if a.hardened {
		u, err := url.Parse(next)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(next, "/") ||
			strings.HasPrefix(next, "//") || strings.HasPrefix(next, `/\`) {
			next = "/home"
		}
	}
	http.Redirect(w, r, next, http.StatusFound)
}

// allowed reports whether the twin may fetch raw: on the clean twin an
// allowlisted https host, on the vulnerable one any http URL on
// 127.0.0.1 (the testbed's stand-in for "anything").
func (a *outboundAPI) allowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	if a.hardened {
		return u.Scheme == "https" && allowedHosts[strings.ToLower(u.Hostname())]
	}
	return u.Scheme == "http" && u.Hostname() == "127.0.0.1"
}

// fetch gets raw, unless it is the clean twin's allowlisted host, which
// the testbed never really contacts.
func (a *outboundAPI) fetch(ctx context.Context, raw string) (string, error) {
	if a.hardened {
		return "<title>Example Domain</title>", nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return "", err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return string(b), err
}

func (a *outboundAPI) preview(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("url")
	if !a.allowed(raw) {
		sendJSON(w, 400, `{"error":"this URL cannot be previewed"}`)
		return
	}
	body, err := a.fetch(r.Context(), raw)
	if err != nil {
		sendJSON(w, 502, `{"error":"fetch failed"}`)
		return
	}
	sendJSON(w, 200, fmt.Sprintf(`{"url":%q,"snippet":%q}`, raw, body[:min(len(body), 200)]))
}

// card shows the page at ?source= inside its own HTML: raw on the
// vulnerable twin, escaped on the clean one.
func (a *outboundAPI) card(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("source")
	if !a.allowed(raw) {
		sendJSON(w, 400, `{"error":"this URL cannot be shown"}`)
		return
	}
	body, err := a.fetch(r.Context(), raw)
	if err != nil {
		sendJSON(w, 502, `{"error":"fetch failed"}`)
		return
	}
	if a.hardened {
		body = html.EscapeString(body)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html><html><body><article class=\"card\">%s</article></body></html>", body)
}

func (a *outboundAPI) register(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL   string `json:"url"`
		Event string `json:"event"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&in); err != nil || in.URL == "" {
		sendJSON(w, 400, `{"error":"url is required"}`)
		return
	}
	if !a.allowed(in.URL) {
		sendJSON(w, 400, `{"error":"webhook host is not on the allowlist"}`)
		return
	}
	a.mu.Lock()
	id := a.next
	a.next++
	a.hooks[id] = in.URL
	a.mu.Unlock()
	// A ping at registration, as many webhook services send.
	if _, err := a.fetch(r.Context(), in.URL); err != nil && !a.hardened {
		sendJSON(w, 400, `{"error":"webhook did not answer the ping"}`)
		return
	}
	sendJSON(w, 201, fmt.Sprintf(`{"id":%d,"url":%q}`, id, in.URL))
}

func (a *outboundAPI) unregister(w http.ResponseWriter, r *http.Request) {
	var id int
	fmt.Sscan(r.PathValue("id"), &id)
	a.mu.Lock()
	_, ok := a.hooks[id]
	delete(a.hooks, id)
	a.mu.Unlock()
	if !ok {
		sendJSON(w, 404, `{"error":"not found"}`)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
