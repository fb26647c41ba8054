package mcpcmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/mcpserver"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Options
		wantErr bool
	}{
		{"defaults", nil, Options{MaxTime: mcpserver.DefaultMaxTime}, false},
		{"dir and time", []string{"--dir", "/tmp/scans", "--max-time", "5m"}, Options{Dir: "/tmp/scans", MaxTime: 5 * time.Minute}, false},
		{"quiet", []string{"-q"}, Options{MaxTime: mcpserver.DefaultMaxTime, Quiet: true}, false},
		{"argument", []string{"http://127.0.0.1"}, Options{}, true},
		{"unknown flag", []string{"--port", "1"}, Options{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Options
			ios := cmdutil.NewIO(strings.NewReader(""), io.Discard, io.Discard)
			cmd := NewCmd(ios, func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if (err != nil) != tt.wantErr {
				t.Fatalf("mcp %v: err = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			got.IO = nil
			if *got != tt.want {
				t.Errorf("mcp %v: options = %+v, want %+v", tt.args, *got, tt.want)
			}
		})
	}
}

func TestRunRejectsBadMaxTime(t *testing.T) {
	ios := cmdutil.NewIO(strings.NewReader(""), io.Discard, io.Discard)
	err := Run(context.Background(), &Options{IO: ios, MaxTime: 0})
	var ue *cmdutil.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("Run(max-time 0) = %v, want a usage error", err)
	}
}

// lockedBuffer records what the server writes to stdout.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunServesStdio drives Run over pipes standing in for stdin and
// stdout, and checks that stdout carries nothing but protocol messages.
func TestRunServesStdio(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var stdout lockedBuffer
	var stderr lockedBuffer
	ios := cmdutil.NewIO(inR, io.MultiWriter(outW, &stdout), &stderr)

	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), &Options{IO: ios, MaxTime: time.Minute})
		outW.Close()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "merlon-test", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: outR, Writer: inW}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if got := cs.InitializeResult().ServerInfo.Name; got != "merlon" {
		t.Errorf("server name = %q, want merlon", got)
	}
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatalf("ListTools: %v", err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if want := []string{"get_scan", "list_scans", "scan_api"}; !slices.Equal(names, want) {
		t.Errorf("tools = %v, want %v", names, want)
	}
	bad, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "scan_api", Arguments: map[string]any{"url": "gopher://127.0.0.1/"}})
	if err != nil {
		t.Fatalf("CallTool: %v", err)
	}
	if !bad.IsError {
		t.Errorf("scan_api(gopher://) = success, want a tool error")
	}

	// Closing stdin ends the server cleanly.
	cs.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after stdin closed = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after stdin closed")
	}

	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		var msg struct {
			JSONRPC string `json:"jsonrpc"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil || msg.JSONRPC != "2.0" {
			t.Errorf("stdout line is not a JSON-RPC message: %q", sc.Text())
		}
		lines++
	}
	if lines < 3 {
		t.Errorf("stdout has %d protocol lines, want at least 3 (initialize, tools/list, tools/call)", lines)
	}
}
