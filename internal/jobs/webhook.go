package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/merlonsec/merlon/internal/netguard"
	"github.com/merlonsec/merlon/internal/store"
)

// The headers of a webhook POST. The signature covers the timestamp and
// the body, so a captured request cannot be replayed later with another
// timestamp, nor its body changed.
const (
	HeaderTimestamp = "X-Merlon-Timestamp"
	HeaderSignature = "X-Merlon-Signature"
	HeaderEvent     = "X-Merlon-Event"
	HeaderDelivery  = "X-Merlon-Delivery"
)

// The webhook events.
const (
	EventNewFindings = "findings.new"
	EventGradeDrop   = "grade.drop"
)

// Errors of Verify.
var (
	ErrSignatureMismatch = errors.New("webhook signature does not match")
	ErrSignatureStale    = errors.New("webhook timestamp outside the tolerance")
	ErrSignatureMissing  = errors.New("webhook signature missing or malformed")
)

// Sign returns the X-Merlon-Signature value for body sent at timestamp
// (Unix seconds): "v1=" and the hex HMAC-SHA256, keyed by secret, of
// "<timestamp>.<body>". The "v1" names the scheme so it can change later
// without breaking receivers.
func Sign(secret string, timestamp int64, body []byte) string {
	return "v1=" + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a webhook a receiver got: timestamp is the
// X-Merlon-Timestamp header, signatureHeader the X-Merlon-Signature one,
// body the raw request body. It fails with ErrSignatureStale when the
// timestamp is further than tolerance from now (replays), with
// ErrSignatureMissing for a malformed header, and with
// ErrSignatureMismatch when no v1 signature matches. signatureHeader may
// hold several comma-separated v1= values, so that a secret can be rotated
// while both are accepted. The comparison is constant-time.
func Verify(secret, timestamp string, body []byte, signatureHeader string, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrSignatureMissing)
	}
	d := now.Sub(time.Unix(ts, 0))
	if d < 0 {
		d = -d
	}
	if d > tolerance {
		return ErrSignatureStale
	}
	want := mac(secret, strconv.FormatInt(ts, 10), body)
	found := false
	for _, part := range strings.Split(signatureHeader, ",") {
		scheme, sig, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || scheme != "v1" {
			continue
		}
		got, err := hex.DecodeString(sig)
		if err != nil {
			continue
		}
		found = true
		if hmac.Equal(got, want) {
			return nil
		}
	}
	if !found {
		return ErrSignatureMissing
	}
	return ErrSignatureMismatch
}

// WebhookArgs is one webhook event to deliver. A retried scan job enqueues
// the same args again; uniqueness on (ScanID, Event), the fields tagged
// unique (see InsertOpts), keeps that from notifying twice.
type WebhookArgs struct {
	TargetID int64           `json:"target_id"`
	ScanID   int64           `json:"scan_id" river:"unique"`
	Event    string          `json:"event" river:"unique"`
	Payload  json.RawMessage `json:"payload"`
}

// Kind names the job in River's table.
func (WebhookArgs) Kind() string { return "merlon.webhook" }

// InsertOpts makes a webhook unique by its args' unique fields, scan and
// event, in every state but cancelled and discarded: once delivered or
// while pending, the same event is not queued again. River reads the
// `river:"unique"` tags only when ByArgs is set. Runner.enqueueWebhook
// adds the runner's attempt count.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueDefault,
		MaxAttempts: DefaultWebhookAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}
}

// enqueueWebhook queues one event with Config.WebhookAttempts attempts. It
// reports whether a job was inserted: false when the same scan and event
// was queued before.
func (r *Runner) enqueueWebhook(ctx context.Context, a WebhookArgs) (bool, error) {
	opts := a.InsertOpts()
	opts.MaxAttempts = r.cfg.WebhookAttempts
	res, err := r.client.Insert(ctx, a, &opts)
	if err != nil {
		return false, fmt.Errorf("enqueue webhook: %w", err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// DefaultWebhookAttempts is how many times a webhook is tried before it is
// given up.
const DefaultWebhookAttempts = 8

// DefaultWebhookBackoff waits 10 s after the first failure and doubles
// each time, up to an hour: 10s, 20s, 40s ... about 21 minutes in all over
// eight attempts.
func DefaultWebhookBackoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// WebhookWorker POSTs one event to the target's webhook URL, signed with
// its secret, and records every attempt as a store.WebhookDelivery.
type WebhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	r *Runner
}

// Timeout bounds one attempt.
func (w *WebhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return time.Minute }

// NextRetry applies the runner's backoff instead of River's default.
func (w *WebhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	return w.r.now().Add(w.r.cfg.webhookBackoff(job.Attempt))
}

// Work makes one delivery attempt. It returns an error for anything but a
// 2xx answer so that River retries it; a target without a webhook URL (it
// was removed since), or one that resolves to an internal address on a
// server that refuses those, cancels the job.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	r := w.r
	a := job.Args
	t, err := r.store.GetTarget(ctx, a.TargetID)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("webhook: target %d is gone", a.TargetID))
	}
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	if t.WebhookURL == "" {
		return river.JobCancel(fmt.Errorf("webhook: target %d has no webhook URL", a.TargetID))
	}
	d, err := r.delivery(ctx, a)
	if err != nil {
		return err
	}
	now := r.now()
	status, sendErr := r.post(ctx, t, d, now)
	// An address refused by the guard stays refused: no retry.
	refused := errors.Is(sendErr, netguard.ErrRefused)
	d.StatusCode = status
	d.Attempts = job.Attempt
	d.Error = ""
	d.NextAttemptAt = nil
	if sendErr == nil {
		at := now
		d.DeliveredAt = &at
	} else {
		d.Error = sendErr.Error()
		if job.Attempt < job.MaxAttempts && !refused {
			next := now.Add(r.cfg.webhookBackoff(job.Attempt))
			d.NextAttemptAt = &next
		}
	}
	if err := r.store.UpdateDelivery(ctx, d); err != nil {
		return errors.Join(sendErr, fmt.Errorf("webhook: record delivery: %w", err))
	}
	if refused {
		return river.JobCancel(sendErr)
	}
	return sendErr
}

// delivery finds the record of this event, made by an earlier attempt, or
// creates it.
func (r *Runner) delivery(ctx context.Context, a WebhookArgs) (*store.WebhookDelivery, error) {
	for off := 0; ; off += store.DefaultPageLimit {
		ds, err := r.store.ListDeliveries(ctx, a.TargetID, store.Page{Limit: store.DefaultPageLimit, Offset: off})
		if err != nil {
			return nil, fmt.Errorf("webhook: list deliveries: %w", err)
		}
		for i := range ds {
			if ds[i].ScanID == a.ScanID && ds[i].Event == a.Event {
				return &ds[i], nil
			}
		}
		// Deliveries are listed newest first: past the page holding this
		// scan's age there is nothing to find.
		if len(ds) < store.DefaultPageLimit || ds[len(ds)-1].ScanID < a.ScanID {
			break
		}
	}
	d := &store.WebhookDelivery{TargetID: a.TargetID, ScanID: a.ScanID, Event: a.Event, Payload: a.Payload}
	if err := r.store.CreateDelivery(ctx, d); err != nil {
		return nil, fmt.Errorf("webhook: create delivery: %w", err)
	}
	return d, nil
}

// post sends the signed request and returns the receiver's status.
func (r *Runner) post(ctx context.Context, t *store.Target, d *store.WebhookDelivery, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.WebhookURL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "merlon-webhook/"+r.cfg.Version)
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(t.WebhookSecret, ts, d.Payload))
	resp, err := r.hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("webhook: receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return resp.StatusCode, nil
}

// Payload is the JSON body of every webhook.
type Payload struct {
	Event  string        `json:"event"`
	Target PayloadTarget `json:"target"`
	Scan   PayloadScan   `json:"scan"`
	// Previous is the scan compared against.
	Previous PayloadScan `json:"previous"`
	// NewFindings are the findings of Scan whose fingerprint Previous did
	// not have.
	NewFindings []PayloadFinding `json:"new_findings"`
	// Fixed counts the findings of Previous that Scan no longer has.
	Fixed int `json:"fixed"`
}

// PayloadTarget names the target of a webhook.
type PayloadTarget struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// PayloadScan is a scan's outcome in a webhook.
type PayloadScan struct {
	ID       int64  `json:"id"`
	Score    int    `json:"score"`
	Grade    string `json:"grade"`
	Findings int    `json:"findings"`
}

// PayloadFinding is one new finding in a webhook.
type PayloadFinding struct {
	Fingerprint string `json:"fingerprint"`
	CheckID     string `json:"check_id"`
	Title       string `json:"title"`
	Severity    string `json:"severity"`
	Confidence  string `json:"confidence"`
	Operation   string `json:"operation,omitempty"`
}
