package e2e

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/merlonsec/merlon/internal/demo"
)

// TestDashboardInBrowser drives the dashboard of a built `merlon serve` in
// headless Chromium through a team's first session: set up the account,
// add a teammate, sign out and sign in as the teammate through the form,
// add a target, scan it, read the findings and the chart, mark a finding a
// false positive, change the target, scan again and read the diff: what
// the change broke (new) and what it fixed. Screenshots of each step go to
// $MERLON_SCREENSHOTS, else e2e/screenshots.
func TestDashboardInBrowser(t *testing.T) {
	chrome := dashChromium(t)
	// The target is the demo API, changed between the two scans. Before:
	// it answers no cross-origin request (the Origin header is dropped)
	// and sends no X-Content-Type-Options. After: a new CORS policy
	// reflects every origin with credentials (a new finding) and the
	// header is set (a fixed one).
	demoAPI := demo.New().Handler()
	var changed atomic.Bool
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if changed.Load() {
			w.Header().Set("X-Content-Type-Options", "nosniff")
		} else {
			r.Header.Del("Origin")
		}
		demoAPI.ServeHTTP(w, r)
	}))
	defer api.Close()
	const (
		newTitle   = "CORS reflects any origin with credentials"
		fixedTitle = "Missing or weak X-Content-Type-Options header"
	)
	base := startServe(t)
	ctx := dashBrowser(t, chrome)
	shots := screenshotDir(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		p := filepath.Join(shots, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			shot("failed-text")
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	waitDone := func() string {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#scan-status") || {}).textContent || ""`))
			if status == "done" || status == "failed" {
				return status
			}
			if time.Now().After(deadline) {
				shot("failed-scan-timeout")
				t.Fatalf("scan still %q after 2 minutes", status)
			}
			// The page reloads itself while the scan runs; read it again.
			do("wait for progress", chromedp.Sleep(700*time.Millisecond))
		}
	}

	// 1. A fresh server sends the first visitor to set up the account.
	do("open dashboard", chromedp.Navigate(base+"/"), chromedp.WaitVisible(`input[name=password2]`))
	shot("01-setup")
	do("create account",
		chromedp.SendKeys(`input[name=email]`, "owner@example.com"),
		chromedp.SendKeys(`input[name=password]`, "a long enough password"),
		chromedp.SendKeys(`input[name=password2]`, "a long enough password"),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`input[name=url]`),
	)
	if got := text(".who"); got != "owner@example.com" {
		t.Fatalf("signed-in user = %q, want owner@example.com", got)
	}

	// The owner adds a teammate, signs out, and the teammate signs in
	// through the sign-in form; a wrong password is refused first.
	const mate, matePassword = "ana@example.com", "ana's long password"
	do("open users", chromedp.Click(`nav a[href="/users"]`), chromedp.WaitVisible(`#user-form`))
	do("add user",
		chromedp.SendKeys(`#user-form input[name=email]`, mate),
		chromedp.SendKeys(`#user-form input[name=password]`, matePassword),
		chromedp.SendKeys(`#user-form input[name=password2]`, matePassword),
		chromedp.Click(`#user-form button[type=submit]`),
		chromedp.WaitVisible(`#user-added`),
	)
	if got := text("#users"); !strings.Contains(got, mate) || !strings.Contains(got, "owner@example.com") {
		t.Errorf("users table = %q, want the owner and %s", got, mate)
	}
	shot("01b-user-added")
	do("sign out", chromedp.Click(`.signout button[type=submit]`), chromedp.WaitVisible(`form[action="/signin"] input[name=email]`))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".who, input[name=password2]").length`)); n != 0 {
		t.Fatalf("after signing out the page shows a user or the setup form (%d elements), want the sign-in form", n)
	}
	do("wrong password",
		chromedp.SendKeys(`input[name=email]`, mate),
		chromedp.SendKeys(`input[name=password]`, "not the password"),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`.error`),
	)
	if got := text(".error"); !strings.Contains(got, "Wrong email or password") {
		t.Errorf("sign-in with a wrong password says %q", got)
	}
	shot("01c-signin")
	// The refused form comes back with the email filled in.
	do("sign in",
		chromedp.SendKeys(`input[name=password]`, matePassword),
		chromedp.Click(`form button[type=submit]`),
		chromedp.WaitVisible(`.who`),
	)
	if got := text(".who"); got != mate {
		t.Fatalf("signed-in user = %q, want %s", got, mate)
	}

	// 2. Add the demo API.
	do("add target",
		chromedp.SendKeys(`input[name=name]`, "Demo API"),
		chromedp.SendKeys(`input[name=url]`, api.URL),
		chromedp.SendKeys(`input[name=spec]`, api.URL+"/openapi.json"),
		chromedp.Click(`form.grid button[type=submit]`),
		chromedp.WaitVisible(`#settings`),
	)
	shot("02-target-added")

	// 3. Start a passive scan and watch it finish.
	do("start scan", chromedp.Click(`a.button[href^="/scans/new"]`), chromedp.WaitVisible(`#scan-form`))
	shot("03-start-scan")
	do("submit scan", chromedp.Click(`#scan-form button[type=submit]`), chromedp.WaitVisible(`#scan-status`))
	shot("04-scan-progress")
	if st := waitDone(); st != "done" {
		shot("failed-first-scan")
		t.Fatalf("first scan ended %q", st)
	}
	shot("05-scan-done")

	// 4. The target page: chart and findings.
	do("open target", chromedp.Click(`main > p > a[href^="/targets/"]`), chromedp.WaitVisible(`#score-chart`))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("table.findings tbody tr").length`))
	if err != nil || rows == 0 {
		t.Fatalf("target page lists %d findings (%v), want some", rows, err)
	}
	points, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#score-chart circle").length`))
	if err != nil || points != 1 {
		t.Errorf("score chart has %d points (%v), want 1 after one scan", points, err)
	}
	shot("06-target-findings-chart")

	// 5. Mark the first finding a false positive.
	title := text(`table.findings tbody tr td:nth-child(2) a`)
	do("open finding", chromedp.Click(`table.findings tbody tr td:nth-child(2) a`), chromedp.WaitVisible(`#status-form`))
	shot("07-finding")
	do("set status",
		chromedp.SetValue(`select[name=state]`, "false_positive"),
		chromedp.SendKeys(`#status-form input[name=reason]`, "test fixture data"),
		chromedp.Click(`#status-form button[type=submit]`),
	)
	// The form posts back to this same page: wait for the new state
	// rather than for an element the old page has too.
	for deadline := time.Now().Add(15 * time.Second); ; {
		// Evaluate, not Text: the node may vanish mid-query while the
		// page is replaced.
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#finding-state") || {}).textContent || ""`))
		if got == "false positive" {
			break
		}
		if time.Now().After(deadline) {
			shot("failed-status")
			t.Fatalf("finding %q state after saving = %q, want false positive", title, got)
		}
		do("wait for the saved status", chromedp.Sleep(200*time.Millisecond))
	}
	shot("08-finding-false-positive")

	// 6. Change the target, scan again and read the diff.
	changed.Store(true)
	do("back to target", chromedp.Click(`main > p > a[href^="/targets/"]`), chromedp.WaitVisible(`#score-chart`))
	do("start second scan", chromedp.Click(`a.button[href^="/scans/new"]`), chromedp.WaitVisible(`#scan-form`),
		chromedp.Click(`#scan-form button[type=submit]`), chromedp.WaitVisible(`#scan-status`))
	if st := waitDone(); st != "done" {
		t.Fatalf("second scan ended %q", st)
	}
	do("see scan diff", chromedp.WaitVisible(`#diff`))
	shot("09-second-scan-diff")
	diffLists := func(where string) {
		t.Helper()
		// Evaluate, not Text, which would wait for a list that is absent.
		for _, l := range []struct{ sel, want string }{{"ul.new", newTitle}, {"ul.fixed", fixedTitle}} {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#diff ~ .diff `+l.sel+`") || {}).textContent || ""`))
			if err != nil || !strings.Contains(got, l.want) {
				t.Errorf("%s: %s = %q (%v), want %q in it", where, l.sel, got, err, l.want)
			}
		}
	}
	diffLists("scan page")
	do("open target again", chromedp.Click(`main > p > a[href^="/targets/"]`), chromedp.WaitVisible(`#score-chart`))
	body := text("main")
	for _, want := range []string{"Since the previous scan", "New (", "Fixed (", "false positive"} {
		if !strings.Contains(body, want) {
			t.Errorf("target page after two scans lacks %q", want)
		}
	}
	diffLists("target page")
	points, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#score-chart circle").length`))
	if err != nil || points != 2 {
		t.Errorf("score chart has %d points (%v), want 2 after two scans", points, err)
	}
	shot("10-target-after-two-scans")
}

// startServe runs the built binary's `serve` on a free port with a fresh
// SQLite database and returns its base URL once it answers.
func startServe(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, merlonBin, "serve", "--addr", addr, "--db", filepath.Join(t.TempDir(), "merlon.db"), "--allow-private-targets")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start merlon serve: %v", err)
	}
	logs := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case logs <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			close(logs)
			for l := range logs {
				t.Log("serve: " + l)
			}
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/signin")
		if err == nil {
			resp.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			t.Fatalf("merlon serve did not answer on %s within 30s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// screenshotDir is where screenshots go: $MERLON_SCREENSHOTS, else
// e2e/screenshots (ignored by git).
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MERLON_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

// dashChromium finds Debian's Chromium. It fails rather than skips in CI
// and on machines set up as a testbed, where the browser must be there.
func dashChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" || os.Getenv("MERLON_REQUIRE_TESTBED") == "1" {
		t.Fatal("chromium is not installed (run scripts/deps.sh); the dashboard browser test cannot run")
	}
	t.Skip("chromium is not installed (run scripts/deps.sh)")
	return ""
}

// dashBrowser starts a headless Chromium with a fresh profile and no
// background traffic, bounded by five minutes.
func dashBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	return bctx
}
