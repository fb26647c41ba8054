package workercmd

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no db", nil},
		{"sqlite", []string{"--db", "/tmp/merlon.db"}},
		{"no workers", []string{"--db", "postgres://127.0.0.1:1/x", "--workers", "0"}},
		{"argument", []string{"extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errOut bytes.Buffer
			cmd := NewCmd(cmdutil.NewIO(nil, &bytes.Buffer{}, &errOut), nil)
			cmd.SetArgs(tt.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.ExecuteContext(context.Background())
			var ue *cmdutil.UsageError
			if !errors.As(err, &ue) {
				t.Errorf("worker %v = %v, want a usage error", tt.args, err)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	var got *Options
	cmd := NewCmd(cmdutil.NewIO(nil, &bytes.Buffer{}, &bytes.Buffer{}), func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--db", "postgres://h/db", "--workers", "4", "--id", "w1", "--rescue-after", "10s", "--job-timeout", "5s",
		"--stop-grace", "3s", "--allow-private-targets"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.DB != "postgres://h/db" || got.Workers != 4 || got.ID != "w1" || got.RescueAfter.Seconds() != 10 || got.JobTimeout.Seconds() != 5 ||
		got.StopGrace.Seconds() != 3 || !got.AllowPrivateTargets {
		t.Errorf("worker flags = %+v", *got)
	}
}
