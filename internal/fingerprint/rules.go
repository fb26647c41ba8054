package fingerprint

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
)

// rule is one hint: a pattern in a header (each of its values) or in the
// body, pointing at one framework or datastore with some weight (1 weak,
// 5 conclusive).
type rule struct {
	tech   string
	weight int
	what   string // what the hint is, for Stack.Signals
	header string // header to read; "" reads the body
	re     *regexp.Regexp
	// fn, when set, replaces re for hints a pattern cannot express.
	fn func(status int, h http.Header, body string) bool
	// pf screens bodies before re runs; nil runs re on every body.
	pf *prefilter
}

func (r *rule) match(status int, h http.Header, body *bodyText) (string, bool) {
	if r.fn != nil {
		return "", r.fn(status, h, body.s)
	}
	if r.header != "" {
		for _, v := range h.Values(r.header) {
			if loc := r.re.FindStringIndex(v); loc != nil {
				return shorten(r.header + ": " + v), true
			}
		}
		return "", false
	}
	if !r.pf.mayMatch(body) {
		return "", false
	}
	if loc := r.re.FindStringIndex(body.s); loc != nil {
		return shorten(body.s[loc[0]:loc[1]]), true
	}
	return "", false
}

func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return strings.ToValidUTF8(s, "")
}

func hdr(tech string, w int, what, header, pattern string) *rule {
	return &rule{tech: tech, weight: w, what: what, header: header, re: regexp.MustCompile(pattern)}
}

func body(tech string, w int, what, pattern string) *rule {
	return &rule{tech: tech, weight: w, what: what, re: regexp.MustCompile(pattern), pf: newPrefilter(pattern)}
}

// frameworks and datastores list the names Stack can return, in the order
// that breaks ties.
var (
	frameworks = []string{Flask, FastAPI, Django, Express, Rails, Spring, ASPNET, Go}
	datastores = []string{DynamoDB, MongoDB, PostgreSQL, MySQL, SQLite, MSSQL, Oracle}
)

var rules = []*rule{
	// Flask runs on Werkzeug, whose default error pages have fixed wording.
	hdr(Flask, 3, "Server header names Werkzeug", "Server", `(?i)\bwerkzeug\b`),
	body(Flask, 3, "Werkzeug's default 404 page", `The requested URL was not found on the server\. If you entered the URL manually please check your spelling and try again\.`),
	body(Flask, 3, "Werkzeug's default 405 page", `The method is not allowed for the requested URL\.`),
	body(Flask, 3, "Werkzeug debugger", `The debugger caught an exception in your WSGI application`),

	// FastAPI and Starlette answer errors as {"detail": …}.
	hdr(FastAPI, 2, "Server header names uvicorn", "Server", `(?i)^uvicorn\b`),
	body(FastAPI, 2, "Starlette's JSON error body", `^\{"detail":\s*"(?:Not Found|Method Not Allowed)"\}$`),
	body(FastAPI, 3, "FastAPI's validation error body", `^\{"detail":\s*\[\{"(?:type|loc)":`),

	hdr(Django, 3, "csrftoken cookie", "Set-Cookie", `^csrftoken=`),
	hdr(Django, 1, "sessionid cookie", "Set-Cookie", `^sessionid=`),
	body(Django, 5, "Django debug page", `seeing this error because you have (?:<code>)?DEBUG = True`),
	body(Django, 3, "Django REST framework page", `Django REST framework`),
	body(Django, 2, "Django REST framework error body", `^\{"detail":\s*"(?:Not found\.|Authentication credentials were not provided\.)"\}$`),
	hdr(Django, 1, "Server header names WSGIServer", "Server", `^WSGIServer/`),

	hdr(Express, 5, "X-Powered-By names Express", "X-Powered-By", `^Express\b`),
	body(Express, 4, `Express's "Cannot GET" page`, `<pre>Cannot (?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) [^<]*</pre>`),
	body(Express, 3, "Express frames in a stack trace", `node_modules[/\\]express[/\\]`),
	hdr(Express, 3, "connect.sid cookie", "Set-Cookie", `^connect\.sid=`),

	hdr(Rails, 2, "X-Runtime header", "X-Runtime", `^\d+\.\d+$`),
	hdr(Rails, 3, "Rails session cookie", "Set-Cookie", `^_[\w-]+_session=`),
	body(Rails, 5, "Rails exception page", `Action Controller: Exception caught`),

	body(Spring, 5, "Spring Whitelabel error page", `Whitelabel Error Page`),
	{tech: Spring, weight: 4, what: "Spring Boot's JSON error body", fn: springError},
	hdr(Spring, 3, "X-Application-Context header", "X-Application-Context", `.`),
	hdr(Spring, 1, "JSESSIONID cookie", "Set-Cookie", `^JSESSIONID=`),

	hdr(ASPNET, 5, "X-AspNet-Version header", "X-AspNet-Version", `.`),
	hdr(ASPNET, 5, "X-AspNetMvc-Version header", "X-AspNetMvc-Version", `.`),
	hdr(ASPNET, 4, "X-Powered-By names ASP.NET", "X-Powered-By", `^ASP\.NET`),
	hdr(ASPNET, 3, "Server header names Kestrel", "Server", `^Kestrel`),
	hdr(ASPNET, 2, "Server header names IIS", "Server", `^Microsoft-IIS/`),
	hdr(ASPNET, 3, "ASP.NET session cookie", "Set-Cookie", `^(?:ASP\.NET_SessionId|\.AspNetCore\.[\w.]+)=`),
	body(ASPNET, 3, "ASP.NET error page", `Server Error in '[^'\n]*' Application`),
	body(ASPNET, 3, "ASP.NET Core problem details with traceId", `"traceId":\s*"00-[0-9a-f]{32}-`),

	{tech: Go, weight: 3, what: `net/http's "404 page not found"`, fn: goNotFound},
	body(Go, 3, "Go panic trace", `goroutine \d+ \[running\]:`),

	body(DynamoDB, 5, "DynamoDB SDK class", `com\.amazonaws\.dynamodb|com\.amazonaws\.services\.dynamodbv2`),
	body(DynamoDB, 5, "DynamoDB-only exception", `ConditionalCheckFailedException|ProvisionedThroughputExceededException|TransactionCanceledException`),
	body(DynamoDB, 5, "boto DynamoDB operation error", `when calling the (?:GetItem|PutItem|UpdateItem|DeleteItem|Query|Scan|BatchGetItem|BatchWriteItem|TransactGetItems|TransactWriteItems) operation`),
	// Messages of DynamoDB's ValidationException that apps pass on as
	// their own error text, without the exception's name.
	body(DynamoDB, 5, "DynamoDB key-update refusal", `Cannot update attribute [^.\s"]+\. This attribute is part of the key`),
	body(DynamoDB, 4, "DynamoDB missing-key message", `Missing the key [^\s"]+ in the item`),
	body(DynamoDB, 3, "DynamoDB invalid-parameter message", `One or more parameter values (?:were invalid|are not valid)`),
	body(DynamoDB, 4, "DynamoDB expression error", `Invalid (?:UpdateExpression|ConditionExpression|KeyConditionExpression|ProjectionExpression|FilterExpression): `),
	body(DynamoDB, 2, "DynamoDB named", `(?i)\bdynamodb\b`),
	body(DynamoDB, 1, "ValidationException", `\bValidationException\b`),
	body(DynamoDB, 1, "botocore", `\bbotocore\b`),

	body(MongoDB, 4, "MongoDB driver error", `\bMongo(?:Server|Network|Bulk|Write)?Error\b`),
	body(MongoDB, 5, "MongoDB duplicate key error", `E11000 duplicate key error`),
	body(MongoDB, 5, "MongoDB driver named", `\bpymongo\b|Cast to ObjectId failed`),
	body(MongoDB, 2, "BSON error", `\bBSON\w*Error\b|\bbson\.errors\b`),

	body(PostgreSQL, 3, "lib/pq error", `\bpq: `),
	body(PostgreSQL, 5, "PostgreSQL driver named", `\bpsycopg2?\b|\basyncpg\b|\bPG::\w+|org\.postgresql|PSQLException`),
	// Quotes may come escaped (\") when the message is passed on in JSON.
	body(PostgreSQL, 4, "PostgreSQL syntax error", `syntax error at or near \\?"|syntax error at end of input`),
	body(PostgreSQL, 5, "PostgreSQL unterminated string", `unterminated quoted string at or near \\?"`),
	body(PostgreSQL, 4, "PostgreSQL constraint message", `duplicate key value violates unique constraint`),

	body(MySQL, 5, "MySQL syntax error", `You have an error in your SQL syntax|corresponds to your (?:MySQL|MariaDB) server version`),
	body(MySQL, 5, "MySQL driver named", `com\.mysql\.(?:cj\.)?jdbc|\bMySQLdb\b|\bpymysql\b|mysql\.connector`),
	body(MySQL, 5, "MySQL error code", `\bER_(?:DUP_ENTRY|PARSE_ERROR|NO_SUCH_TABLE|BAD_FIELD_ERROR)\b|Error 1062(?: \(23000\))?: Duplicate entry`),
	body(MySQL, 4, "MySQL duplicate entry", `Duplicate entry '[^'\n]*' for key`),

	body(SQLite, 5, "sqlite3 exception", `sqlite3\.(?:Operational|Integrity|Programming|Database)Error|SQLiteException`),
	body(SQLite, 5, "SQLite result code", `\bSQLITE_(?:ERROR|CONSTRAINT|BUSY|MISMATCH|READONLY)\b`),
	body(SQLite, 4, "SQLite constraint message", `UNIQUE constraint failed: `),
	body(SQLite, 2, "SQLite missing-table message", `no such table: `),
	body(SQLite, 5, "SQLite unrecognized token", `unrecognized token: \\?"`),
	body(SQLite, 4, "SQLite syntax error", `near \\?"[^"\n]{1,80}\\?": syntax error`),

	body(MSSQL, 5, "SQL Server client exception", `System\.Data\.SqlClient\.SqlException|Microsoft\.Data\.SqlClient|com\.microsoft\.sqlserver`),
	body(MSSQL, 5, "SQL Server error message", `Unclosed quotation mark after the character string|Microsoft OLE DB Provider for SQL Server|\[Microsoft\]\[ODBC (?:Driver \d+ for )?SQL Server`),
	body(MSSQL, 3, "SQL Server syntax error", `Incorrect syntax near`),

	body(Oracle, 5, "Oracle error code", `\bORA-\d{5}\b`),
	body(Oracle, 5, "Oracle driver named", `oracle\.jdbc|\bcx_Oracle\b|oracledb\.exceptions`),
	body(Oracle, 5, "Oracle unterminated string", `quoted string not properly terminated`),
}

// springError recognises Spring Boot's default JSON error body, whose
// keys are exactly timestamp, status, error and path (plus optional
// message, trace and exception).
func springError(_ int, _ http.Header, body string) bool {
	b := strings.TrimSpace(body)
	if !strings.HasPrefix(b, "{") || !strings.Contains(b, `"timestamp"`) {
		return false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(b), &m) != nil {
		return false
	}
	for _, k := range []string{"timestamp", "status", "error", "path"} {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

// goNotFound recognises net/http's NotFound reply: a 404 whose plain-text
// body is exactly "404 page not found".
func goNotFound(status int, h http.Header, body string) bool {
	return status == http.StatusNotFound &&
		strings.HasPrefix(h.Get("Content-Type"), "text/plain") &&
		strings.TrimSpace(body) == "404 page not found"
}
