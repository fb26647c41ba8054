package misconfig_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/misconfig"
)

func TestDisclosesVersion(t *testing.T) {
	tests := []struct {
		v           string
		versionOnly bool
		want        bool
	}{
		{"Werkzeug/3.0.1 Python/3.11.2", false, true},
		{"nginx/1.25.3", false, true},
		{"Apache/2.4.57 (Debian)", false, true},
		{"Apache/2", false, true},
		{"Microsoft-IIS/10.0", false, true},
		{"PHP/8.2.12", false, true},
		{"Jetty(9.4.44.v20210927)", false, true},
		{"Phusion Passenger 6.0.18", false, true},
		{"WSGIServer/0.2 CPython/3.12.1", false, true},
		{"4.0.30319", true, true},
		{"5.2", true, true},
		{"Express", false, false},
		{"nginx", false, false},
		{"uvicorn", false, false},
		{"Kestrel", false, false},
		{"ASP.NET", false, false},
		{"cloudflare", false, false},
		{"0.012345", false, false}, // Rails X-Runtime: a duration
		{"4.0.30319", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if got := misconfig.DisclosesVersion(tt.v, tt.versionOnly); got != tt.want {
			t.Errorf("DisclosesVersion(%q, %v) = %v, want %v", tt.v, tt.versionOnly, got, tt.want)
		}
	}
}

func withHeaders(set map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range set {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	})
}

func TestVersionDisclosure(t *testing.T) {
	tests := []struct {
		name string
		set  map[string]string
		want []string
	}{
		{"werkzeug dev server", map[string]string{"Server": "Werkzeug/3.0.1 Python/3.11.2"}, []string{"Server"}},
		{"php and apache", map[string]string{"Server": "Apache/2.4.57 (Debian)", "X-Powered-By": "PHP/8.2.12"}, []string{"Server", "X-Powered-By"}},
		{"asp.net", map[string]string{"X-AspNet-Version": "4.0.30319", "X-AspNetMvc-Version": "5.2", "X-Powered-By": "ASP.NET"},
			[]string{"X-AspNet-Version", "X-AspNetMvc-Version"}},
		{"names without versions", map[string]string{"Server": "nginx", "X-Powered-By": "Express", "X-Runtime": "0.012345"}, nil},
		{"no headers", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, misconfig.VersionDisclosure{}, withHeaders(tt.set),
				checktest.WithOperations(checktest.Op("GET", "/users"), checktest.Op("GET", "/users/{id}")))
			got := checktest.Locations(fs)
			if !slices.Equal(got, tt.want) {
				t.Errorf("VersionDisclosure with %v = %q, want %q", tt.set, got, tt.want)
			}
			for _, f := range fs {
				want := f.Location + ": " + tt.set[f.Location]
				if f.Evidence[0].Matched != want {
					t.Errorf("Matched = %q, want %q", f.Evidence[0].Matched, want)
				}
			}
		})
	}
}
