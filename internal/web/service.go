package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/config"
	"github.com/merlonsec/merlon/internal/jobs"
	"github.com/merlonsec/merlon/internal/store"
)

// The logic both the pages and the API run, so that the two cannot grow
// different rules.

// targetInput is what a person gives for a new target or its settings.
type targetInput struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	Spec string `json:"spec"`
	// Identities is merlon.yaml text (see docs/identities.md). It holds
	// credentials, so it is write-only: no answer or page shows it again.
	// On a change, empty keeps the stored identities.
	Identities string `json:"identities"`
	// ClearIdentities removes the stored identities on a change.
	ClearIdentities bool `json:"clearIdentities"`
}

// createTarget validates in and stores a new target.
func (s *Server) createTarget(ctx context.Context, in targetInput) (*store.Target, error) {
	u, err := s.checkURL(ctx, "target URL", in.URL)
	if err != nil {
		return nil, err
	}
	t := &store.Target{Name: strings.TrimSpace(in.Name), URL: targetURL(u)}
	if t.Name == "" {
		t.Name = u.Host
	}
	if err := s.setSpec(ctx, &t.TargetSettings, in.Spec); err != nil {
		return nil, err
	}
	if err := setIdentities(&t.TargetSettings, in.Identities, false); err != nil {
		return nil, err
	}
	if err := s.store.CreateTarget(ctx, t); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &userError{status: 409, msg: "a target with this URL exists already", err: store.ErrConflict}
		}
		return nil, err
	}
	return t, nil
}

// targetURL is the form a target's URL is stored in, and looked up by.
func targetURL(u *url.URL) string { return strings.TrimRight(u.String(), "/") }

// setSpec checks and sets the spec of a target; empty removes it.
func (s *Server) setSpec(ctx context.Context, ts *store.TargetSettings, spec string) error {
	spec = strings.TrimSpace(spec)
	if spec != "" {
		// A path would make the server read its own files; only a
		// single-user server that allows private targets may do that.
		if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") || !s.private {
			if _, err := s.checkURL(ctx, "spec", spec); err != nil {
				return err
			}
		}
	}
	ts.Spec = spec
	return nil
}

// setIdentities replaces a target's identities with yamlText, removes
// them when clear is set, and keeps them when neither is given: the stored
// text is never shown, so a form or a PUT that leaves it out must not
// erase it.
func setIdentities(ts *store.TargetSettings, yamlText string, clear bool) error {
	given := strings.TrimSpace(yamlText) != ""
	switch {
	case given && clear:
		return badRequest("give new identities or remove them, not both")
	case clear:
		ts.Identities = nil
	case given:
		ids, err := storedIdentities(yamlText)
		if err != nil {
			return err
		}
		ts.Identities = ids
	}
	return nil
}

// storedIdentities checks merlon.yaml text and returns it as the JSON
// string the store keeps (Target.Identities). References to environment
// variables are refused: on a server they would hand the server's own
// environment to whoever wrote the YAML.
func storedIdentities(yamlText string) (json.RawMessage, error) {
	if strings.TrimSpace(yamlText) == "" {
		return nil, nil
	}
	noEnv := func(string) (string, bool) { return "", false }
	if _, err := config.Parse([]byte(yamlText), noEnv); err != nil {
		if errors.Is(err, config.ErrUnsetVariable) {
			return nil, badRequest("identities: ${VAR} references are not allowed on the server; write the values")
		}
		return nil, badRequest("identities: %v", err)
	}
	b, err := json.Marshal(yamlText)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// identityInfo is one configured identity without its credentials.
type identityInfo struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Login is set when the identity logs in rather than (or besides)
	// sending static headers and cookies.
	Login bool `json:"login"`
}

// identitiesInfo says what a target's stored identities configuration
// holds, and never a credential: header names, identity names and roles.
type identitiesInfo struct {
	// Configured is set when credentials are stored.
	Configured bool `json:"configured"`
	// Headers names the headers sent with every request.
	Headers    []string       `json:"headers"`
	Identities []identityInfo `json:"identities"`
}

// describeIdentities reads the stored configuration for identitiesInfo.
// Text that no longer parses is still reported as configured: it is
// there, and will be refused when a scan starts.
func describeIdentities(raw json.RawMessage) identitiesInfo {
	out := identitiesInfo{Headers: []string{}, Identities: []identityInfo{}}
	doc := strings.TrimSpace(string(raw))
	if doc == "" || doc == "null" || doc == `""` {
		return out
	}
	out.Configured = true
	var text string
	if json.Unmarshal(raw, &text) != nil {
		// Not the JSON string this server writes (the job runner also
		// takes a JSON object or list): present, but not described.
		return out
	}
	if strings.TrimSpace(text) == "" {
		out.Configured = false
		return out
	}
	f, err := config.Parse([]byte(text), func(string) (string, bool) { return "", false })
	if err != nil {
		return out
	}
	for name := range f.Headers {
		out.Headers = append(out.Headers, name)
	}
	slices.Sort(out.Headers)
	for _, id := range f.Identities {
		out.Identities = append(out.Identities, identityInfo{Name: id.Name, Role: id.Role, Login: id.Login != nil})
	}
	return out
}

// scheduleInput sets when a target is scanned on its own.
type scheduleInput struct {
	IntervalSeconds int64  `json:"intervalSeconds"`
	Cron            string `json:"cron"`
}

// applySchedule checks in with the scheduler's own rules
// (jobs.ValidateSchedule) and sets it on ts with its first run, computed as
// the scheduler computes every later one (jobs.NextRun).
func (s *Server) applySchedule(ts *store.TargetSettings, in scheduleInput) error {
	next := *ts
	next.IntervalSeconds, next.Cron, next.NextRunAt = in.IntervalSeconds, strings.Join(strings.Fields(in.Cron), " "), nil
	if err := jobs.ValidateSchedule(next); err != nil {
		return badRequest("%v", err)
	}
	if next.Scheduled() {
		at, err := jobs.NextRun(next, s.now())
		if err != nil {
			return badRequest("%v", err)
		}
		next.NextRunAt = &at
	}
	ts.IntervalSeconds, ts.Cron, ts.NextRunAt = next.IntervalSeconds, next.Cron, next.NextRunAt
	return nil
}

// webhookInput sets where a target's events go.
type webhookInput struct {
	URL string `json:"url"`
	// Secret signs the POSTs; empty keeps the current one, or makes a new
	// one when there is none.
	Secret string `json:"secret"`
}

func (s *Server) applyWebhook(ctx context.Context, ts *store.TargetSettings, in webhookInput) error {
	in.URL = strings.TrimSpace(in.URL)
	if in.URL == "" {
		ts.WebhookURL, ts.WebhookSecret = "", ""
		return nil
	}
	if _, err := s.checkURL(ctx, "webhook URL", in.URL); err != nil {
		return err
	}
	ts.WebhookURL = in.URL
	switch {
	case in.Secret != "":
		if len(in.Secret) < 16 {
			return badRequest("webhook secret must be at least 16 characters")
		}
		ts.WebhookSecret = in.Secret
	case ts.WebhookSecret == "":
		sec, err := store.NewToken()
		if err != nil {
			return err
		}
		ts.WebhookSecret = sec
	}
	return nil
}

// scanInput asks for a scan of a target.
type scanInput struct {
	TargetID int64 `json:"targetId"`
	// Mode is "passive" (the default: GET, HEAD and OPTIONS only) or
	// "active" (state-changing requests). Active needs Confirm to equal
	// the target's host, and the target to serve its verification token.
	Mode    string `json:"mode"`
	Confirm string `json:"confirm"`
}

// active reads Mode, refusing anything but the two modes.
func (in scanInput) active() (bool, error) {
	switch in.Mode {
	case "", "passive":
		return false, nil
	case "active":
		return true, nil
	}
	return false, badRequest("mode must be passive or active")
}

// scanOptions is what the store keeps in Scan.Options.
type scanOptions struct {
	Active bool `json:"active"`
}

// startScan queues a scan of t and hands it to the job runner.
func (s *Server) startScan(ctx context.Context, u *store.User, t *store.Target, in scanInput) (*store.Scan, error) {
	if _, err := s.checkURL(ctx, "target", t.URL); err != nil {
		return nil, err
	}
	active, err := in.active()
	if err != nil {
		return nil, err
	}
	if active {
		if strings.TrimSpace(in.Confirm) != targetHost(t) {
			return nil, badRequest("an active scan sends requests that change data: type the target's host (%s) to confirm", targetHost(t))
		}
		if err := s.verifyTarget(ctx, t); err != nil {
			return nil, err
		}
	}
	opts, err := json.Marshal(scanOptions{Active: active})
	if err != nil {
		return nil, err
	}
	sc := &store.Scan{TargetID: t.ID, Status: store.StatusQueued, RequestedBy: u.Email, Active: active, Options: opts}
	if err := s.store.CreateScan(ctx, sc); err != nil {
		return nil, fmt.Errorf("create scan: %w", err)
	}
	if err := s.jobs.EnqueueScan(ctx, sc.ID); err != nil {
		// The row would otherwise sit queued forever.
		if uerr := s.store.UpdateScanStatus(context.WithoutCancel(ctx), sc.ID, store.StatusFailed, "could not queue the scan"); uerr != nil {
			s.log.ErrorContext(ctx, "mark unqueued scan failed", "scan", sc.ID, "error", uerr)
		}
		return nil, fmt.Errorf("enqueue scan %d: %w", sc.ID, err)
	}
	s.metrics.scansStarted.Inc()
	return sc, nil
}

// statusInput is a person's decision about a finding.
type statusInput struct {
	State  store.FindingState `json:"state"`
	Reason string             `json:"reason"`
	// ExpiresAt ends an accepted risk (RFC 3339 or YYYY-MM-DD).
	ExpiresAt string `json:"expiresAt"`
}

func (s *Server) setStatus(ctx context.Context, u *store.User, targetID int64, fp string, in statusInput) (*store.FindingStatus, error) {
	if !in.State.Valid() {
		return nil, badRequest("state must be open, accepted, false_positive or fixed")
	}
	if !validFingerprint(fp) {
		return nil, &userError{status: 404, msg: "not found"}
	}
	st := &store.FindingStatus{TargetID: targetID, Fingerprint: fp, State: in.State, Reason: strings.TrimSpace(in.Reason), UpdatedBy: u.Email}
	if in.State == store.StateAccepted {
		if st.Reason == "" {
			return nil, badRequest("an accepted risk needs a reason")
		}
		if in.ExpiresAt == "" {
			return nil, badRequest("an accepted risk needs an expiry date")
		}
		exp, err := parseDate(in.ExpiresAt)
		if err != nil {
			return nil, err
		}
		if !exp.After(s.now()) {
			return nil, badRequest("the expiry date must be in the future")
		}
		st.ExpiresAt = &exp
	}
	if in.State == store.StateFalsePositive && st.Reason == "" {
		return nil, badRequest("a false positive needs a reason")
	}
	if err := s.store.SetFindingStatus(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

func parseDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, badRequest("expiry %q: want YYYY-MM-DD or RFC 3339", v)
	}
	return t.Add(24*time.Hour - time.Second).UTC(), nil
}

// validFingerprint accepts the hex fingerprints scan.Fingerprint makes.
func validFingerprint(fp string) bool {
	if len(fp) < 8 || len(fp) > 128 {
		return false
	}
	return strings.Trim(strings.ToLower(fp), "0123456789abcdef") == ""
}

// createToken makes an API token for u and returns its secret, shown once.
func (s *Server) createToken(ctx context.Context, u *store.User, name string) (string, *store.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, badRequest("a token needs a name of at most 100 characters")
	}
	raw, err := store.NewToken()
	if err != nil {
		return "", nil, err
	}
	t := &store.APIToken{UserID: u.ID, Name: name, Hash: store.HashToken(raw)}
	if err := s.store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	return raw, t, nil
}

// deleteToken revokes one of u's tokens; another user's token is not found.
func (s *Server) deleteToken(ctx context.Context, u *store.User, id int64) error {
	toks, err := s.store.ListAPITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.ID == id {
			return s.store.DeleteAPIToken(ctx, id)
		}
	}
	return store.ErrNotFound
}
