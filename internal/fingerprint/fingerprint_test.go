package fingerprint_test

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/fingerprint"
	"github.com/merlonsec/merlon/internal/scan"
)

// resp builds an exchange from a status, header lines ("Name: value") and
// a body.
func resp(status int, headers []string, body string) *scan.Exchange {
	h := http.Header{}
	for _, l := range headers {
		k, v, _ := strings.Cut(l, ": ")
		h.Add(k, v)
	}
	return &scan.Exchange{Response: scan.RecordedResponse{Status: status, Header: h, Body: body}}
}

func TestStack(t *testing.T) {
	flask404 := "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n"
	tests := []struct {
		name          string
		ex            []*scan.Exchange
		framework, ds string
	}{
		{"werkzeug server header", []*scan.Exchange{resp(200, []string{"Server: Werkzeug/3.0.1 Python/3.11.2"}, `{}`)}, "flask", ""},
		{"flask 404 page behind gunicorn", []*scan.Exchange{resp(404, []string{"Server: gunicorn", "Content-Type: text/html; charset=utf-8"}, flask404)}, "flask", ""},
		{"flask 405 page", []*scan.Exchange{resp(405, nil, "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n")}, "flask", ""},
		{"uvicorn with starlette 404", []*scan.Exchange{resp(404, []string{"Server: uvicorn", "Content-Type: application/json"}, `{"detail":"Not Found"}`)}, "fastapi", ""},
		{"fastapi validation error", []*scan.Exchange{resp(422, nil, `{"detail":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]}`)}, "fastapi", ""},
		{"django csrftoken", []*scan.Exchange{resp(200, []string{"Set-Cookie: csrftoken=Zx8k2; expires=Sat, 01 Nov 2025 10:00:00 GMT; Max-Age=31449600; Path=/; SameSite=Lax"}, `{}`)}, "django", ""},
		{"django debug page", []*scan.Exchange{resp(404, nil, "<p>You’re seeing this error because you have <code>DEBUG = True</code> in your Django settings file.</p>")}, "django", ""},
		{"django rest framework", []*scan.Exchange{resp(401, nil, `{"detail":"Authentication credentials were not provided."}`)}, "django", ""},
		{"express header", []*scan.Exchange{resp(200, []string{"X-Powered-By: Express"}, `[]`)}, "express", ""},
		{"express cannot get page", []*scan.Exchange{resp(404, []string{"Content-Type: text/html; charset=utf-8"}, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot GET /nope</pre>\n</body>\n</html>\n")}, "express", ""},
		{"rails headers and cookie", []*scan.Exchange{resp(200, []string{"X-Runtime: 0.013577", "X-Request-Id: 6b1c4d1e-92b8-4a57-8d0e-1c1a5a7f0d3e", "Set-Cookie: _shop_session=abc123; path=/; HttpOnly; SameSite=Lax"}, `{}`)}, "rails", ""},
		{"spring json error", []*scan.Exchange{resp(404, nil, `{"timestamp":"2024-05-01T10:00:00.000+00:00","status":404,"error":"Not Found","path":"/nope"}`)}, "spring", ""},
		{"spring whitelabel", []*scan.Exchange{resp(500, nil, "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error</p></body></html>")}, "spring", ""},
		{"asp.net headers", []*scan.Exchange{resp(200, []string{"X-Powered-By: ASP.NET", "X-AspNet-Version: 4.0.30319", "Server: Microsoft-IIS/10.0"}, `{}`)}, "aspnet", ""},
		{"kestrel", []*scan.Exchange{resp(200, []string{"Server: Kestrel"}, `{}`)}, "aspnet", ""},
		{"go net/http 404", []*scan.Exchange{resp(404, []string{"Content-Type: text/plain; charset=utf-8"}, "404 page not found\n")}, "go", ""},
		{"go text on a 200 is not a 404 page", []*scan.Exchange{resp(200, []string{"Content-Type: text/plain; charset=utf-8"}, "404 page not found\n")}, "", ""},
		{"a lone weak hint is not enough", []*scan.Exchange{resp(200, []string{"Set-Cookie: JSESSIONID=1A2B; Path=/"}, `{}`)}, "", ""},
		{"a weak hint seen often is still weak", slices.Repeat([]*scan.Exchange{resp(200, []string{"Set-Cookie: JSESSIONID=1A2B; Path=/"}, `{}`)}, 20), "", ""},
		{"plain json says nothing", []*scan.Exchange{resp(200, []string{"Content-Type: application/json"}, `{"error":"not found"}`)}, "", ""},

		{"boto dynamodb error", []*scan.Exchange{resp(500, nil, `{"error":"An error occurred (ValidationException) when calling the PutItem operation: One or more parameter values were invalid: Missing the key id in the item"}`)}, "", "dynamodb"},
		{"java dynamodb error", []*scan.Exchange{resp(500, nil, `com.amazonaws.services.dynamodbv2.model.ConditionalCheckFailedException: The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400)`)}, "", "dynamodb"},
		{"dynamodb key-update message passed on by a flask app", []*scan.Exchange{resp(400, []string{"Server: Werkzeug/2.2.2 Python/3.11.2"}, `{"error":"One or more parameter values were invalid: Cannot update attribute username. This attribute is part of the key"}`)}, "flask", "dynamodb"},
		{"dynamodb missing-key message alone", []*scan.Exchange{resp(400, nil, `{"error":"One or more parameter values were invalid: Missing the key username in the item"}`)}, "", "dynamodb"},
		{"dynamodb invalid-parameter wording", []*scan.Exchange{resp(400, nil, `{"error":"One or more parameter values were invalid"}`)}, "", "dynamodb"},
		{"ValidationException alone is not dynamodb", []*scan.Exchange{resp(400, nil, `{"error":"ValidationException","message":"name is required"}`)}, "", ""},
		{"mongo duplicate key", []*scan.Exchange{resp(500, nil, `{"message":"E11000 duplicate key error collection: shop.users index: email_1 dup key: { email: \"a@b.c\" }"}`)}, "", "mongodb"},
		{"mongoose cast error", []*scan.Exchange{resp(500, nil, `{"message":"Cast to ObjectId failed for value \"abc\" (type string) at path \"_id\" for model \"Item\""}`)}, "", "mongodb"},
		{"psycopg2", []*scan.Exchange{resp(500, nil, `psycopg2.errors.UndefinedTable: relation "itemz" does not exist`)}, "", "postgresql"},
		{"lib/pq", []*scan.Exchange{resp(500, nil, `pq: duplicate key value violates unique constraint "users_email_key"`)}, "", "postgresql"},
		{"mysql syntax", []*scan.Exchange{resp(500, nil, `You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near ''' at line 1`)}, "", "mysql"},
		{"node mysql code", []*scan.Exchange{resp(500, nil, `{"code":"ER_DUP_ENTRY","errno":1062,"sqlMessage":"Duplicate entry 'a@b.c' for key 'users.email'"}`)}, "", "mysql"},
		{"sqlite3", []*scan.Exchange{resp(500, nil, `sqlite3.OperationalError: no such table: itemz`)}, "", "sqlite"},
		{"mssql", []*scan.Exchange{resp(500, nil, `System.Data.SqlClient.SqlException (0x80131904): Unclosed quotation mark after the character string ''.`)}, "", "mssql"},
		{"oracle", []*scan.Exchange{resp(500, nil, `java.sql.SQLSyntaxErrorException: ORA-00933: SQL command not properly ended`)}, "", "oracle"},

		{"framework and datastore together", []*scan.Exchange{
			resp(200, []string{"Server: Werkzeug/3.0.1 Python/3.11.2"}, `{}`),
			resp(500, []string{"Server: Werkzeug/3.0.1 Python/3.11.2"}, `sqlite3.IntegrityError: UNIQUE constraint failed: users.email`),
		}, "flask", "sqlite"},
		{"stronger evidence wins", []*scan.Exchange{
			resp(200, []string{"Server: uvicorn"}, `{}`),
			resp(200, []string{"X-Powered-By: Express"}, `{}`),
		}, "express", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d fingerprint.Detector
			for _, ex := range tt.ex {
				d.Observe(ex)
			}
			st := d.Stack()
			if st.Framework != tt.framework || st.Datastore != tt.ds {
				t.Errorf("Stack() = %q/%q, want %q/%q (signals %q)", st.Framework, st.Datastore, tt.framework, tt.ds, st.Signals)
			}
			for _, guess := range []string{tt.framework, tt.ds} {
				if guess != "" && !slices.ContainsFunc(st.Signals, func(s string) bool { return strings.HasPrefix(s, guess+": ") }) {
					t.Errorf("Signals = %q, want one for %s", st.Signals, guess)
				}
			}
			if tt.framework == "" && tt.ds == "" && len(st.Signals) != 0 {
				t.Errorf("Signals = %q, want none without a guess", st.Signals)
			}
		})
	}
}

func TestStackServerAndSignals(t *testing.T) {
	var d fingerprint.Detector
	d.Observe(nil)
	d.Observe(resp(200, []string{"Server: Werkzeug/3.0.1 Python/3.11.2"}, `{}`))
	d.Observe(resp(200, []string{"Server: other/1.0"}, `{}`))
	st := d.Stack()
	if st.Server != "Werkzeug/3.0.1 Python/3.11.2" {
		t.Errorf("Server = %q, want the first Server header seen", st.Server)
	}
	want := []string{"flask: Server header names Werkzeug (Server: Werkzeug/3.0.1 Python/3.11.2)"}
	if !slices.Equal(st.Signals, want) {
		t.Errorf("Signals = %q, want %q", st.Signals, want)
	}
}

// TestDetectorConcurrent runs under -race: the engine observes from every
// check's goroutine while the scan reads the stack.
func TestDetectorConcurrent(t *testing.T) {
	var d fingerprint.Detector
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if i%2 == 0 {
					d.Observe(resp(200, []string{"X-Powered-By: Express"}, `{}`))
				} else {
					d.Observe(resp(500, nil, `E11000 duplicate key error collection`))
				}
				d.Stack()
			}
		}()
	}
	wg.Wait()
	if st := d.Stack(); st.Framework != "express" || st.Datastore != "mongodb" {
		t.Errorf("Stack() = %q/%q, want express/mongodb", st.Framework, st.Datastore)
	}
}

var known = []string{"", "flask", "fastapi", "django", "express", "rails", "spring", "aspnet", "go",
	"dynamodb", "mongodb", "postgresql", "mysql", "sqlite", "mssql", "oracle"}

// FuzzObserve checks that Observe never panics on any response, that the
// guesses are always known names, and that seeing the same response again
// changes nothing.
func FuzzObserve(f *testing.F) {
	f.Add(200, "Server", "Werkzeug/3.0.1 Python/3.11.2", `{}`)
	f.Add(404, "Content-Type", "text/plain; charset=utf-8", "404 page not found\n")
	f.Add(500, "Set-Cookie", "csrftoken=x", `{"timestamp":1,"status":500,"error":"x","path":"/"}`)
	f.Add(500, "X-Powered-By", "Express", "E11000 duplicate key error \xff\xfe")
	f.Add(0, "", "", "")
	f.Fuzz(func(t *testing.T, status int, name, value, body string) {
		var d fingerprint.Detector
		ex := &scan.Exchange{Response: scan.RecordedResponse{
			Status: status,
			Header: http.Header{http.CanonicalHeaderKey(name): {value}},
			Body:   body,
			Raw:    []byte(body),
		}}
		d.Observe(ex)
		first := d.Stack()
		if !slices.Contains(known, first.Framework) || !slices.Contains(known, first.Datastore) {
			t.Fatalf("Stack() = %q/%q, not a known name", first.Framework, first.Datastore)
		}
		d.Observe(ex)
		again := d.Stack()
		if again.Framework != first.Framework || again.Datastore != first.Datastore || !slices.Equal(again.Signals, first.Signals) {
			t.Fatalf("Stack() changed on a repeated response: %+v then %+v", first, again)
		}
	})
}
