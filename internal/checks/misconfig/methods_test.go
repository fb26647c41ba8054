package misconfig_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/misconfig"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

func TestDangerousMethods(t *testing.T) {
	tests := []struct {
		name string
		h    http.Handler
		opts []checktest.Option
		want string // location:confidence, comma-joined
	}{
		{"advertised, passive", coverage.MisconfigVulnerable(), nil, "TRACE:possible,WebDAV:possible"},
		{"trace confirmed, active", coverage.MisconfigVulnerable(), []checktest.Option{checktest.WithActive()}, "TRACE:confirmed,WebDAV:possible"},
		{"clean, passive", coverage.MisconfigClean(), nil, ""},
		{"clean, active", coverage.MisconfigClean(), []checktest.Option{checktest.WithActive()}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, misconfig.DangerousMethods{}, tt.h, tt.opts...)
			var got []string
			for _, f := range fs {
				got = append(got, f.Location+":"+f.Confidence.String())
				if f.Location == "TRACE" && f.Confidence == scan.Confirmed && f.Severity != scan.Medium {
					t.Errorf("confirmed TRACE severity = %v, want medium", f.Severity)
				}
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("DangerousMethods = %q, want %q", g, tt.want)
			}
		})
	}
}
