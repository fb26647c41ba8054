-- Merlon store schema, version 1 (SQLite).
-- Times are INTEGER microseconds since the Unix epoch, UTC, in both drivers:
-- the same query text then works on SQLite and PostgreSQL, compares as
-- numbers, and round-trips exactly.

CREATE TABLE targets (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	name             TEXT    NOT NULL DEFAULT '',
	url              TEXT    NOT NULL UNIQUE,
	spec             TEXT    NOT NULL DEFAULT '',
	identities       TEXT,
	interval_seconds INTEGER NOT NULL DEFAULT 0,
	cron             TEXT    NOT NULL DEFAULT '',
	webhook_url      TEXT    NOT NULL DEFAULT '',
	webhook_secret   TEXT    NOT NULL DEFAULT '',
	next_run_at      INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
CREATE INDEX targets_next_run ON targets (next_run_at) WHERE next_run_at IS NOT NULL;

CREATE TABLE scans (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	target_id    INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
	status       TEXT    NOT NULL,
	requested_by TEXT    NOT NULL DEFAULT '',
	active       BOOLEAN NOT NULL DEFAULT FALSE,
	options      TEXT,
	progress     INTEGER NOT NULL DEFAULT 0,
	message      TEXT    NOT NULL DEFAULT '',
	has_report   BOOLEAN NOT NULL DEFAULT FALSE,
	score        INTEGER NOT NULL DEFAULT 0,
	grade        TEXT    NOT NULL DEFAULT '',
	findings     INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	started_at   INTEGER,
	finished_at  INTEGER,
	reported_at  INTEGER
);
CREATE INDEX scans_target ON scans (target_id, id);
CREATE INDEX scans_reported ON scans (target_id, id) WHERE has_report;

-- One report per scan: the primary key is what makes SaveReport idempotent.
CREATE TABLE reports (
	scan_id    INTEGER PRIMARY KEY REFERENCES scans (id) ON DELETE CASCADE,
	body       TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);

CREATE TABLE findings (
	scan_id       INTEGER NOT NULL REFERENCES reports (scan_id) ON DELETE CASCADE,
	position      INTEGER NOT NULL,
	fingerprint   TEXT    NOT NULL,
	check_id      TEXT    NOT NULL,
	severity      TEXT    NOT NULL,
	severity_rank INTEGER NOT NULL,
	confidence    TEXT    NOT NULL,
	title         TEXT    NOT NULL,
	operation     TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (scan_id, position)
);
CREATE INDEX findings_fingerprint ON findings (fingerprint);

CREATE TABLE finding_status (
	target_id   INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
	fingerprint TEXT    NOT NULL,
	state       TEXT    NOT NULL,
	reason      TEXT    NOT NULL DEFAULT '',
	expires_at  INTEGER,
	updated_by  TEXT    NOT NULL DEFAULT '',
	updated_at  INTEGER NOT NULL,
	PRIMARY KEY (target_id, fingerprint)
);

CREATE TABLE finding_status_history (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	target_id   INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
	fingerprint TEXT    NOT NULL,
	state       TEXT    NOT NULL,
	reason      TEXT    NOT NULL DEFAULT '',
	expires_at  INTEGER,
	updated_by  TEXT    NOT NULL DEFAULT '',
	updated_at  INTEGER NOT NULL
);
CREATE INDEX finding_status_history_finding ON finding_status_history (target_id, fingerprint, id);

CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	email         TEXT    NOT NULL UNIQUE,
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
	token_hash TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL DEFAULT '',
	hash         TEXT    NOT NULL UNIQUE,
	last_used_at INTEGER,
	created_at   INTEGER NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

CREATE TABLE webhook_deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	target_id       INTEGER NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
	scan_id         INTEGER REFERENCES scans (id) ON DELETE SET NULL,
	event           TEXT    NOT NULL,
	payload         BLOB    NOT NULL,
	status_code     INTEGER NOT NULL DEFAULT 0,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	error           TEXT    NOT NULL DEFAULT '',
	delivered_at    INTEGER,
	created_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_target ON webhook_deliveries (target_id, id);
