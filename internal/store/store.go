// Package store is where Merlon keeps what outlives one process: targets and
// their settings, scans and their reports, the status a person gave each
// finding, users, sessions, API tokens and webhook deliveries.
//
// The package holds the interface and the domain types only. Two drivers
// implement it, internal/store/sqlite (the embedded default, no cgo) and
// internal/store/postgres (for teams and distributed workers), and one
// conformance suite, internal/store/storetest, runs against both so that they
// cannot drift apart. internal/store/open picks a driver from a DSN.
//
// Callers should depend on the smallest interface they need (TargetStore,
// ScanStore, ...) so that they can be tested against either driver.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// Errors returned by every Store implementation. Callers test them with
// errors.Is; implementations wrap them with context.
var (
	// ErrNotFound means the record asked for does not exist (or, for a
	// session, has expired).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value is already taken: a target URL, a
	// user email, a session or API token hash.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means an argument is malformed: an unknown scan status or
	// finding state, an empty URL or email.
	ErrInvalid = errors.New("invalid argument")
	// ErrSchemaTooNew means the database was migrated by a newer Merlon
	// than this binary; opening it would risk corrupting data it does not
	// understand, so the driver refuses.
	ErrSchemaTooNew = errors.New("database schema is newer than this merlon binary")
)

// Store is everything Merlon persists. Implementations are safe for
// concurrent use by several goroutines and, for Postgres, several processes.
// Every time a Store returns is in UTC with microsecond precision, the finest
// both drivers keep.
type Store interface {
	TargetStore
	ScanStore
	FindingStatusStore
	UserStore
	WebhookStore
	// Close releases the database handle. The Store must not be used after.
	Close() error
}

// Page selects a window of a list. Limit <= 0 means DefaultPageLimit.
type Page struct {
	Limit  int
	Offset int
}

// DefaultPageLimit is the page size used when Page.Limit is not positive.
const DefaultPageLimit = 50

// HistoryLen is how many score points TargetSummary.History holds at most.
const HistoryLen = 20

// TargetStore keeps the APIs Merlon scans.
type TargetStore interface {
	// CreateTarget inserts t and sets t.ID, t.CreatedAt and t.UpdatedAt.
	// Returns ErrConflict if a target with the same URL exists, ErrInvalid
	// if t.URL is empty.
	CreateTarget(ctx context.Context, t *Target) error
	// GetTarget returns ErrNotFound if no target has this id.
	GetTarget(ctx context.Context, id int64) (*Target, error)
	// GetTargetByURL returns the target whose URL equals url exactly, or
	// ErrNotFound.
	GetTargetByURL(ctx context.Context, url string) (*Target, error)
	// ListTargets returns every target ordered by name then URL, each with
	// its latest reported score and a short history for a trend line.
	ListTargets(ctx context.Context) ([]TargetSummary, error)
	// UpdateTarget replaces the name and settings of target t.ID and sets
	// t.UpdatedAt. The URL cannot change. Returns ErrNotFound if the target
	// does not exist.
	UpdateTarget(ctx context.Context, t *Target) error
	// DeleteTarget removes a target with its scans, reports, finding
	// statuses and webhook deliveries. Returns ErrNotFound if it does not
	// exist.
	DeleteTarget(ctx context.Context, id int64) error
	// DueTargets returns the scheduled targets (interval or cron set) whose
	// NextRunAt is set and not after now, oldest due first.
	DueTargets(ctx context.Context, now time.Time) ([]Target, error)
	// SetNextRun sets (or, with nil, clears) the next scheduled run of a
	// target without touching its other settings. Returns ErrNotFound if the
	// target does not exist.
	SetNextRun(ctx context.Context, targetID int64, at *time.Time) error
}

// ScanStore keeps scans, their reports and the findings of each report.
type ScanStore interface {
	// CreateScan inserts s and sets s.ID and s.CreatedAt. An empty
	// s.Status means StatusQueued. Returns ErrNotFound if s.TargetID does
	// not exist, ErrInvalid for an unknown status.
	CreateScan(ctx context.Context, s *Scan) error
	// GetScan returns ErrNotFound if no scan has this id.
	GetScan(ctx context.Context, id int64) (*Scan, error)
	// UpdateScanStatus moves a scan to status and records message (a
	// failure reason, or empty). Moving to StatusRunning sets StartedAt if
	// unset; moving to a final status sets FinishedAt. Returns ErrNotFound
	// if the scan does not exist, ErrInvalid for an unknown status.
	UpdateScanStatus(ctx context.Context, id int64, status ScanStatus, message string) error
	// UpdateScanProgress records how far a running scan is (percent is
	// clamped to 0..100) and what it is doing. Returns ErrNotFound if the
	// scan does not exist.
	UpdateScanProgress(ctx context.Context, id int64, percent int, message string) error
	// SaveReport stores r as the report of scan scanID, one finding row per
	// r.Findings, and copies the score and grade onto the scan. It does not
	// change the scan's status. A finding of r whose status is StateFixed,
	// set before the scan started (r.StartedAt, else the scan's StartedAt,
	// else its CreatedAt), is a regression: SaveReport sets it back to
	// StateOpen, by UpdatedBySystem with a reason naming the scan, and
	// records the change in its history. It is idempotent: when the scan
	// already has a report (a retried job, two workers racing) it returns
	// nil and stores nothing, so a scan's report is stored exactly once.
	// Returns ErrNotFound if the scan does not exist.
	SaveReport(ctx context.Context, scanID int64, r *scan.Report) error
	// GetReport returns the stored report of a scan, or ErrNotFound if the
	// scan does not exist or has no report yet.
	GetReport(ctx context.Context, scanID int64) (*scan.Report, error)
	// ListScans returns a page of scans of one target, newest first; with
	// targetID 0 it lists the scans of every target. An unknown target
	// gives an empty list, not an error.
	ListScans(ctx context.Context, targetID int64, p Page) ([]Scan, error)
	// LatestReported returns up to two scans of a target that have a
	// report, newest first: [latest, previous], for a diff. An unknown
	// target or one never reported gives an empty list.
	LatestReported(ctx context.Context, targetID int64) ([]Scan, error)
	// CountScans counts the scans of one target, or of all with targetID 0.
	CountScans(ctx context.Context, targetID int64) (int, error)
	// ListFindings returns the finding rows of a scan's report, most severe
	// first, each with its target-wide status (StateOpen when none was set
	// or an acceptance expired: see FindingStatus.StateAt).
	// A scan without a report gives an empty list; an unknown scan gives
	// ErrNotFound.
	ListFindings(ctx context.Context, scanID int64) ([]FindingRow, error)
}

// FindingStatusStore keeps the status a person gave a finding. A status
// belongs to the pair (target, fingerprint), not to one scan, so it follows
// the finding from one scan to the next.
type FindingStatusStore interface {
	// SetFindingStatus records st (sets st.UpdatedAt to now when zero)
	// and appends it to the finding's history. Returns ErrNotFound if the
	// target does not exist, ErrInvalid for an unknown state or an empty
	// fingerprint.
	SetFindingStatus(ctx context.Context, st *FindingStatus) error
	// GetFindingStatus returns the finding's current status, its State read
	// at the store's clock by FindingStatus.StateAt (an expired acceptance
	// is StateOpen). It returns ErrNotFound if no status was ever set for
	// this finding; callers then treat it as StateOpen.
	GetFindingStatus(ctx context.Context, targetID int64, fingerprint string) (*FindingStatus, error)
	// ListFindingStatuses returns every status set on a target's findings,
	// each State read as GetFindingStatus reads it.
	ListFindingStatuses(ctx context.Context, targetID int64) ([]FindingStatus, error)
	// FindingStatusHistory returns every change of a finding's status,
	// oldest first, each as it was made (an acceptance stays accepted
	// there after it expired); empty if none.
	FindingStatusHistory(ctx context.Context, targetID int64, fingerprint string) ([]FindingStatus, error)
}

// UserStore keeps the people who sign in and their credentials. It stores
// hashes only: see HashPassword and HashToken.
type UserStore interface {
	// CreateUser inserts u (the email is lowercased) and sets u.ID and
	// u.CreatedAt. Returns ErrConflict if the email is taken, ErrInvalid if
	// it is empty.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns ErrNotFound if no user has this id.
	GetUser(ctx context.Context, id int64) (*User, error)
	// GetUserByEmail matches case-insensitively; ErrNotFound if none.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// CountUsers tells a fresh install (0) from a set-up one.
	CountUsers(ctx context.Context) (int, error)
	// ListUsers returns every user, oldest first.
	ListUsers(ctx context.Context) ([]User, error)
	// DeleteUser removes a user with their sessions and API tokens.
	// Returns ErrNotFound if no user has this id, and ErrConflict if it is
	// the last one: a store without users lets whoever reaches the server
	// first create an account, so removing the last is refused even when
	// two removals race.
	DeleteUser(ctx context.Context, id int64) error

	// CreateSession inserts s and sets s.CreatedAt. Returns ErrConflict if
	// the token hash exists, ErrNotFound if the user does not.
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns the session with this token hash, or ErrNotFound
	// if there is none or it expired before now.
	GetSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error)
	// DeleteSession removes a session (sign-out); deleting a missing one is
	// not an error.
	DeleteSession(ctx context.Context, tokenHash string) error
	// DeleteExpiredSessions removes sessions expired before now and says
	// how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// CreateAPIToken inserts t and sets t.ID and t.CreatedAt. Returns
	// ErrConflict if the hash exists, ErrNotFound if the user does not.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	// GetAPIToken returns the token with this hash, or ErrNotFound.
	GetAPIToken(ctx context.Context, hash string) (*APIToken, error)
	// TouchAPIToken records that a token was used at. Returns ErrNotFound
	// if the token does not exist.
	TouchAPIToken(ctx context.Context, id int64, at time.Time) error
	// ListAPITokens returns a user's tokens, oldest first.
	ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error)
	// DeleteAPIToken revokes a token. Returns ErrNotFound if it does not
	// exist.
	DeleteAPIToken(ctx context.Context, id int64) error
}

// WebhookStore keeps every webhook POST so the dashboard can show them.
type WebhookStore interface {
	// CreateDelivery inserts d and sets d.ID and d.CreatedAt. Returns
	// ErrNotFound if the target does not exist.
	CreateDelivery(ctx context.Context, d *WebhookDelivery) error
	// UpdateDelivery records the outcome of an attempt: StatusCode,
	// Attempts, NextAttemptAt, Error and DeliveredAt of d.ID. Returns
	// ErrNotFound if the delivery does not exist.
	UpdateDelivery(ctx context.Context, d *WebhookDelivery) error
	// GetDelivery returns ErrNotFound if no delivery has this id.
	GetDelivery(ctx context.Context, id int64) (*WebhookDelivery, error)
	// ListDeliveries returns a page of a target's deliveries, newest first.
	ListDeliveries(ctx context.Context, targetID int64, p Page) ([]WebhookDelivery, error)
}

// Target is an API Merlon scans, and how it scans it.
type Target struct {
	ID   int64
	Name string
	// URL is the base URL scanned; unique across targets.
	URL string
	TargetSettings
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TargetSettings are the parts of a target a person edits.
type TargetSettings struct {
	// Spec is the OpenAPI document, as a URL or a path; empty to discover.
	Spec string
	// Identities is the identities configuration, stored as given. The
	// store does not look inside it; nil is stored as null.
	Identities json.RawMessage
	// IntervalSeconds schedules a scan every so many seconds; 0 for none.
	IntervalSeconds int64
	// Cron schedules scans by a cron expression; empty for none. The store
	// does not parse it.
	Cron string
	// WebhookURL receives a signed POST on new findings or a grade drop;
	// WebhookSecret is the HMAC key.
	WebhookURL    string
	WebhookSecret string
	// NextRunAt is when the scheduler should next scan; nil when not
	// scheduled.
	NextRunAt *time.Time
}

// Scheduled reports whether the target has an interval or a cron schedule.
func (s TargetSettings) Scheduled() bool { return s.IntervalSeconds > 0 || s.Cron != "" }

// TargetSummary is a target as the target list shows it.
type TargetSummary struct {
	Target
	// LatestScanID is the newest scan with a report; 0 when none, and then
	// Score and Grade are zero.
	LatestScanID int64
	Score        int
	Grade        string
	// History holds the scores of up to HistoryLen latest reported scans,
	// oldest first, for a trend line.
	History []ScorePoint
}

// ScorePoint is the score of one reported scan.
type ScorePoint struct {
	ScanID int64
	Score  int
	Grade  string
	At     time.Time
}

// ScanStatus is where a scan is in its life.
type ScanStatus string

// The statuses of a scan. Done, Failed and Cancelled are final.
const (
	StatusQueued    ScanStatus = "queued"
	StatusRunning   ScanStatus = "running"
	StatusDone      ScanStatus = "done"
	StatusFailed    ScanStatus = "failed"
	StatusCancelled ScanStatus = "cancelled"
)

// Valid reports whether s is one of the known statuses.
func (s ScanStatus) Valid() bool {
	switch s {
	case StatusQueued, StatusRunning, StatusDone, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Final reports whether a scan in status s will not change any more.
func (s ScanStatus) Final() bool {
	return s == StatusDone || s == StatusFailed || s == StatusCancelled
}

// Scan is one run of Merlon against a target.
type Scan struct {
	ID       int64
	TargetID int64
	Status   ScanStatus
	// RequestedBy says who asked: a user's email, "schedule" or "cli".
	RequestedBy string
	// Active is set when state-changing requests were allowed.
	Active bool
	// Options are the scan options as the requester gave them; the store
	// does not look inside. nil is stored as null.
	Options json.RawMessage
	// Progress is 0..100; Message says what the scan is doing, or why it
	// failed.
	Progress int
	Message  string
	// HasReport is set once SaveReport stored the report; Score and Grade
	// are copied from it.
	HasReport bool
	Score     int
	Grade     string
	// Findings is the number of findings in the report.
	Findings   int
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// FindingRow is one finding of a stored report, as lists show it. The full
// finding, with evidence, is in the report (GetReport).
type FindingRow struct {
	ScanID      int64
	Fingerprint string
	CheckID     string
	Severity    scan.Severity
	Confidence  scan.Confidence
	Title       string
	// Operation is "METHOD /path", or empty for target-wide findings.
	Operation string
	// State is the target-wide status of this fingerprint.
	State FindingState
}

// FindingState is what a person decided about a finding.
type FindingState string

// The states of a finding. A finding without a recorded state is open.
const (
	StateOpen          FindingState = "open"
	StateAccepted      FindingState = "accepted"
	StateFalsePositive FindingState = "false_positive"
	StateFixed         FindingState = "fixed"
)

// Valid reports whether s is one of the known states.
func (s FindingState) Valid() bool {
	switch s {
	case StateOpen, StateAccepted, StateFalsePositive, StateFixed:
		return true
	}
	return false
}

// FindingStatus is the state of one finding of one target, or one change of
// it in a history.
type FindingStatus struct {
	TargetID    int64
	Fingerprint string
	// State is the state as of now: a Store returns an accepted risk past
	// its ExpiresAt as StateOpen (see StateAt).
	State FindingState
	// Reason justifies an accepted risk or a false positive.
	Reason string
	// ExpiresAt ends an accepted risk; nil for never. From ExpiresAt on,
	// the finding is open again. It is kept (with Reason) after it passed,
	// so a reader can say when an acceptance lapsed.
	ExpiresAt *time.Time
	// UpdatedBy is who made the change (an email, "cli", "system").
	UpdatedBy string
	UpdatedAt time.Time
}

// UpdatedBySystem is the UpdatedBy of a status the store changed by itself:
// SaveReport reopening a fixed finding that a later scan reported again.
const UpdatedBySystem = "system"

// StateAt is the state st has at now. An accepted risk lasts until its
// ExpiresAt: at and after that instant the finding is open again, since a
// risk accepted for a while must come back to someone's attention by itself.
// Every state a Store reports (FindingRow.State, GetFindingStatus,
// ListFindingStatuses) is already read this way with the store's clock;
// FindingStatusHistory keeps each change as it was made.
func (st *FindingStatus) StateAt(now time.Time) FindingState {
	if st.State == StateAccepted && st.ExpiresAt != nil && !st.ExpiresAt.After(now) {
		return StateOpen
	}
	return st.State
}

// User is a person who signs in to the dashboard.
type User struct {
	ID    int64
	Email string
	// PasswordHash is the output of HashPassword, never the password.
	PasswordHash string
	CreatedAt    time.Time
}

// Session is a signed-in browser. Only the hash of its cookie is stored.
type Session struct {
	// TokenHash is HashToken of the cookie value.
	TokenHash string
	UserID    int64
	ExpiresAt time.Time
	CreatedAt time.Time
}

// APIToken is a credential for the REST API. Only its hash is stored.
type APIToken struct {
	ID     int64
	UserID int64
	Name   string
	// Hash is HashToken of the token.
	Hash       string
	LastUsedAt *time.Time
	CreatedAt  time.Time
}

// WebhookDelivery is one webhook event and how its delivery went.
type WebhookDelivery struct {
	ID       int64
	TargetID int64
	// ScanID is the scan that caused the event; 0 for none.
	ScanID int64
	// Event names what happened: "findings.new", "grade.drop".
	Event   string
	Payload []byte
	// StatusCode is the receiver's last HTTP status; 0 before the first
	// attempt or when it could not be reached (see Error).
	StatusCode    int
	Attempts      int
	NextAttemptAt *time.Time
	Error         string
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}
