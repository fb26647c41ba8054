// Package fingerprint guesses the framework and datastore behind an API
// from the responses a scan sees anyway: headers, cookies, default error
// pages and database error messages. Merlon uses the guess to pick
// remediation that names the setting to change in that framework, so a
// wrong guess costs only less specific advice; rules are still chosen to
// be specific, and a guess needs more than one weak hint.
package fingerprint

import (
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/merlonsec/merlon/internal/scan"
)

// Framework and datastore names, as they appear in scan.Stack and in the
// remediation file names of package remedy.
const (
	Flask   = "flask"
	FastAPI = "fastapi"
	Django  = "django"
	Express = "express"
	Rails   = "rails"
	Spring  = "spring"
	ASPNET  = "aspnet"
	Go      = "go"

	DynamoDB   = "dynamodb"
	MongoDB    = "mongodb"
	PostgreSQL = "postgresql"
	MySQL      = "mysql"
	SQLite     = "sqlite"
	MSSQL      = "mssql"
	Oracle     = "oracle"
)

// MinScore is the least total weight a guess needs. A single weak hint
// (a JSESSIONID cookie, the word "botocore") scores 1 and is not enough.
const MinScore = 2

// maxBody bounds how much of a body the rules read: signatures sit near
// the top of error pages, and scanning megabytes per response is waste.
const maxBody = 64 << 10

// maxShown bounds the matched text quoted in a signal.
const maxShown = 80

// Detector accumulates evidence from exchanges. The zero value is ready to
// use, and it is safe for concurrent use: the engine feeds it from every
// check's goroutine.
type Detector struct {
	mu     sync.Mutex
	server string
	// hits maps tech name to the rules that matched it, each counted once
	// however often it matches, so that a hundred identical responses
	// weigh no more than one.
	hits map[string]map[*rule]string
}

// Observe records what ex reveals. A nil exchange is ignored.
func (d *Detector) Observe(ex *scan.Exchange) {
	if ex == nil {
		return
	}
	resp := &ex.Response
	body := resp.Body
	if body == "" && len(resp.Raw) > 0 {
		body = string(resp.Raw[:min(len(resp.Raw), maxBody)])
	}
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	var found []struct {
		r     *rule
		shown string
	}
	text := &bodyText{s: body}
	for _, r := range rules {
		if shown, ok := r.match(resp.Status, resp.Header, text); ok {
			found = append(found, struct {
				r     *rule
				shown string
			}{r, shown})
		}
	}
	server := strings.TrimSpace(http.Header(resp.Header).Get("Server"))

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.server == "" {
		d.server = server
	}
	if d.hits == nil {
		d.hits = make(map[string]map[*rule]string)
	}
	for _, f := range found {
		m := d.hits[f.r.tech]
		if m == nil {
			m = make(map[*rule]string)
			d.hits[f.r.tech] = m
		}
		if _, ok := m[f.r]; !ok {
			m[f.r] = f.shown
		}
	}
}

// Stack returns the best guesses so far: the framework and the datastore
// with the highest score of at least MinScore (ties go to the one listed
// first in the rules), the first Server header seen, and the signals each
// guess rests on.
func (d *Detector) Stack() scan.Stack {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := scan.Stack{Server: d.server}
	var fwSignals, dsSignals []string
	st.Framework, fwSignals = d.best(frameworks)
	st.Datastore, dsSignals = d.best(datastores)
	st.Signals = append(fwSignals, dsSignals...)
	return st
}

// best returns the highest-scoring of techs and the signals behind it.
func (d *Detector) best(techs []string) (string, []string) {
	var name string
	top := 0
	for _, tech := range techs {
		score := 0
		for r := range d.hits[tech] {
			score += r.weight
		}
		if score >= MinScore && score > top {
			name, top = tech, score
		}
	}
	if name == "" {
		return "", nil
	}
	var sig []string
	for r, shown := range d.hits[name] {
		s := name + ": " + r.what
		if shown != "" {
			s += " (" + shown + ")"
		}
		sig = append(sig, s)
	}
	sort.Strings(sig)
	return name, sig
}
