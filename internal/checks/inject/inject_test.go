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
	"sync/atomic"
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

// jittery is clean but slow: random latency up to 100ms, and one answer
// in four delayed 350 to 450ms more, and a volatile request ID in every
// answer. At a 0.4s delay a spike passes the first timing step (slowest
// baseline + 0.32s) whenever the baseline had none, but never the second
// (+0.64s): what keeps it silent is the 2d step, not luck. TestTimingSteps
// covers the later steps with latency that gets past the earlier ones.
func jittery() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := time.Duration(rand.IntN(100)) * time.Millisecond
		if rand.IntN(4) == 0 {
			d += time.Duration(350+rand.IntN(100)) * time.Millisecond
		}
		time.Sleep(d)
		fmt.Fprintf(w, `{"request":%d,"name":%q}`, rand.Int64(), "x")
	})
}

func TestJitterReportsNothing(t *testing.T) {
	t.Parallel()
	ops := []*scan.Operation{checktest.Op("GET", "/ping", scan.Parameter{Name: "host", In: "query", Required: true, Example: "a"})}
	for _, c := range []scan.Check{inject.SQL{Delay: 0.4}, inject.Command{Delay: 0.4}, inject.NoSQL{}, inject.Template{}} {
		t.Run(c.Meta().ID, func(t *testing.T) {
			t.Parallel()
			checktest.None(t, checktest.Run(t, c, jittery(), checktest.WithActive(), checktest.WithOperations(ops...)))
		})
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

// TestBudgetTotal runs the real command check on more points than its
// quick-profile total allows: the target must see exactly 400 requests.
func TestBudgetTotal(t *testing.T) {
	t.Parallel()
	var params []scan.Parameter
	for i := range 60 {
		params = append(params, scan.Parameter{Name: fmt.Sprintf("host%02d", i), In: "query", Required: true, Example: "a"})
	}
	var n atomic.Int64
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); fmt.Fprint(w, "queued") })
	checktest.Run(t, inject.Command{Delay: 0.2}, api, checktest.WithActive(), checktest.WithProfile(scan.Quick),
		checktest.WithOperations(checktest.Op("GET", "/ping", params...)))
	if n.Load() != 400 {
		t.Errorf("quick command run sent %d requests to 60 points, want its total cap 400", n.Load())
	}
}

// scripted is clean, and slow on a schedule: the n-th request that asks
// for a sleep takes delays[n] (none past the end), whatever it asks for.
// Aligning latency with the timing probes stands for the worst luck
// random latency could bring, one step at a time. first counts the
// timing requests of the first separator, ";".
func scripted(delays []time.Duration, first *atomic.Int64) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.URL.Query().Get("host")
		if strings.Contains(host, "sleep") {
			if strings.HasPrefix(host, "a;sleep ") {
				first.Add(1)
			}
			if i := int(n.Add(1)) - 1; i < len(delays) {
				time.Sleep(delays[i])
			}
		}
		fmt.Fprint(w, "queued")
	})
}

// TestTimingSteps shows that each confirmation step of a time-based proof
// is what rejects latency that got past the ones before it: a slow answer
// that does not grow when twice the time is asked for, a control asking
// for 0s that is slow too, and a delay that is not there again. Latency
// that passes every step is reported, so the fake could fail the others.
func TestTimingSteps(t *testing.T) {
	t.Parallel()
	const d = 400 * time.Millisecond
	// Slow answers take a quarter more than asked, so that a loaded
	// machine's slower baseline does not decide the case.
	const slow, slow2 = d * 5 / 4, d*2 + d/4
	tests := []struct {
		name   string
		delays []time.Duration
		steps  int // timing requests the first separator sends before a step rejects it
		found  bool
	}{
		{"one slow answer", []time.Duration{slow}, 2, false},
		{"no growth for twice the time", []time.Duration{d * 5 / 2, d * 11 / 4}, 2, false},
		{"slow control", []time.Duration{slow, slow2, d}, 3, false},
		{"not repeated", []time.Duration{slow, slow2, 0, 0}, 4, false},
		{"scales, vanishes, repeats", []time.Duration{slow, slow2, 0, slow}, 4, true},
	}
	ops := []*scan.Operation{checktest.Op("GET", "/ping", scan.Parameter{Name: "host", In: "query", Required: true, Example: "a"})}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var first atomic.Int64
			got := checktest.Run(t, inject.Command{Delay: d.Seconds()}, scripted(tt.delays, &first),
				checktest.WithActive(), checktest.WithOperations(ops...))
			if tt.found {
				f := checktest.At(t, got, "host (query)")
				if !strings.Contains(f.Title, "time-based") || len(f.Evidence) != 5 {
					t.Errorf("finding = %s with %d evidence, want time-based with the baseline and 4 timed requests", checktest.Describe(f), len(f.Evidence))
				}
				return
			}
			checktest.None(t, got)
			if first.Load() != int64(tt.steps) {
				t.Errorf("the first separator sent %d timing requests, want %d: another step rejected it", first.Load(), tt.steps)
			}
		})
	}
}
