package callback

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestListenerRecordsIssuedTokens(t *testing.T) {
	l, err := Start(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	u, tok := l.New()
	if !strings.HasPrefix(u, "http://127.0.0.1:") || !strings.HasSuffix(u, "/"+tok) {
		t.Fatalf("New() url = %q, want http://127.0.0.1:port/%s", u, tok)
	}
	if l.Seen(t.Context(), tok, 10*time.Millisecond) {
		t.Fatalf("Seen(%s) before any request = true, want false", tok)
	}
	code, body := get(t, u+"/deeper?x=1")
	if code != 200 || !strings.Contains(body, l.Marker(tok)) {
		t.Errorf("GET token url = %d %q, want 200 with marker", code, body)
	}
	h, ok := l.Wait(t.Context(), tok, time.Second)
	if !ok || h.Method != "GET" || h.Token != tok {
		t.Errorf("Wait(%s) = %+v, %v; want the GET hit", tok, h, ok)
	}
}

func TestListenerIgnoresUnknownTokens(t *testing.T) {
	l, err := Start(t.Context(), "127.0.0.1:0", "https://cb.example.test/base/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	u, tok := l.New()
	if want := "https://cb.example.test/base/" + tok; u != want {
		t.Errorf("New() url = %q, want %q", u, want)
	}
	if code, _ := get(t, "http://"+l.Addr()+"/mguessed"); code != 404 {
		t.Errorf("GET unknown token = %d, want 404", code)
	}
	// Behind a proxy the base path may reach the listener too.
	if code, _ := get(t, "http://"+l.Addr()+"/base/"+tok); code != 200 {
		t.Errorf("GET /base/token = %d, want 200", code)
	}
	if !l.Seen(t.Context(), tok, time.Second) {
		t.Errorf("Seen(%s) after /base/token = false, want true", tok)
	}
}

func TestWaitWakesOnLateHit(t *testing.T) {
	l, err := Start(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	u, tok := l.New()
	go func() {
		time.Sleep(50 * time.Millisecond)
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
		}
	}()
	start := time.Now()
	if !l.Seen(t.Context(), tok, 3*time.Second) {
		t.Fatalf("Seen = false, want true")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Seen took %v, want it to wake on the hit", d)
	}
}

func TestStartRejectsBadPublicURL(t *testing.T) {
	if _, err := Start(t.Context(), "", "ftp://x"); err == nil {
		t.Errorf("Start with ftp public URL: nil error, want one")
	}
}

func TestListenerServesPage(t *testing.T) {
	l, err := Start(t.Context(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, tok := l.New()
	u, want := l.Page(tok)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || string(b) != want || !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET %s = %d %s %q, want 200 text/html %q", u, resp.StatusCode, ct, b, want)
	}
	if !strings.Contains(want, tok) || !strings.HasPrefix(want, "<script>") {
		t.Errorf("Page body %q does not carry a script element with the token", want)
	}
	if !l.Seen(t.Context(), tok, time.Second) {
		t.Errorf("fetching the page did not count as a hit for %s", tok)
	}
	other, _ := l.New()
	if _, body := get(t, strings.Replace(u, tok, other, 1)[:len(u)-len(pagePath)-1]); strings.Contains(body, "<script>") {
		t.Errorf("the plain token URL served the page: %q", body)
	}
}

// TestListenerPageBehindPrefix: with a public URL that has a path (a
// reverse proxy's /cb/), the page is still served and counted.
func TestListenerPageBehindPrefix(t *testing.T) {
	l, err := Start(t.Context(), "", "http://127.0.0.1:1/cb/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, tok := l.New()
	public, want := l.Page(tok)
	if !strings.HasPrefix(public, "http://127.0.0.1:1/cb/"+tok+"/") {
		t.Fatalf("Page(%s) = %q, want it under the public prefix", tok, public)
	}
	// What the proxy forwards keeps the prefix.
	local := "http://" + l.Addr() + strings.TrimPrefix(public, "http://127.0.0.1:1")
	code, body := get(t, local)
	if code != 200 || body != want {
		t.Errorf("GET %s = %d %q, want 200 %q", local, code, body, want)
	}
	if !l.Seen(t.Context(), tok, time.Second) {
		t.Errorf("the page fetch was not counted for %s", tok)
	}
}
