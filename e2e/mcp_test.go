package e2e

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/merlonsec/merlon/internal/demo"
)

// mcpSession starts `merlon mcp args...` and returns a real MCP client
// session to it over the process's stdin and stdout. Its stderr is kept
// for failure messages.
func mcpSession(t *testing.T, ctx context.Context, args ...string) (*mcp.ClientSession, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(merlonBin, append([]string{"mcp"}, args...)...)
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "merlon-e2e", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connect to merlon mcp: %v\nstderr: %s", err, stderr)
	}
	t.Cleanup(func() {
		if err := cs.Close(); err != nil {
			t.Errorf("close session: %v", err)
		}
		if cmd.ProcessState != nil && !cmd.ProcessState.Success() {
			t.Errorf("merlon mcp exited with %v after stdin closed, want 0\nstderr: %s", cmd.ProcessState, stderr)
		}
	})
	return cs, stderr
}

func toolText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, "\n")
}

func TestMCPStdio(t *testing.T) {
	srv := httptest.NewServer(demo.New().Handler())
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "scans")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cs, stderr := mcpSession(t, ctx, "--dir", dir)
	ir := cs.InitializeResult()
	if ir == nil || ir.ServerInfo == nil || ir.ServerInfo.Name != "merlon" {
		t.Fatalf("initialize result = %+v, want server merlon", ir)
	}

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("tools/list: %v\nstderr: %s", err, stderr)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"get_scan", "list_scans", "scan_api"}; !slices.Equal(names, want) {
		t.Fatalf("tools = %v, want %v", names, want)
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "scan_api", Arguments: map[string]any{"url": srv.URL}})
	if err != nil {
		t.Fatalf("scan_api: %v\nstderr: %s", err, stderr)
	}
	if res.IsError {
		t.Fatalf("scan_api(%s) = tool error %q\nstderr: %s", srv.URL, toolText(res), stderr)
	}
	raw, _ := json.Marshal(res.StructuredContent)
	var out struct {
		ScanID      string         `json:"scan_id"`
		Grade       string         `json:"grade"`
		Score       int            `json:"score"`
		Findings    int            `json:"findings"`
		Counts      map[string]int `json:"counts"`
		TopFindings []struct {
			CheckID  string `json:"check_id"`
			Severity string `json:"severity"`
		} `json:"top_findings"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("scan_api structured content %s: %v", raw, err)
	}
	if len(out.Grade) != 1 || !strings.Contains("ABCDF", out.Grade) {
		t.Errorf("grade = %q, want A-F", out.Grade)
	}
	var checks []string
	for _, f := range out.TopFindings {
		checks = append(checks, f.CheckID)
	}
	if !slices.Contains(checks, "misconfig.cors") {
		t.Errorf("top findings %v lack misconfig.cors", checks)
	}
	if out.Findings == 0 || out.Counts["high"]+out.Counts["medium"]+out.Counts["low"]+out.Counts["info"]+out.Counts["critical"] != out.Findings {
		t.Errorf("findings = %d, counts = %v; want > 0 and equal sums", out.Findings, out.Counts)
	}
	if txt := toolText(res); !strings.Contains(txt, "grade "+out.Grade) || !strings.Contains(txt, out.ScanID) {
		t.Errorf("scan_api text = %q, want the grade and scan_id", txt)
	}

	// --dir saved the scan as a JSON report.
	saved, err := os.ReadFile(filepath.Join(dir, out.ScanID+".json"))
	if err != nil {
		t.Fatalf("scan not saved in --dir: %v", err)
	}
	if !strings.Contains(string(saved), `"schemaVersion"`) || !strings.Contains(string(saved), "misconfig.cors") {
		t.Errorf("saved scan is not the JSON report: %.200s", saved)
	}

	got, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "get_scan", Arguments: map[string]any{"scan_id": out.ScanID, "format": "text"}})
	if err != nil || got.IsError {
		t.Fatalf("get_scan: %v %q", err, toolText(got))
	}
	if !strings.Contains(toolText(got), "misconfig.cors") {
		t.Errorf("get_scan report lacks misconfig.cors:\n%s", toolText(got))
	}

	bad, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "scan_api", Arguments: map[string]any{"url": "file:///etc/passwd"}})
	if err != nil {
		t.Fatalf("scan_api(file://) = protocol error %v, want a tool error result", err)
	}
	if !bad.IsError || !strings.Contains(toolText(bad), "scheme") {
		t.Errorf("scan_api(file://) = error %v, %q; want a tool error about the scheme", bad.IsError, toolText(bad))
	}

	// The server survived the bad call and lists the good one.
	list, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_scans"})
	if err != nil || list.IsError {
		t.Fatalf("list_scans: %v %q", err, toolText(list))
	}
	if !strings.Contains(toolText(list), out.ScanID) {
		t.Errorf("list_scans = %q, want %s", toolText(list), out.ScanID)
	}
}

// TestMCPRestartKeepsScans shows that a scan saved with --dir is listed by
// the next server on that directory.
func TestMCPRestartKeepsScans(t *testing.T) {
	srv := httptest.NewServer(demo.New().Handler())
	defer srv.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	first, stderr := mcpSession(t, ctx, "--dir", dir, "--quiet")
	res, err := first.CallTool(ctx, &mcp.CallToolParams{Name: "scan_api", Arguments: map[string]any{"url": srv.URL, "checks": []string{"misconfig"}}})
	if err != nil || res.IsError {
		t.Fatalf("scan_api: %v %q\nstderr: %s", err, toolText(res), stderr)
	}
	var out struct {
		ScanID string `json:"scan_id"`
	}
	raw, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(raw, &out)

	second, _ := mcpSession(t, ctx, "--dir", dir)
	got, err := second.CallTool(ctx, &mcp.CallToolParams{Name: "get_scan", Arguments: map[string]any{"scan_id": out.ScanID, "format": "json"}})
	if err != nil || got.IsError {
		t.Fatalf("get_scan after restart: %v %q", err, toolText(got))
	}
	if !strings.Contains(toolText(got), "misconfig.cors") {
		t.Errorf("get_scan after restart lacks misconfig.cors")
	}
}
