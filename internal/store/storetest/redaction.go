package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/redact"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// Raw is a store whose database the suite can read directly, to check what
// is stored in every column rather than what the methods give back. Both
// drivers have it through sqldb.DB.
type Raw interface {
	SQL() *sql.DB
}

// The secrets the scan of testStoredReportRedacted meets. Each is long and
// random-looking, so finding one in the database cannot be a coincidence.
const (
	// secretBearer is the credential given to the scan, as with
	// -H "Authorization: Bearer ...". The API also echoes it in its bodies.
	secretBearer = "mrl-bearer-7f3c9a1e5d2b8064"
	// secretSession is the session the API sets in a cookie.
	secretSession = "mrl-session-4b8e2d6a0c9f1735"
	// secretPassword is a password field the API leaks in a body.
	secretPassword = "mrl-password-91d7c3e5a2f40b68"
)

// secretAPI is a small API that wants secretBearer, sets a session cookie
// on every answer (without the flags a cookie needs, so the scan reports
// it), echoes the credential and leaks a password.
func secretAPI() http.Handler {
	spec := `{"openapi":"3.0.3","info":{"title":"secrets","version":"1"},
	"paths":{
	 "/api/me":{"get":{"responses":{"200":{"description":"the caller"}}}},
	 "/api/users":{"get":{"responses":{"200":{"description":"every user"}}}}}}`
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, spec)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"email":"alice@example.com","token":%q,"auth":%q}`, secretBearer, r.Header.Get("Authorization"))
	})
	mux.HandleFunc("GET /api/users", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `[{"id":1,"email":"alice@example.com","password":%q,"note":"seen with %s"}]`, secretPassword, secretBearer)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: secretSession, Path: "/"})
		if r.URL.Path != "/openapi.json" && r.Header.Get("Authorization") != "Bearer "+secretBearer {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"sign in"}`)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// scanWithSecrets runs a real passive scan of secretAPI through the
// pipeline, as `merlon scan -H "Authorization: Bearer ..."` does.
func scanWithSecrets(t *testing.T) *scan.Report {
	t.Helper()
	srv := httptest.NewServer(secretAPI())
	t.Cleanup(srv.Close)
	target, err := pipeline.ParseTarget(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := pipeline.Run(c, pipeline.Config{
		Target:      target,
		Spec:        srv.URL + "/openapi.json",
		Headers:     http.Header{"Authorization": {"Bearer " + secretBearer}},
		Checks:      checks.All(),
		Concurrency: 4,
		ToolVersion: "test",
	})
	if err != nil {
		t.Fatalf("scan of the secrets API: %v", err)
	}
	return rep
}

// testStoredReportRedacted backs the promise of docs/safety.md that the
// store holds only placeholders: a real scan meets a credential, a session
// cookie and a leaked password, is saved as `merlon scan --save` saves it,
// and then no table of the database holds any of them, in any column.
func testStoredReportRedacted(t *testing.T, s store.Store) {
	c := ctx(t)
	rep := scanWithSecrets(t)

	// The scan must have recorded evidence where each secret was, or the
	// test proves nothing.
	var ev strings.Builder
	for _, f := range rep.Findings {
		for _, e := range f.Evidence {
			fmt.Fprintln(&ev, e.Request.Header, e.Response.Header, e.Response.Body)
		}
	}
	for _, where := range []string{
		"Bearer " + redact.Placeholder,            // the -H credential sent
		"session=" + redact.Placeholder,           // the Set-Cookie answered
		`"password":"` + redact.Placeholder + `"`, // the leaked password
		`"token":"` + redact.Placeholder + `"`,    // the credential echoed
	} {
		if !strings.Contains(ev.String(), where) {
			t.Fatalf("the scan's evidence holds no %s: it did not record where the secret was, so the store has nothing to prove", where)
		}
	}

	tg := &store.Target{Name: "secrets", URL: rep.Target}
	must(t, s.CreateTarget(c, tg))
	started := rep.StartedAt
	sc := &store.Scan{TargetID: tg.ID, Status: store.StatusRunning, RequestedBy: "cli", Progress: 100, StartedAt: &started,
		Options: json.RawMessage(`{"profile":"standard"}`)}
	must(t, s.CreateScan(c, sc))
	must(t, s.SaveReport(c, sc.ID, rep))
	must(t, s.UpdateScanStatus(c, sc.ID, store.StatusDone, ""))

	// What the methods give back.
	got, err := s.GetReport(c, sc.ID)
	must(t, err)
	gotBody, err := json.Marshal(got)
	must(t, err)
	rows, err := s.ListFindings(c, sc.ID)
	must(t, err)
	if len(rows) != len(rep.Findings) {
		t.Errorf("ListFindings = %d rows, want %d", len(rows), len(rep.Findings))
	}
	read := map[string]string{"GetReport": string(gotBody), "ListFindings": fmt.Sprintf("%+v", rows)}

	// What is stored: every column of every table.
	raw, ok := s.(Raw)
	if !ok {
		t.Fatalf("store %T has no SQL(): the suite cannot read what it stores", s)
	}
	for name, text := range dumpTables(t, raw.SQL()) {
		read[name] = text
	}
	if !strings.Contains(read["reports.body"], redact.Placeholder) {
		t.Errorf("reports.body holds no %s: the stored report is not the scanned one", redact.Placeholder)
	}
	for _, secret := range []string{secretBearer, secretSession, secretPassword} {
		for where, text := range read {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the secret %q", where, secret)
			}
		}
	}
}

// dumpTables returns the text of every column of every table of db, keyed
// "table.column", whatever the schema holds now or later.
func dumpTables(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	c := ctx(t)
	tables := queryStrings(c, db, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if tables == nil {
		tables = queryStrings(c, db, `SELECT table_name FROM information_schema.tables
	WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	}
	sort.Strings(tables)
	if len(tables) < 5 {
		t.Fatalf("found tables %v, want the whole schema", tables)
	}
	out := map[string]string{}
	for _, table := range tables {
		rows, err := db.QueryContext(c, `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("read table %s: %v", table, err)
			}
			for i, v := range vals {
				text := ""
				switch v := v.(type) {
				case []byte:
					text = string(v)
				case nil:
				default:
					text = fmt.Sprint(v)
				}
				out[table+"."+cols[i]] += text + "\n"
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		rows.Close()
	}
	return out
}

// queryStrings returns the one text column of query, or nil when the query
// fails (the other dialect's catalogue).
func queryStrings(c context.Context, db *sql.DB, query string) []string {
	rows, err := db.QueryContext(c, query)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil
		}
		out = append(out, s)
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}
