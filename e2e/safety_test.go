package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Secrets planted in a scan. The API echoes them back everywhere it can;
// none may reach any output.
const (
	plantedToken  = "mrlnPlanted0b5e7c1d9a4f"
	plantedAPIKey = "mrlnKey7d3e9a1c5b8f"
	plantedJWT    = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlLXBsYW50ZWQ"
	plantedAWS    = "AKIAMERLONPLANTED7Q2X"
)

// safetyLog is what a safety target saw.
type safetyLog struct {
	mu       sync.Mutex
	methods  map[string]int
	requests []time.Time
}

func (l *safetyLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.methods[r.Method]++
	l.requests = append(l.requests, time.Now())
}

// safetyAPI has readable and writable operations, leaks every credential
// it is sent in bodies, headers and a stack trace, and redirects one
// operation off scope.
func safetyAPI(t *testing.T, elsewhere string) (*httptest.Server, *safetyLog) {
	t.Helper()
	log := &safetyLog{methods: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"openapi":"3.0.3","info":{"title":"safety","version":"1"},"paths":{
		  "/me":{"get":{"responses":{"200":{"description":"ok"}}}},
		  "/away":{"get":{"responses":{"302":{"description":"gone"}}}},
		  "/crash":{"get":{"responses":{"500":{"description":"boom"}}}},
		  "/items":{"get":{"responses":{"200":{"description":"ok"}}},
		            "post":{"requestBody":{"content":{"application/json":{"schema":{"type":"object","properties":{"name":{"type":"string"}}}}}},"responses":{"201":{"description":"ok"}}}},
		  "/items/{id}":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"},"example":1}],
		    "get":{"responses":{"200":{"description":"ok"}}},
		    "put":{"responses":{"200":{"description":"ok"}}},
		    "delete":{"responses":{"204":{"description":"ok"}}}}}}`)
	})
	leak := func(w http.ResponseWriter, r *http.Request) string {
		log.add(r)
		auth := r.Header.Get("Authorization")
		w.Header().Set("X-Echo-Auth", auth)
		w.Header().Set("X-Echo-Key", r.Header.Get("X-Api-Key"))
		w.Header().Set("Set-Cookie", "session="+plantedToken+"; Path=/")
		w.Header().Set("Content-Type", "application/json")
		return fmt.Sprintf(`{"id":1,"auth":%q,"apiKey":%q,"jwt":%q,"aws":%q,"token":%q}`,
			auth, r.Header.Get("X-Api-Key"), plantedJWT, plantedAWS, plantedToken)
	}
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		log.add(r)
		http.Redirect(w, r, elsewhere+"/collect?t="+plantedToken, http.StatusFound)
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		body := leak(w, r)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "Traceback (most recent call last):\n  File \"/app/api.py\", line 7, in handler\nKeyError: %s %s\n", body, r.Header.Get("Authorization"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body := leak(w, r)
		fmt.Fprint(w, body)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, log
}

// TestSafetyPromises scans a target that echoes planted secrets, in every
// format, and checks the promises docs/safety.md lists: no write method
// without --active, nothing off scope, the budget and rate respected, and
// no planted secret in any output.
func TestSafetyPromises(t *testing.T) {
	var offScope sync.Map
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		offScope.Store(r.URL.String(), true)
	}))
	defer elsewhere.Close()
	srv, log := safetyAPI(t, elsewhere.URL)

	dir := t.TempDir()
	const budget, rate = 60, 40.0
	for _, format := range []string{"text", "json", "sarif", "junit", "markdown", "html", "pdf"} {
		out := filepath.Join(dir, "report."+format)
		r := run(t, "scan", srv.URL, "--spec", srv.URL+"/openapi.json", "--format", format, "-o", out, "-v",
			"-H", "Authorization: Bearer "+plantedToken, "-H", "X-Api-Key: "+plantedAPIKey,
			"--max-requests", fmt.Sprint(budget), "--rate", fmt.Sprint(rate))
		if r.code != 0 {
			t.Fatalf("%s scan: exit %d\n%s", format, r.code, r.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{format + " report": string(b), "stdout": r.stdout, "stderr": r.stderr} {
			for _, secret := range []string{plantedToken, plantedAPIKey, plantedJWT, plantedAWS} {
				if strings.Contains(text, secret) {
					i := strings.Index(text, secret)
					t.Errorf("%s (%s scan) holds planted secret %q: %q", name, format, secret, text[max(0, i-80):min(len(text), i+80)])
				}
			}
		}
		log.mu.Lock()
		checkBudgetAndRate(t, format, log.requests, budget, rate)
		log.requests = nil
		log.mu.Unlock()
		if format == "json" && !strings.Contains(string(b), "/crash") {
			t.Errorf("json report never mentions /crash; the leaking responses were not recorded, so the test proves nothing")
		}
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	for m, n := range log.methods {
		if m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions {
			t.Errorf("passive scans sent %d %s requests, want none", n, m)
		}
	}
	offScope.Range(func(k, _ any) bool {
		t.Errorf("off-scope origin got %s", k)
		return true
	})
}

// checkBudgetAndRate checks one scan's requests, as the target saw them,
// against --max-requests and --rate. The limiter spaces requests as they
// leave; they arrive with jitter (new connections, the scheduler on a
// busy machine), so the rate is checked on average over the scan, and no
// one-second window may hold twice the rate. Without the limiter the
// target, which answers in microseconds, would see many times the rate.
func checkBudgetAndRate(t *testing.T, format string, requests []time.Time, budget int, rate float64) {
	t.Helper()
	if len(requests) > budget {
		t.Errorf("%s scan: target got %d requests, want at most %d (--max-requests)", format, len(requests), budget)
	}
	if len(requests) < 10 {
		t.Fatalf("%s scan: target got %d requests, too few to measure a rate", format, len(requests))
	}
	span := requests[len(requests)-1].Sub(requests[0]).Seconds()
	if avg := float64(len(requests)-1) / span; avg > rate*1.05 {
		t.Errorf("%s scan: %d requests in %.2fs = %.1f/s, want at most --rate %v", format, len(requests), span, avg, rate)
	}
	for i := range requests {
		j := i
		for j < len(requests) && requests[j].Sub(requests[i]) < time.Second {
			j++
		}
		if n := j - i; n > int(2*rate) {
			t.Errorf("%s scan: target got %d requests within one second, want at most %d (twice --rate %v)", format, n, int(2*rate), rate)
			return
		}
	}
}
