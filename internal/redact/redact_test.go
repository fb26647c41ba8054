package redact

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

const (
	testJWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXZhbHVl"
	testAWS = "AKIAIOSFODNN7EXAMPLE"
)

func TestHeader(t *testing.T) {
	tests := []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{
			name: "authorization keeps scheme",
			in:   http.Header{"Authorization": {"Bearer abc.def"}},
			want: http.Header{"Authorization": {"Bearer [REDACTED]"}},
		},
		{
			name: "authorization without scheme",
			in:   http.Header{"Authorization": {"s3cr3t"}},
			want: http.Header{"Authorization": {"[REDACTED]"}},
		},
		{
			name: "proxy authorization",
			in:   http.Header{"Proxy-Authorization": {"Basic dXNlcjpwYXNz"}},
			want: http.Header{"Proxy-Authorization": {"Basic [REDACTED]"}},
		},
		{
			name: "cookie keeps names",
			in:   http.Header{"Cookie": {"session=abc; theme=dark"}},
			want: http.Header{"Cookie": {"session=[REDACTED]; theme=[REDACTED]"}},
		},
		{
			name: "set-cookie keeps attributes",
			in:   http.Header{"Set-Cookie": {"sid=xyz; Path=/; HttpOnly", "a=b"}},
			want: http.Header{"Set-Cookie": {"sid=[REDACTED]; Path=/; HttpOnly", "a=[REDACTED]"}},
		},
		{
			name: "listed api key headers",
			in: http.Header{"X-Api-Key": {"k1"}, "Api-Key": {"k2"}, "X-Auth-Token": {"k3"},
				"X-Access-Token": {"k4"}, "X-Csrf-Token": {"k5"}},
			want: http.Header{"X-Api-Key": {"[REDACTED]"}, "Api-Key": {"[REDACTED]"}, "X-Auth-Token": {"[REDACTED]"},
				"X-Access-Token": {"[REDACTED]"}, "X-Csrf-Token": {"[REDACTED]"}},
		},
		{
			name: "names containing secret words",
			in: http.Header{"X-My-Secret": {"a"}, "X-Apikey": {"b"}, "X-Db-Password": {"c"},
				"X-Session-Id": {"d"}, "X-Refresh-Token": {"e"}},
			want: http.Header{"X-My-Secret": {"[REDACTED]"}, "X-Apikey": {"[REDACTED]"}, "X-Db-Password": {"[REDACTED]"},
				"X-Session-Id": {"[REDACTED]"}, "X-Refresh-Token": {"[REDACTED]"}},
		},
		{
			name: "ordinary headers untouched",
			in: http.Header{"Content-Type": {"application/json; charset=utf-8"},
				"Www-Authenticate": {`Bearer realm="api", error="invalid_token"`}},
			want: http.Header{"Content-Type": {"application/json; charset=utf-8"},
				"Www-Authenticate": {`Bearer realm="api", error="invalid_token"`}},
		},
		{
			name: "token inside an ordinary header",
			in:   http.Header{"Location": {"/cb?access_token=abc123&state=1"}},
			want: http.Header{"Location": {"/cb?access_token=[REDACTED]&state=1"}},
		},
		{
			name: "empty values stay empty",
			in:   http.Header{"Authorization": {""}},
			want: http.Header{"Authorization": {""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.in.Clone()
			got := Header(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Header(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !reflect.DeepEqual(tt.in, orig) {
				t.Errorf("Header modified its input: %v, want %v", tt.in, orig)
			}
			if again := Header(got); !reflect.DeepEqual(again, got) {
				t.Errorf("Header(Header(x)) = %v, want %v", again, got)
			}
		})
	}
}

func TestHeaderNil(t *testing.T) {
	if got := Header(nil); got != nil {
		t.Errorf("Header(nil) = %v, want nil", got)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"json password", `{"user":"bob","password":"hunter2"}`, `{"user":"bob","password":"[REDACTED]"}`},
		{"json spacing and escapes", `{"access_token" : "a\"b", "n": 1}`, `{"access_token" : "[REDACTED]", "n": 1}`},
		{"json key variants", `{"clientSecret":"x","api_key":"y","refresh_token":"z","private_key":"k","passwd":"p"}`,
			`{"clientSecret":"[REDACTED]","api_key":"[REDACTED]","refresh_token":"[REDACTED]","private_key":"[REDACTED]","passwd":"[REDACTED]"}`},
		{"json non-secret keys kept", `{"passport":"X1","compass":"N","name":"token"}`, `{"passport":"X1","compass":"N","name":"token"}`},
		{"json empty value kept", `{"password":""}`, `{"password":""}`},
		{"form body", "user=bob&password=hunter2&remember=1", "user=bob&password=[REDACTED]&remember=1"},
		{"query string", "/login?apikey=abc&x=1", "/login?apikey=[REDACTED]&x=1"},
		{"env lines", "DB_PASSWORD=pw1\nPORT=80", "DB_PASSWORD=[REDACTED]\nPORT=80"},
		{"bearer in text", "Authorization: Bearer abcdefgh12345", "Authorization: Bearer [REDACTED]"},
		{"basic in text", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED]"},
		{"prose kept", "Basic authentication required; bearer tokens expire", "Basic authentication required; bearer tokens expire"},
		{"jwt", "token was " + testJWT + " ok", "token was [REDACTED] ok"},
		{"unsigned jwt", "x eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. y", "x [REDACTED] y"},
		{"aws key", "key " + testAWS + " here", "key [REDACTED] here"},
		{"aws temporary key", "ASIAIOSFODNN7EXAMPLE", "[REDACTED]"},
		{"pem block", "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nb",
			"a\n-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----\nb"},
		{"cut pem block", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg", "-----BEGIN PRIVATE KEY-----[REDACTED]"},
		{"plain text untouched", "hello world", "hello world"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := String(tt.in)
			if got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := String(got); again != got {
				t.Errorf("String(String(%q)) = %q, want %q", tt.in, again, got)
			}
		})
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"userinfo password", "https://bob:pw@api.test/x", "https://bob:[REDACTED]@api.test/x"},
		{"user only", "https://bob@api.test/x", "https://bob@api.test/x"},
		{"secret query", "http://api.test/a?token=t1&page=2", "http://api.test/a?token=[REDACTED]&page=2"},
		{"plain", "http://api.test/users/1", "http://api.test/users/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := URL(tt.in); got != tt.want {
				t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Independent definitions of what must never survive redaction, so the
// fuzz test does not just re-run the code under test.
var (
	fuzzJWT = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`)
	fuzzAWS = regexp.MustCompile(`A(KI|SI)A[A-Z0-9]{16}`)
)

func FuzzString(f *testing.F) {
	for _, s := range []string{
		`{"password":"hunter2","token":"` + testJWT + `"}`,
		"Bearer " + testJWT,
		"aws=" + testAWS,
		"-----BEGIN EC PRIVATE KEY-----\nabc\n-----END EC PRIVATE KEY-----",
		`{"a":"b\"","secret":"c"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := String(in)
		for _, secret := range fuzzJWT.FindAllString(in, -1) {
			if strings.Contains(out, secret) {
				t.Errorf("String(%q) = %q, still holds JWT %q", in, out, secret)
			}
		}
		for _, secret := range fuzzAWS.FindAllString(in, -1) {
			if strings.Contains(out, secret) {
				t.Errorf("String(%q) = %q, still holds AWS key %q", in, out, secret)
			}
		}
		if again := String(out); again != out {
			t.Errorf("String(String(%q)) = %q, want %q", in, again, out)
		}
	})
}

func BenchmarkString(b *testing.B) {
	var sb strings.Builder
	for sb.Len() < 64<<10 {
		sb.WriteString(`{"id":42,"name":"alice","email":"a@example.test","password":"pw","token":"` + testJWT + `"},`)
	}
	s := sb.String()
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		String(s)
	}
}

func TestCredentialHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "cookie": true, "X-Api-Key": true, "X-Session-Id": true,
		"Accept": false, "Set-Cookie": false, "Content-Type": false,
	} {
		if got := CredentialHeader(name); got != want {
			t.Errorf("CredentialHeader(%q) = %v, want %v", name, got, want)
		}
	}
	if HasCredentials(http.Header{"Accept": {"*/*"}}) || !HasCredentials(http.Header{"Accept": {"*/*"}, "Cookie": {"sid=1"}}) {
		t.Errorf("HasCredentials does not tell a header set with a cookie from one without")
	}
}
