package unsafe_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/callback"
	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/unsafe"
	"github.com/merlonsec/merlon/internal/scan"
)

// previewAPI fetches the URL it is given and shows what it read, in a way
// chosen per test: raw inside its HTML page (vulnerable), HTML-escaped, or
// as a JSON string.
type previewAPI struct {
	render  string // "raw", "escaped", "json"
	fetches atomic.Int32
	deleted atomic.Int32
}

func (a *previewAPI) fetch(u string) string {
	a.fetches.Add(1)
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return string(b)
}

func (a *previewAPI) show(w http.ResponseWriter, status int, content string) {
	switch a.render {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"id": 7, "preview": content})
		return
	case "escaped":
		content = html.EscapeString(content)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, "<html><body><h1>Preview</h1><div>"+content+"</div></body></html>")
}

func (a *previewAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /preview", func(w http.ResponseWriter, r *http.Request) {
		a.show(w, 200, a.fetch(r.URL.Query().Get("url")))
	})
	mux.HandleFunc("POST /imports", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			SourceURL string `json:"source_url"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		a.show(w, 201, a.fetch(body.SourceURL))
	})
	mux.HandleFunc("DELETE /imports/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.deleted.Add(1)
		w.WriteHeader(204)
	})
	return mux
}

func previewOps() []*scan.Operation {
	get := checktest.Op("GET", "/preview", scan.Parameter{Name: "url", In: "query", Required: true, Schema: &scan.Schema{Type: "string"}})
	post := checktest.Op("POST", "/imports")
	post.RequestBody = &scan.RequestBody{ContentType: "application/json", Schema: &scan.Schema{
		Type:       "object",
		Properties: map[string]*scan.Schema{"source_url": {Type: "string", Format: "uri"}},
	}}
	del := checktest.Op("DELETE", "/imports/{id}")
	return []*scan.Operation{get, post, del}
}

func listener(t *testing.T) *callback.Listener {
	t.Helper()
	l, err := callback.Start(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestThirdPartyReflection(t *testing.T) {
	t.Run("raw in HTML", func(t *testing.T) {
		api := &previewAPI{render: "raw"}
		fs := checktest.Run(t, unsafe.ThirdPartyReflection{}, api.Handler(), checktest.WithActive(),
			checktest.WithOperations(previewOps()...), checktest.WithCallbacks(listener(t)))
		checktest.Only(t, fs, "unsafe.third-party-reflection")
		if len(fs) != 2 {
			t.Fatalf("findings at %v, want query:url and body:source_url", checktest.Locations(fs))
		}
		for _, loc := range []string{"query:url", "body:source_url"} {
			f := checktest.At(t, fs, loc)
			if f.Confidence != scan.Confirmed || !strings.HasPrefix(f.Evidence[0].Matched, "<script>") {
				t.Errorf("%s: %v, matched %q; want confirmed with the script element", loc, f.Confidence, f.Evidence[0].Matched)
			}
		}
	})
	for _, render := range []string{"escaped", "json"} {
		t.Run(render, func(t *testing.T) {
			api := &previewAPI{render: render}
			checktest.None(t, checktest.Run(t, unsafe.ThirdPartyReflection{}, api.Handler(), checktest.WithActive(),
				checktest.WithOperations(previewOps()...), checktest.WithCallbacks(listener(t))))
			if api.fetches.Load() != 2 {
				t.Errorf("the API fetched %d URLs, want 2: the check must have tried both inputs", api.fetches.Load())
			}
			if want := int32(map[string]int{"json": 1}[render]); api.deleted.Load() != want {
				// Only the JSON answer names the import's id.
				t.Errorf("DELETEs = %d, want %d", api.deleted.Load(), want)
			}
		})
	}
	t.Run("passive scan sends nothing", func(t *testing.T) {
		api := &previewAPI{render: "raw"}
		checktest.None(t, checktest.Run(t, unsafe.ThirdPartyReflection{}, api.Handler(),
			checktest.WithOperations(previewOps()...), checktest.WithCallbacks(listener(t))))
		if api.fetches.Load() != 0 {
			t.Errorf("a passive scan made the API fetch %d URLs", api.fetches.Load())
		}
	})
}
