package inject_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/inject"
	"github.com/merlonsec/merlon/internal/scan"
)

// fakeSQL answers as a query built by pasting v into SQL text would: an
// odd number of quotes is a syntax error in SQLite's words, AND terms
// comparing literals are evaluated, and pg_sleep(n) sleeps n seconds.
// Errors are shown only with showErrors. It is the smallest real interpreter of the payloads, not a recording.
func fakeSQL(w http.ResponseWriter, cond string, rows map[string]string, showErrors bool) {
	if strings.Count(cond, "'")%2 == 1 {
		w.WriteHeader(500)
		if !showErrors {
			fmt.Fprint(w, `{"error":"internal error"}`)
			return
		}
		fmt.Fprintf(w, `{"error":"sqlite3.OperationalError: unrecognized token: \"%s\""}`, strings.ReplaceAll(cond, `"`, ``))
		return
	}
	if m := regexp.MustCompile(`pg_sleep\(([0-9.]+)\)`).FindStringSubmatch(cond); m != nil {
		s, _ := strconv.ParseFloat(m[1], 64)
		time.Sleep(time.Duration(s * float64(time.Second)))
		cond = regexp.MustCompile(`'\|\|.*\|\|'`).ReplaceAllString(cond, "")
	}
	terms := strings.Split(cond, " AND ")
	key := strings.ReplaceAll(strings.Trim(terms[0], "'"), "''", "'")
	for _, t := range terms[1:] {
		l, r, _ := strings.Cut(t, "=")
		if strings.Trim(l, "'") != strings.Trim(r, "'") {
			key = ""
		}
	}
	if row, ok := rows[key]; ok {
		fmt.Fprint(w, row)
		return
	}
	w.WriteHeader(404)
	fmt.Fprint(w, `{"error":"not found"}`)
}

var rows = map[string]string{"apple": `{"id":1,"name":"apple"}`, "1": `{"id":1,"name":"apple"}`}

func sqlAPI(vulnerable bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{name}", func(w http.ResponseWriter, r *http.Request) {
		if vulnerable {
			fakeSQL(w, "'"+r.PathValue("name")+"'", rows, true)
			return
		}
		// A parameterised query: the value is only ever data.
		if row, ok := rows[r.PathValue("name")]; ok {
			fmt.Fprint(w, row)
			return
		}
		http.Error(w, `{"error":"not found"}`, 404)
	})
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if !vulnerable {
			if _, err := strconv.Atoi(id); err != nil {
				http.Error(w, `{"error":"id must be an integer"}`, 400)
				return
			}
		}
		fakeSQL(w, id, rows, false)
	})
	mux.HandleFunc("GET /blind", func(w http.ResponseWriter, r *http.Request) {
		// Errors and rows are swallowed: only time tells.
		q := r.URL.Query().Get("q")
		if vulnerable {
			fakeSQL(discard{}, "'"+q+"'", rows, false)
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	return mux
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func sqlOps() []*scan.Operation {
	return []*scan.Operation{
		checktest.Op("GET", "/items/{name}", scan.Parameter{Name: "name", In: "path", Required: true, Example: "apple"}),
		checktest.Op("GET", "/search", scan.Parameter{Name: "id", In: "query", Required: true, Example: "1",
			Schema: &scan.Schema{Type: "integer"}}),
		checktest.Op("GET", "/blind", scan.Parameter{Name: "q", In: "query", Required: true, Example: "apple"}),
	}
}

func TestSQL(t *testing.T) {
	t.Parallel()
	// A one-second delay keeps the time-based proof clear of scheduling
	// noise when the race detector and other packages load the machine.
	check := inject.SQL{Delay: 1}
	got := checktest.Run(t, check, sqlAPI(true), checktest.WithActive(), checktest.WithOperations(sqlOps()...),
		checktest.WithStack(scan.Stack{Framework: "flask"}))
	checktest.Only(t, got, "inject.sql")
	for _, tt := range []struct{ loc, title string }{
		{"name (path)", "sqlite error"},
		{"id (query)", "boolean"},
		{"q (query)", "time-based, postgresql"},
	} {
		f := checktest.At(t, got, tt.loc)
		if f.Confidence != scan.Confirmed || !strings.Contains(f.Title, tt.title) || f.CWE != 89 {
			t.Errorf("finding at %s = %s, want confirmed CWE-89 %q", tt.loc, checktest.Describe(f), tt.title)
		}
		if len(f.Evidence) < 3 || f.Evidence[0].Note != "baseline: the unchanged request" || f.Evidence[1].Curl == "" {
			t.Errorf("evidence at %s = %d exchanges, want the baseline and the proving requests with curl lines", tt.loc, len(f.Evidence))
		}
	}
	// The proof names the datastore, so the remediation fits it even when
	// fingerprinting guessed only the framework.
	if f := checktest.At(t, got, "name (path)"); !strings.Contains(f.Remediation, `WHERE name = ?", (name,)`) {
		t.Errorf("remediation for a SQLite proof on Flask is not the flask-sqlite text:\n%s", f.Remediation)
	}
	if f := checktest.At(t, got, "q (query)"); !strings.Contains(f.Remediation, "psycopg2") {
		t.Errorf("remediation for a pg_sleep proof on Flask is not the flask-postgresql text:\n%s", f.Remediation)
	}
	if len(got) != 3 {
		t.Errorf("got %d findings, want 3", len(got))
	}
}

func TestSQLClean(t *testing.T) {
	t.Parallel()
	got := checktest.Run(t, inject.SQL{Delay: 0.4}, sqlAPI(false), checktest.WithActive(), checktest.WithOperations(sqlOps()...))
	checktest.None(t, got)
}

func TestQuickSkipsTiming(t *testing.T) {
	t.Parallel()
	got := checktest.Run(t, inject.SQL{Delay: 0.4}, sqlAPI(true), checktest.WithActive(), checktest.WithProfile(scan.Quick),
		checktest.WithOperations(sqlOps()[2]))
	checktest.None(t, got)
}

// jittery is clean but slow: random latency with rare long spikes, and a
// volatile request ID in every answer.
func jittery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := time.Duration(rand.IntN(150)) * time.Millisecond
		if rand.IntN(8) == 0 {
			d += 500 * time.Millisecond
		}
		time.Sleep(d)
		fmt.Fprintf(w, `{"request":%d,"name":%q}`, rand.Int64(), "x")
	})
}

func TestJitterReportsNothing(t *testing.T) {
	t.Parallel()
	ops := []*scan.Operation{checktest.Op("GET", "/ping", scan.Parameter{Name: "host", In: "query", Required: true, Example: "a"})}
	for _, c := range []scan.Check{inject.SQL{Delay: 0.4}, inject.Command{Delay: 0.4}, inject.NoSQL{}, inject.Template{}} {
		checktest.None(t, checktest.Run(t, c, jittery(), checktest.WithActive(), checktest.WithOperations(ops...)))
	}
}

// login is a Mongo-style login: the vulnerable one evaluates operator
// objects in place of values, the clean one wants strings.
func login(vulnerable bool) http.Handler {
	users := map[string]string{"alice": "s3cret"}
	match := func(cond any, val string) bool {
		switch c := cond.(type) {
		case string:
			return c == val
		case map[string]any:
			for op, arg := range c {
				s := fmt.Sprint(arg)
				switch op {
				case "$ne":
					return val != s
				case "$eq":
					return val == s
				case "$regex":
					return regexp.MustCompile(s).MatchString(val)
				}
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		if !vulnerable {
			if _, ok := body["password"].(string); !ok {
				http.Error(w, `{"error":"password must be a string"}`, 400)
				return
			}
		}
		for u, p := range users {
			if match(body["username"], u) && match(body["password"], p) {
				fmt.Fprint(w, `{"token":"t"}`)
				return
			}
		}
		http.Error(w, `{"error":"invalid credentials"}`, 401)
	})
}

func loginOp() *scan.Operation {
	op := checktest.Op("POST", "/login")
	op.RequestBody = &scan.RequestBody{ContentType: "application/json", Example: map[string]any{"username": "alice", "password": "wrong"}}
	return op
}

func TestNoSQL(t *testing.T) {
	t.Parallel()
	got := checktest.Run(t, inject.NoSQL{}, login(true), checktest.WithActive(), checktest.WithOperations(loginOp()))
	f := checktest.At(t, checktest.Only(t, got, "inject.nosql"), "password (body)")
	if f.CWE != 943 || f.Confidence != scan.Confirmed || !strings.Contains(f.Remediation, "$") {
		t.Errorf("finding = %s, want confirmed CWE-943 with operator-filtering remediation", checktest.Describe(f))
	}
	checktest.None(t, checktest.Run(t, inject.NoSQL{}, login(false), checktest.WithActive(), checktest.WithOperations(loginOp())))
}

func shellAPI(vulnerable, blind bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.URL.Query().Get("host")
		var cmd *exec.Cmd
		if vulnerable {
			cmd = exec.CommandContext(r.Context(), "/bin/sh", "-c", "printf 'host %s\\n' "+host)
		} else {
			cmd = exec.CommandContext(r.Context(), "printf", "host %s\n", host)
		}
		out, _ := cmd.CombinedOutput()
		if blind {
			out = []byte("queued")
		}
		w.Write(out)
	})
}

func TestCommand(t *testing.T) {
	t.Parallel()
	ops := []*scan.Operation{checktest.Op("GET", "/ping", scan.Parameter{Name: "host", In: "query", Required: true, Example: "merlon"})}
	tests := []struct {
		name              string
		vulnerable, blind bool
		title             string // "" for no finding
	}{
		{"echoed", true, false, "OS command injection in host"},
		{"blind", true, true, "(time-based)"},
		{"argument list", false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := checktest.Run(t, inject.Command{Delay: 1}, shellAPI(tt.vulnerable, tt.blind), checktest.WithActive(), checktest.WithOperations(ops...))
			if tt.title == "" {
				checktest.None(t, got)
				return
			}
			f := checktest.At(t, got, "host (query)")
			if !strings.Contains(f.Title, tt.title) || f.CWE != 78 || f.Confidence != scan.Confirmed {
				t.Errorf("finding = %s, want confirmed CWE-78 %q", checktest.Describe(f), tt.title)
			}
		})
	}
}

var arith = regexp.MustCompile(`\{\{(\d+)\*(\d+)\}\}`)

func greet(vulnerable bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if vulnerable {
			name = arith.ReplaceAllStringFunc(name, func(m string) string {
				p := arith.FindStringSubmatch(m)
				a, _ := strconv.Atoi(p[1])
				b, _ := strconv.Atoi(p[2])
				return strconv.Itoa(a * b)
			})
		}
		fmt.Fprintf(w, "Hello %s!", name)
	})
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	ops := []*scan.Operation{checktest.Op("GET", "/greet", scan.Parameter{Name: "name", In: "query", Required: true, Example: "ann"})}
	got := checktest.Run(t, inject.Template{}, greet(true), checktest.WithActive(), checktest.WithOperations(ops...))
	if f := checktest.At(t, got, "name (query)"); f.CWE != 1336 || f.Confidence != scan.Confirmed {
		t.Errorf("finding = %s, want confirmed CWE-1336", checktest.Describe(f))
	}
	// The clean one echoes the payload: the text is there, the product is not.
	checktest.None(t, checktest.Run(t, inject.Template{}, greet(false), checktest.WithActive(), checktest.WithOperations(ops...)))
}

func TestBudgetPerPoint(t *testing.T) {
	t.Parallel()
	n := 0
	ops := []*scan.Operation{checktest.Op("GET", "/ping", scan.Parameter{Name: "host", In: "query", Required: true, Example: "a"})}
	checktest.Run(t, inject.Command{Delay: 0.2}, shellAPI(false, false), checktest.WithActive(), checktest.WithProfile(scan.Quick),
		checktest.WithOperations(ops...), checktest.WithObserver(func(*scan.Exchange) { n++ }))
	if n > 3+24 {
		t.Errorf("sent %d requests for one point in the quick profile, want at most 3 baselines + 24", n)
	}
}
