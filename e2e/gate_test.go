package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// gatedAPI is a small JSON API with one low finding all the time (no
// X-Content-Type-Options) and, while cors is set, a high one: CORS that
// reflects any origin with credentials.
func gatedAPI(cors *atomic.Bool) http.Handler {
	write := func(w http.ResponseWriter, r *http.Request, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if o := r.Header.Get("Origin"); o != "" && cors.Load() {
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, 200, `{"openapi":"3.0.3","info":{"title":"gated","version":"1"},"paths":{
		  "/items":{"get":{"responses":{"200":{"description":"ok"}}}},
		  "/items/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"},"example":1}],"responses":{"200":{"description":"ok"}}}}}}`)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, 200, `[{"id":1,"name":"one"}]`)
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, 200, `{"id":1,"name":"one"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		write(w, r, 404, `{"error":"not found"}`)
	})
	return mux
}

func readReport(t *testing.T, path string) *scan.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read report: %v", err)
	}
	var rep scan.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report %s is not JSON: %v", path, err)
	}
	return &rep
}

func findingOf(rep *scan.Report, check string) *scan.Finding {
	for i := range rep.Findings {
		if rep.Findings[i].CheckID == check {
			return &rep.Findings[i]
		}
	}
	return nil
}

func TestBaselineGate(t *testing.T) {
	var cors atomic.Bool
	srv := httptest.NewServer(gatedAPI(&cors))
	defer srv.Close()
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scanArgs := func(out string, extra ...string) []string {
		return append([]string{"scan", srv.URL, "--profile", "quick", "--format", "json", "-o", filepath.Join(dir, out)}, extra...)
	}
	expect := func(step string, r result, code int, stderrHas ...string) {
		t.Helper()
		if r.code != code {
			t.Fatalf("%s: exit code = %d, want %d\nstderr: %s", step, r.code, code, r.stderr)
		}
		for _, s := range stderrHas {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("%s: stderr lacks %q\n%s", step, s, r.stderr)
			}
		}
	}

	// The first run is the baseline; it has only a low finding.
	expect("baseline run", run(t, scanArgs("base.json", "--fail-on", "new:high")...), 0)
	base := filepath.Join(dir, "base.json")
	if low := findingOf(readReport(t, base), "misconfig.security-headers"); low == nil || low.Severity != scan.Low {
		t.Fatalf("baseline lacks the low security-headers finding: %+v", readReport(t, base).Findings)
	}

	// Same target again: nothing new.
	expect("same target twice", run(t, scanArgs("same.json", "--baseline", base, "--fail-on", "new:high")...), 0)

	// The server starts reflecting origins with credentials: a new high.
	cors.Store(true)
	r := run(t, scanArgs("new.json", "--baseline", base, "--fail-on", "new:high")...)
	expect("new high finding", r, 1, "new high misconfig.cors")
	newRep := readReport(t, filepath.Join(dir, "new.json"))
	high := findingOf(newRep, "misconfig.cors")
	if high == nil || high.Severity != scan.High {
		t.Fatalf("new report lacks the high CORS finding: %+v", newRep.Findings)
	}
	// A lower threshold still fails on the new high; the old low is not new.
	expect("new:low with a new high", run(t, scanArgs("x.json", "--baseline", base, "--fail-on", "new:low")...), 1)
	// Without new:, every finding at or above the threshold counts.
	expect("plain threshold above every finding", run(t, scanArgs("x.json", "--baseline", base, "--fail-on", "critical")...), 0)

	// The team accepts the risk until a day in the future: pass, and the
	// JSON report keeps the finding, marked suppressed.
	future := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	sup := file("suppressions.yaml", "- fingerprint: "+high.Fingerprint+"\n  reason: public read-only API, no cookies\n  expires: "+future+"\n")
	expect("suppressed", run(t, scanArgs("sup.json", "--baseline", base, "--fail-on", "new:high", "--suppressions", sup)...), 0)
	supRep := readReport(t, filepath.Join(dir, "sup.json"))
	if f := findingOf(supRep, "misconfig.cors"); f == nil || f.Suppressed == nil || f.Suppressed.Reason != "public read-only API, no cookies" || f.Suppressed.Expires != future {
		t.Errorf("suppressed finding in the report = %+v, want it kept and marked with reason and expiry", f)
	}
	if supRep.Score.Overall <= newRep.Score.Overall {
		t.Errorf("score with the high suppressed = %d, want above %d (suppressed findings do not count)", supRep.Score.Overall, newRep.Score.Overall)
	}

	// An expired acceptance no longer applies, and says so.
	past := time.Now().AddDate(0, 0, -2).Format("2006-01-02")
	expired := file("expired.yaml", "- check: misconfig.cors\n  reason: temporary\n  expires: "+past+"\n")
	expect("expired suppression", run(t, scanArgs("exp.json", "--baseline", base, "--fail-on", "new:high", "--suppressions", expired)...),
		1, "expired on "+past)

	// A WARN rule keeps the finding in the report but never fails.
	warn := file("warn.rules", "# rules\nmisconfig.cors\tWARN\tstaging only\n")
	expect("rules WARN", run(t, scanArgs("warn.json", "--baseline", base, "--fail-on", "new:high", "--rules", warn)...), 0, "WARN")
	if findingOf(readReport(t, filepath.Join(dir, "warn.json")), "misconfig.cors") == nil {
		t.Errorf("WARN dropped the finding from the report")
	}

	// IGNORE drops it.
	ignore := file("ignore.rules", "misconfig.cors\tIGNORE\n")
	expect("rules IGNORE", run(t, scanArgs("ign.json", "--baseline", base, "--fail-on", "new:high", "--rules", ignore)...), 0)
	if findingOf(readReport(t, filepath.Join(dir, "ign.json")), "misconfig.cors") != nil {
		t.Errorf("IGNORE kept the finding in the report")
	}

	// FAIL on a low that is in the baseline fails regardless of --fail-on.
	cors.Store(false)
	fail := file("fail.rules", "misconfig.security-headers\tFAIL\n")
	expect("rules FAIL on a low", run(t, scanArgs("fail.json", "--baseline", base, "--fail-on", "new:high", "--rules", fail)...),
		1, "FAIL")
	expect("rules FAIL without --fail-on", run(t, scanArgs("fail2.json", "--rules", fail)...), 1)

	// diff sees the same: one new high between the baseline and new.json.
	d := run(t, "diff", base, filepath.Join(dir, "new.json"), "--fail-on-new", "high")
	expect("diff --fail-on-new", d, 1)
	if !strings.Contains(d.stdout, "1 new, 0 fixed") || !strings.Contains(d.stdout, "misconfig.cors") {
		t.Errorf("diff output:\n%s", d.stdout)
	}
	expect("diff without a threshold", run(t, "diff", base, filepath.Join(dir, "new.json"), "--format", "markdown"), 0)

	// report re-renders a saved scan.
	rr := run(t, "report", filepath.Join(dir, "new.json"), "--format", "text")
	expect("report", rr, 0)
	if !strings.Contains(rr.stdout, "misconfig.cors") || !strings.Contains(rr.stdout, newRep.Score.Grade) {
		t.Errorf("report text lacks the finding or grade:\n%s", rr.stdout)
	}
	// JUnit has a case per check × operation tested: passing where a check
	// found nothing, failing on the whole target for the CORS finding.
	ju := run(t, "report", filepath.Join(dir, "new.json"), "--format", "junit")
	expect("report junit", ju, 0)
	for _, want := range []string{
		`<testcase name="GET /items" classname="misconfig.version-disclosure" time="0"></testcase>`,
		`<testcase name="GET /items/{id}" classname="misconfig.version-disclosure" time="0"></testcase>`,
		`<testcase name="whole target" classname="misconfig.cors" time="0">`,
	} {
		if !strings.Contains(ju.stdout, want) {
			t.Errorf("junit report lacks %s:\n%s", want, ju.stdout)
		}
	}
}

// TestGateNeverFlipsOnNetworkErrors: an unreachable target exits 3 whatever
// the gate, and bad policy files are usage errors (exit 2) that cost no scan.
func TestGateNeverFlipsOnNetworkErrors(t *testing.T) {
	var cors atomic.Bool
	cors.Store(true)
	srv := httptest.NewServer(gatedAPI(&cors))
	defer srv.Close()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if r := run(t, "scan", srv.URL, "--profile", "quick", "--format", "json", "-o", base); r.code != 0 {
		t.Fatalf("baseline: exit %d\n%s", r.code, r.stderr)
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	closed := "http://" + closedPort(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unreachable with new:info", []string{"scan", closed, "--fail-on", "new:info"}, 3, "cannot connect"},
		{"unreachable with FAIL rules", []string{"scan", closed, "--rules", write("all.rules", "misconfig\tFAIL\n")}, 3, "cannot connect"},
		{"baseline of another target", []string{"scan", closed, "--baseline", base, "--fail-on", "new:high"}, 2, "--baseline"},
		{"missing baseline", []string{"scan", srv.URL, "--baseline", filepath.Join(dir, "nope.json")}, 2, "does not exist"},
		{"malformed suppressions", []string{"scan", srv.URL, "--suppressions", write("bad.yaml", "- check: [x\n")}, 2, "--suppressions"},
		{"bad date", []string{"scan", srv.URL, "--suppressions", write("date.yaml", "- check: misconfig.cors\n  reason: x\n  expires: tomorrow\n")}, 2, "is not a date"},
		{"unknown action", []string{"scan", srv.URL, "--rules", write("bad.rules", "misconfig.cors\tBLOCK\n")}, 2, "unknown action"},
		{"bad fail-on", []string{"scan", srv.URL, "--fail-on", "fresh:high"}, 2, "--fail-on"},
		{"report of a missing file", []string{"report", filepath.Join(dir, "nope.json")}, 2, "does not exist"},
		{"diff of a non-report", []string{"diff", base, write("not.json", `{"a":1}`)}, 2, "not a Merlon JSON report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("merlon %v: exit %d, stderr %q; want exit %d mentioning %q", tt.args, r.code, r.stderr, tt.code, tt.want)
			}
			if first := strings.SplitN(strings.TrimSpace(r.stderr), "\n", 2)[0]; !strings.HasPrefix(first, "merlon: ") {
				t.Errorf("first stderr line = %q, want a one-line 'merlon: …' error", first)
			}
		})
	}
}

// TestDiffSkipsChecksThatDidNotComplete: a check that timed out in one scan
// must neither make findings "new" nor "fixed". The CORS check's requests
// (the only ones with an Origin header) hang past --timeout in one scan, so
// the check ends in an error there; diff and the baseline gate agree that
// its finding in the other scan is not compared.
func TestDiffSkipsChecksThatDidNotComplete(t *testing.T) {
	var cors, hang atomic.Bool
	cors.Store(true)
	api := gatedAPI(&cors)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hang.Load() && r.Header.Get("Origin") != "" {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	scanTo := func(name string, extra ...string) (string, result) {
		p := filepath.Join(dir, name)
		args := append([]string{"scan", srv.URL, "--profile", "quick", "--checks", "misconfig.cors,misconfig.security-headers",
			"--format", "json", "-o", p}, extra...)
		return p, run(t, args...)
	}

	// Only the scan meant to hang gets a short --timeout: the complete
	// one must not depend on a loaded machine answering in time.
	complete, r := scanTo("complete.json")
	if r.code != 0 {
		t.Fatalf("complete scan: exit %d\n%s", r.code, r.stderr)
	}
	if f := findingOf(readReport(t, complete), "misconfig.cors"); f == nil || f.Severity != scan.High {
		t.Fatalf("complete scan lacks the high CORS finding")
	}
	hang.Store(true)
	timedOut, r := scanTo("timedout.json", "--timeout", "300ms")
	if r.code != 0 {
		t.Fatalf("timed-out scan: exit %d\n%s", r.code, r.stderr)
	}
	rep := readReport(t, timedOut)
	if findingOf(rep, "misconfig.cors") != nil {
		t.Fatalf("the CORS check found something although every request it sent timed out")
	}
	status := ""
	for _, c := range rep.Checks {
		if c.ID == "misconfig.cors" {
			status = c.Status
		}
	}
	if status != "error" && status != "cancelled" {
		t.Fatalf("misconfig.cors ended %q in the timed-out scan, want error; checks: %+v", status, rep.Checks)
	}

	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"timed out in the old scan: not new", timedOut, complete, "check misconfig.cors did not complete in the old scan"},
		{"timed out in the new scan: not fixed", complete, timedOut, "check misconfig.cors did not complete in the new scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := run(t, "diff", tt.old, tt.new, "--fail-on-new", "info")
			if d.code != 0 {
				t.Fatalf("diff --fail-on-new info: exit %d, want 0 (a timeout is not a new finding)\nstdout: %s\nstderr: %s", d.code, d.stdout, d.stderr)
			}
			for _, want := range []string{"0 new, 0 fixed", "1 not compared", tt.want} {
				if !strings.Contains(d.stdout, want) {
					t.Errorf("diff output lacks %q:\n%s", want, d.stdout)
				}
			}
		})
	}

	// The baseline gate follows the same rule: the CORS finding is not new
	// against a baseline whose CORS check timed out.
	hang.Store(false)
	if _, r := scanTo("gated.json", "--baseline", timedOut, "--fail-on", "new:high"); r.code != 0 {
		t.Errorf("scan --baseline (CORS timed out there) --fail-on new:high: exit %d, want 0\n%s", r.code, r.stderr)
	}
}
