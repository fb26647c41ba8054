package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/sqlite"
)

// localRunner is an in-process Enqueuer: it runs each scan with
// pipeline.Run in a goroutine, as the real job worker does, without a
// queue. It exists so handler tests see real reports.
type localRunner struct {
	st store.Store
	wg sync.WaitGroup
	mu sync.Mutex
	// errs collects failures the test should report.
	errs []error
}

func (l *localRunner) EnqueueScan(ctx context.Context, id int64) error {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		if err := l.run(context.WithoutCancel(ctx), id); err != nil {
			l.mu.Lock()
			l.errs = append(l.errs, err)
			l.mu.Unlock()
		}
	}()
	return nil
}

func (l *localRunner) run(ctx context.Context, id int64) error {
	sc, err := l.st.GetScan(ctx, id)
	if err != nil {
		return err
	}
	t, err := l.st.GetTarget(ctx, sc.TargetID)
	if err != nil {
		return err
	}
	if err := l.st.UpdateScanStatus(ctx, id, store.StatusRunning, ""); err != nil {
		return err
	}
	u, err := url.Parse(t.URL)
	if err != nil {
		return err
	}
	rep, err := pipeline.Run(ctx, pipeline.Config{
		Target:      u,
		Spec:        t.Spec,
		Profile:     scan.Quick,
		Active:      sc.Active,
		Checks:      checks.All(),
		ToolVersion: "test",
		Progress: func(p pipeline.Progress) {
			pct := 0
			if p.ChecksTotal > 0 {
				pct = 100 * p.ChecksDone / p.ChecksTotal
			}
			_ = l.st.UpdateScanProgress(ctx, id, pct, p.Phase)
		},
	})
	if err != nil {
		return l.st.UpdateScanStatus(ctx, id, store.StatusFailed, err.Error())
	}
	if err := l.st.SaveReport(ctx, id, rep); err != nil {
		return err
	}
	return l.st.UpdateScanStatus(ctx, id, store.StatusDone, "")
}

// env is a Server on a fresh SQLite store, with a signed-in admin.
type env struct {
	t      *testing.T
	st     store.Store
	srv    *Server
	h      http.Handler
	runner *localRunner
	user   *store.User
	// cookie is the admin's session cookie value; csrf its form token.
	cookie string
	csrf   string
	// token is an API token of the admin.
	token string
}

func newEnv(t *testing.T, allowPrivate bool) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "merlon.db"))
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	r := &localRunner{st: st}
	t.Cleanup(func() {
		r.wg.Wait()
		st.Close()
		for _, err := range r.errs {
			t.Errorf("background scan: %v", err)
		}
	})
	srv, err := New(Options{Store: st, Jobs: r, AllowPrivateTargets: allowPrivate, Version: "test"})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	e := &env{t: t, st: st, srv: srv, h: srv.Handler(), runner: r}
	e.user = &store.User{Email: "admin@example.com", PasswordHash: adminHash(t)}
	if err := st.CreateUser(ctx, e.user); err != nil {
		t.Fatalf("CreateUser = %v", err)
	}
	if e.cookie, err = store.NewToken(); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, &store.Session{TokenHash: store.HashToken(e.cookie), UserID: e.user.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	e.csrf = csrfFor(e.cookie)
	if e.token, _, err = srv.createToken(ctx, e.user, "test"); err != nil {
		t.Fatalf("createToken = %v", err)
	}
	return e
}

// do sends one request to the handler. hdr may hold "Cookie: session" as
// the pseudo-header "session" to sign in, and "bearer" to use the token.
func (e *env) do(method, target string, body io.Reader, hdr map[string]string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		switch k {
		case "session":
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: e.cookie})
		case "bearer":
			req.Header.Set("Authorization", "Bearer "+e.token)
		default:
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// page GETs a page as the signed-in admin.
func (e *env) page(target string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(http.MethodGet, target, nil, map[string]string{"session": ""})
}

// post submits a form as the signed-in admin with the right CSRF token.
func (e *env) post(target string, form url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set(csrfField, e.csrf)
	return e.do(http.MethodPost, target, strings.NewReader(form.Encode()),
		map[string]string{"session": "", "Content-Type": "application/x-www-form-urlencoded"})
}

// api sends a JSON request with the admin's API token.
func (e *env) api(method, target, body string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(method, target, strings.NewReader(body), map[string]string{"bearer": "", "Content-Type": "application/json"})
}

// waitScan waits until a scan is final and returns it.
func (e *env) waitScan(id int64) *store.Scan {
	e.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		sc, err := e.st.GetScan(context.Background(), id)
		if err != nil {
			e.t.Fatalf("GetScan(%d) = %v", id, err)
		}
		if sc.Status.Final() {
			return sc
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("scan %d still %s after 90s", id, sc.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fixedLookup resolves every name to the given addresses.
func fixedLookup(addrs ...string) func(context.Context, string) ([]net.IPAddr, error) {
	return func(context.Context, string) ([]net.IPAddr, error) {
		var out []net.IPAddr
		for _, a := range addrs {
			out = append(out, net.IPAddr{IP: net.ParseIP(a)})
		}
		return out, nil
	}
}

var idInLocation = regexp.MustCompile(`/(\d+)`)

// locationID returns the first number in a redirect's Location.
func locationID(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	m := idInLocation.FindStringSubmatch(rec.Header().Get("Location"))
	if m == nil {
		t.Fatalf("Location = %q, want an id in it (status %d, body %s)", rec.Header().Get("Location"), rec.Code, rec.Body.String())
	}
	return m[1]
}

// browser is a cookie-keeping client for tests through a real listener.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// newEnvNoUser is a Server on a fresh store with no account yet.
func newEnvNoUser(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "merlon.db"))
	if err != nil {
		t.Fatalf("sqlite.Open = %v", err)
	}
	t.Cleanup(func() { st.Close() })
	r := &localRunner{st: st}
	srv, err := New(Options{Store: st, Jobs: r, AllowPrivateTargets: true})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	return &env{t: t, st: st, srv: srv, h: srv.Handler(), runner: r}
}

// startServer serves e on a real 127.0.0.1 listener and returns its URL.
func startServer(t *testing.T, e *env) string {
	t.Helper()
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200: %s", u, resp.StatusCode, b)
	}
	return string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// formToken returns the CSRF token of the first form in a page.
func formToken(t *testing.T, body string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token in page:\n%s", body)
	}
	return m[1]
}

// adminHash is the bcrypt hash of the test admin's password, computed once:
// bcrypt is slow on purpose, and more so under -race.
var adminHash = func() func(*testing.T) string {
	var once sync.Once
	var h string
	var err error
	return func(t *testing.T) string {
		t.Helper()
		once.Do(func() { h, err = store.HashPassword("correct horse battery") })
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}()
