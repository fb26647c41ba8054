package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// actionRun is one run of the action's scan script as a composite step
// runs it: INPUT_* variables and the files GitHub provides.
type actionRun struct {
	code    int
	stdout  string
	summary string
	outputs map[string]string
}

func runAction(t *testing.T, inputs map[string]string) actionRun {
	t.Helper()
	for _, tool := range []string{"bash", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" || os.Getenv("MERLON_REQUIRE_TESTBED") == "1" {
				t.Fatalf("%s is required to test the GitHub Action script: %v", tool, err)
			}
			t.Skipf("%s not installed; the GitHub Action script needs it", tool)
		}
	}
	script, err := filepath.Abs("../.github/actions/merlon-scan.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	workspace := filepath.Join(dir, "workspace")
	runnerTemp := filepath.Join(dir, "runner-temp")
	os.MkdirAll(workspace, 0o755)
	os.MkdirAll(runnerTemp, 0o755)
	summary := filepath.Join(dir, "step_summary.md")
	output := filepath.Join(dir, "output.txt")
	// GitHub creates both files before the step runs.
	os.WriteFile(summary, nil, 0o644)
	os.WriteFile(output, nil, 0o644)

	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"GITHUB_ACTIONS=true",
		"GITHUB_WORKSPACE=" + workspace,
		"RUNNER_TEMP=" + runnerTemp,
		"GITHUB_STEP_SUMMARY=" + summary,
		"GITHUB_OUTPUT=" + output,
		"MERLON_BIN=" + merlonBin,
	}
	for k, v := range inputs {
		// Composite steps pass inputs as INPUT_<NAME> with dashes as
		// underscores and the name upper-cased (see action.yml).
		env = append(env, "INPUT_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))+"="+v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = workspace
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run action script: %v", err)
	}
	sum, _ := os.ReadFile(summary)
	outs := map[string]string{}
	f, err := os.Open(output)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			t.Errorf("GITHUB_OUTPUT line %q is not name=value", sc.Text())
		}
		outs[k] = v
	}
	return actionRun{code: code, stdout: out.String(), summary: string(sum), outputs: outs}
}

func TestActionScript(t *testing.T) {
	var cors atomic.Bool
	var authed atomic.Int64
	api := gatedAPI(&cors)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer s3cr3t-token" && r.Header.Get("X-Tenant") == "7" {
			authed.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	sarif := filepath.Join(t.TempDir(), "merlon.sarif")

	// A clean run: exit 0, summary, outputs, SARIF, headers sent and masked.
	r := runAction(t, map[string]string{
		"url":        srv.URL,
		"headers":    "Authorization: Bearer s3cr3t-token\r\n\nX-Tenant: 7\n",
		"fail-on":    "new:high",
		"sarif-file": sarif,
		"args":       "--profile quick  --rate 0",
	})
	if r.code != 0 {
		t.Fatalf("clean run: exit %d, want 0\n%s", r.code, r.stdout)
	}
	if authed.Load() == 0 {
		t.Errorf("the headers input did not reach the API")
	}
	if !strings.Contains(r.stdout, "::add-mask::Bearer s3cr3t-token") {
		t.Errorf("header values are not masked in the log:\n%s", r.stdout)
	}
	report := r.outputs["report"]
	if report == "" {
		t.Fatalf("no report output; outputs %v\n%s", r.outputs, r.stdout)
	}
	rep := readReport(t, report)
	if got, want := r.outputs["score"], strconv.Itoa(rep.Score.Overall); got != want {
		t.Errorf("score output = %q, want %q", got, want)
	}
	if got := r.outputs["grade"]; got != rep.Score.Grade || got == "" || got == "N/A" {
		t.Errorf("grade output = %q, want %q", got, rep.Score.Grade)
	}
	if got, want := r.outputs["findings-count"], strconv.Itoa(len(rep.Findings)); got != want || want == "0" {
		t.Errorf("findings-count output = %q, want %q (the low header finding)", got, want)
	}
	if r.outputs["exit-code"] != "0" || r.outputs["sarif-file"] != sarif {
		t.Errorf("outputs = %v", r.outputs)
	}
	if !strings.Contains(r.summary, rep.Score.Grade) || !strings.Contains(r.summary, "misconfig.security-headers") {
		t.Errorf("job summary lacks the grade or the finding:\n%s", r.summary)
	}
	data, err := os.ReadFile(sarif)
	if err != nil {
		t.Fatalf("no SARIF file: %v", err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 {
		t.Errorf("SARIF = %v, %+v; want version 2.1.0 with results", err, log)
	}

	// The API regresses: the same step now fails the job, with outputs.
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	b, _ := os.ReadFile(report)
	os.WriteFile(baseline, b, 0o644)
	cors.Store(true)
	r = runAction(t, map[string]string{"url": srv.URL, "fail-on": "new:high", "baseline": baseline, "args": "--profile quick"})
	if r.code != 1 || r.outputs["exit-code"] != "1" {
		t.Fatalf("new high finding: exit %d (output %q), want 1\n%s", r.code, r.outputs["exit-code"], r.stdout)
	}
	if !strings.Contains(r.summary, "misconfig.cors") || r.outputs["grade"] == "" {
		t.Errorf("failing run: summary or outputs missing; outputs %v\n%s", r.outputs, r.summary)
	}
	if !strings.Contains(r.stdout, "new high misconfig.cors") {
		t.Errorf("log does not say why the job failed:\n%s", r.stdout)
	}

	// The same with the finding suppressed: pass, and the count drops.
	sup := filepath.Join(t.TempDir(), "sup.yaml")
	os.WriteFile(sup, []byte("- check: misconfig.cors\n  reason: public API\n  expires: "+time.Now().AddDate(0, 0, 7).Format("2006-01-02")+"\n"), 0o644)
	r2 := runAction(t, map[string]string{"url": srv.URL, "fail-on": "new:high", "baseline": baseline, "suppressions": sup, "args": "--profile quick"})
	if r2.code != 0 || r2.outputs["findings-count"] != strconv.Itoa(len(rep.Findings)) {
		t.Errorf("suppressed: exit %d, findings-count %q; want 0 and %d\n%s", r2.code, r2.outputs["findings-count"], len(rep.Findings), r2.stdout)
	}
}

func TestActionScriptFailures(t *testing.T) {
	closed := "http://" + closedPort(t)
	tests := []struct {
		name   string
		inputs map[string]string
		code   int
		want   string
	}{
		{"unreachable target", map[string]string{"url": closed, "fail-on": "new:low"}, 3, "did not produce a report"},
		{"no url", map[string]string{"fail-on": "high"}, 2, "url input is required"},
		{"bad active", map[string]string{"url": closed, "active": "maybe"}, 2, "must be true or false"},
		{"bad fail-on", map[string]string{"url": closed, "fail-on": "urgent"}, 2, "--fail-on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runAction(t, tt.inputs)
			if r.code != tt.code || !strings.Contains(r.stdout, tt.want) {
				t.Fatalf("exit %d, want %d with %q in the log\n%s", r.code, tt.code, tt.want, r.stdout)
			}
			if _, ok := r.outputs["score"]; ok {
				t.Errorf("a failed scan set a score output: %v", r.outputs)
			}
			if r.summary != "" {
				t.Errorf("a failed scan wrote a job summary:\n%s", r.summary)
			}
		})
	}
}
