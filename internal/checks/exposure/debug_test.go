package exposure_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/exposure"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

// TestDebugPagesBasePath: for an API under /api/v1, management endpoints
// are asked for under the base and at the origin's root, where
// frameworks mount them, and each finding names its path from the origin.
func TestDebugPagesBasePath(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", coverage.ExposureVulnerable()) // /actuator… at the root
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", coverage.ExposureClean()))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/api/v1")
	fs, err := exposure.DebugPages{}.Run(t.Context(), &scan.Target{BaseURL: u}, engine.New(engine.Config{BaseURL: u}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Location)
	}
	want := "/console /actuator/env /actuator/heapdump /actuator"
	if strings.Join(got, " ") != want {
		t.Errorf("DebugPages locations under /api/v1 = %q, want %q", strings.Join(got, " "), want)
	}
}
