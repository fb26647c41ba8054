package web

import (
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

// The JSON shapes of the API, described in openapi.json. They are their
// own types, not the store's, so a change of storage does not change the
// API and no secret field leaks by accident.

type targetJSON struct {
	ID           int64            `json:"id"`
	Name         string           `json:"name"`
	URL          string           `json:"url"`
	Spec         string           `json:"spec"`
	Identities   identitiesInfo   `json:"identities"`
	Schedule     scheduleJSON     `json:"schedule"`
	Webhook      webhookJSON      `json:"webhook"`
	Verification verificationJSON `json:"verification"`
	CreatedAt    time.Time        `json:"createdAt"`
	UpdatedAt    time.Time        `json:"updatedAt"`
}

type targetSummaryJSON struct {
	ID           int64       `json:"id"`
	Name         string      `json:"name"`
	URL          string      `json:"url"`
	LatestScanID int64       `json:"latestScanId"`
	Score        int         `json:"score"`
	Grade        string      `json:"grade"`
	History      []pointJSON `json:"history"`
}

type pointJSON struct {
	ScanID int64     `json:"scanId"`
	Score  int       `json:"score"`
	Grade  string    `json:"grade"`
	At     time.Time `json:"at"`
}

type scheduleJSON struct {
	IntervalSeconds int64      `json:"intervalSeconds"`
	Cron            string     `json:"cron"`
	NextRunAt       *time.Time `json:"nextRunAt"`
}

// webhookJSON never carries the secret except right after it was set.
type webhookJSON struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"`
}

type verificationJSON struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

type scanJSON struct {
	ID          int64      `json:"id"`
	TargetID    int64      `json:"targetId"`
	Status      string     `json:"status"`
	RequestedBy string     `json:"requestedBy"`
	Active      bool       `json:"active"`
	Progress    int        `json:"progress"`
	Message     string     `json:"message"`
	HasReport   bool       `json:"hasReport"`
	Score       int        `json:"score"`
	Grade       string     `json:"grade"`
	Findings    int        `json:"findings"`
	CreatedAt   time.Time  `json:"createdAt"`
	StartedAt   *time.Time `json:"startedAt"`
	FinishedAt  *time.Time `json:"finishedAt"`
}

type findingRowJSON struct {
	Fingerprint string `json:"fingerprint"`
	CheckID     string `json:"checkId"`
	Severity    string `json:"severity"`
	Confidence  string `json:"confidence"`
	Title       string `json:"title"`
	Operation   string `json:"operation"`
	State       string `json:"state"`
}

type statusJSON struct {
	Fingerprint string     `json:"fingerprint"`
	State       string     `json:"state"`
	Reason      string     `json:"reason"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	UpdatedBy   string     `json:"updatedBy"`
	UpdatedAt   *time.Time `json:"updatedAt"`
}

type deliveryJSON struct {
	ID            int64      `json:"id"`
	ScanID        int64      `json:"scanId"`
	Event         string     `json:"event"`
	StatusCode    int        `json:"statusCode"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	Error         string     `json:"error"`
	DeliveredAt   *time.Time `json:"deliveredAt"`
	CreatedAt     time.Time  `json:"createdAt"`
}

type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	CreatedAt  time.Time  `json:"createdAt"`
	// Token is the secret, present only in the answer that created it.
	Token string `json:"token,omitempty"`
}

func toTarget(t *store.Target) targetJSON {
	return targetJSON{
		ID: t.ID, Name: t.Name, URL: t.URL, Spec: t.Spec, Identities: describeIdentities(t.Identities),
		Schedule:     scheduleOf(t),
		Webhook:      webhookJSON{URL: t.WebhookURL},
		Verification: verificationJSON{URL: verificationURL(t), Token: verificationToken(t)},
		CreatedAt:    t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
}

func scheduleOf(t *store.Target) scheduleJSON {
	return scheduleJSON{IntervalSeconds: t.IntervalSeconds, Cron: t.Cron, NextRunAt: t.NextRunAt}
}

func toSummary(t store.TargetSummary) targetSummaryJSON {
	out := targetSummaryJSON{ID: t.ID, Name: t.Name, URL: t.URL, LatestScanID: t.LatestScanID, Score: t.Score, Grade: t.Grade, History: []pointJSON{}}
	for _, p := range t.History {
		out.History = append(out.History, pointJSON{ScanID: p.ScanID, Score: p.Score, Grade: p.Grade, At: p.At})
	}
	return out
}

func toScan(s *store.Scan) scanJSON {
	return scanJSON{
		ID: s.ID, TargetID: s.TargetID, Status: string(s.Status), RequestedBy: s.RequestedBy, Active: s.Active,
		Progress: s.Progress, Message: s.Message, HasReport: s.HasReport, Score: s.Score, Grade: s.Grade,
		Findings: s.Findings, CreatedAt: s.CreatedAt, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt,
	}
}

func toFindingRow(f store.FindingRow) findingRowJSON {
	return findingRowJSON{
		Fingerprint: f.Fingerprint, CheckID: f.CheckID, Severity: f.Severity.String(), Confidence: f.Confidence.String(),
		Title: f.Title, Operation: f.Operation, State: string(f.State),
	}
}

func toStatus(st *store.FindingStatus) statusJSON {
	out := statusJSON{Fingerprint: st.Fingerprint, State: string(st.State), Reason: st.Reason, ExpiresAt: st.ExpiresAt, UpdatedBy: st.UpdatedBy}
	if !st.UpdatedAt.IsZero() {
		at := st.UpdatedAt
		out.UpdatedAt = &at
	}
	return out
}

func toDelivery(d store.WebhookDelivery) deliveryJSON {
	return deliveryJSON{
		ID: d.ID, ScanID: d.ScanID, Event: d.Event, StatusCode: d.StatusCode, Attempts: d.Attempts,
		NextAttemptAt: d.NextAttemptAt, Error: d.Error, DeliveredAt: d.DeliveredAt, CreatedAt: d.CreatedAt,
	}
}

func toToken(t store.APIToken) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, LastUsedAt: t.LastUsedAt, CreatedAt: t.CreatedAt}
}
