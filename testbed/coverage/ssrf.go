package coverage

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

const ssrfSpec = `{"openapi":"3.0.3","info":{"title":"fetcher twin","version":"1"},"paths":{
 "/fetch":{"get":{"parameters":[{"name":"url","in":"query","required":true,"schema":{"type":"string","format":"uri"},"example":"https://example.com/"}],"responses":{"200":{"description":"the fetched body"}}}},
 "/avatar":{"get":{"parameters":[{"name":"image_url","in":"query","required":true,"schema":{"type":"string","format":"uri"},"example":"https://example.com/a.png"}],"responses":{"200":{"description":"the fetched image"}}}}}}`

// MetadataAddr is the cloud instance metadata address; MetadataBody is
// what the twins' stand-in for it answers.
const (
	MetadataAddr = "169.254.169.254"
	MetadataBody = "ami-id\nhostname\ninstance-id\niam/\nlocal-ipv4\n"
)

// SSRFInternalVulnerable is an API that fetches the URL it is given and
// returns the body: /fetch fetches anything, /avatar refuses loopback
// hosts but not the link-local metadata address, the usual incomplete
// denylist. Its outbound client never leaves the machine: it reaches
// 127.0.0.1, answers for 169.254.169.254 with a stand-in metadata service
// in process, and fails every other host at once, so that a callback URL
// on a public host is never seen and only the internal-address payloads
// can prove the forgery.
func SSRFInternalVulnerable() http.Handler { return newFetcher(false) }

// SSRFInternalClean is its twin: both operations fetch only https URLs on
// an allowlisted host, and refuse everything else before any request.
func SSRFInternalClean() http.Handler { return newFetcher(true) }

type fetcher struct {
	hardened bool
	client   *http.Client
}

func newFetcher(hardened bool) http.Handler {
	f := &fetcher{hardened: hardened, client: &http.Client{
		Timeout:       2 * time.Second,
		Transport:     localOnly{},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", serveSpec(ssrfSpec))
	mux.HandleFunc("GET /fetch", func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, "url", false) })
	mux.HandleFunc("GET /avatar", func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, "image_url", true) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 404, `{"error":"not found"}`) })
	return mux
}

// serve fetches the URL in query parameter param. denyLoopback is the
// vulnerable /avatar's partial protection.
func (f *fetcher) serve(w http.ResponseWriter, r *http.Request, param string, denyLoopback bool) {
	raw := r.URL.Query().Get(param)
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https"):
		sendJSON(w, 400, `{"error":"not a URL"}`)
		return
	case f.hardened && (u.Scheme != "https" || !allowedHosts[strings.ToLower(u.Hostname())]):
		sendJSON(w, 400, `{"error":"this host is not on the allowlist"}`)
		return
	case f.hardened:
		sendJSON(w, 200, `{"body":"<title>Example Domain</title>"}`) // never really fetched
		return
	case denyLoopback && isLoopback(u.Hostname()):
		sendJSON(w, 400, `{"error":"local addresses are not allowed"}`)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, raw, nil)
	if err != nil {
		sendJSON(w, 400, `{"error":"bad URL"}`)
		return
	}
	resp, err := f.client.Do(req)
	if err != nil {
		sendJSON(w, 502, `{"error":"fetch failed"}`)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	sendJSON(w, 200, fmt.Sprintf(`{"status":%d,"body":%q}`, resp.StatusCode, b))
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// localOnly is the twins' outbound network: 127.0.0.1 for real, the
// metadata address served in process, nothing else.
type localOnly struct{}

func (localOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.URL.Hostname() {
	case "127.0.0.1":
		return http.DefaultTransport.RoundTrip(r)
	case MetadataAddr:
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Type", "text/plain")
		io.WriteString(rec, MetadataBody)
		return rec.Result(), nil
	}
	return nil, errors.New("no route to host (the testbed stays on this machine)")
}
