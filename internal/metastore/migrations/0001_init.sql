-- 0001: users, login throttling, sessions, API tokens, audit log, release agenda.
-- Times are TEXT in UTC, fixed width ('2025-03-10T09:00:00.000000Z'), so that
-- they compare as text; agenda dates are 'YYYY-MM-DD'.

CREATE TABLE users (
	id           INTEGER PRIMARY KEY,
	name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
	password     TEXT,                      -- argon2id PHC string; NULL for OpenID Connect accounts
	oidc_issuer  TEXT,
	oidc_subject TEXT,
	roles        TEXT NOT NULL DEFAULT '',  -- oml.Roles.String(): 'analyst:016,editor:016'
	disabled     INTEGER NOT NULL DEFAULT 0,
	created      TEXT NOT NULL,
	UNIQUE (oidc_issuer, oidc_subject),
	CHECK ((password IS NULL) <> (oidc_issuer IS NULL))
);

-- Failed logins by the name tried, whether or not it is an account, so
-- that the lockout reveals nothing; rows older than the window are pruned.
CREATE TABLE login_failures (
	name TEXT NOT NULL COLLATE NOCASE,
	at   TEXT NOT NULL
);
CREATE INDEX login_failures_name ON login_failures(name, at);
CREATE INDEX login_failures_at ON login_failures(at);

CREATE TABLE login_locks (
	name  TEXT PRIMARY KEY COLLATE NOCASE,
	until TEXT NOT NULL
);

CREATE TABLE sessions (
	id         INTEGER PRIMARY KEY,
	token_hash TEXT NOT NULL UNIQUE,        -- hex sha256 of the bearer value; the value is never stored
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	csrf       TEXT NOT NULL,
	created    TEXT NOT NULL,
	expires    TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE tokens (
	id          TEXT PRIMARY KEY,
	secret_hash TEXT NOT NULL UNIQUE,       -- hex sha256 of the secret; the secret is never stored
	role        TEXT NOT NULL,
	label       TEXT NOT NULL DEFAULT '',
	created     TEXT NOT NULL,
	expires     TEXT NOT NULL,
	revoked     TEXT,
	last_used   TEXT
);

-- Append-only, hash-chained: hash = sha256(prev_hash || canonical entry).
CREATE TABLE audit (
	seq       INTEGER PRIMARY KEY,
	time      TEXT NOT NULL,
	actor     TEXT NOT NULL,
	action    TEXT NOT NULL,
	object    TEXT NOT NULL,
	rows      INTEGER NOT NULL,
	detail    TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash      TEXT NOT NULL
);
CREATE INDEX audit_action ON audit(action, seq);
CREATE INDEX audit_actor ON audit(actor, seq);

-- The last entry of the chain, written with it: removing entries from the
-- end of the log must also rewrite this row.
CREATE TABLE audit_head (
	one  INTEGER PRIMARY KEY CHECK (one = 1),
	seq  INTEGER NOT NULL,
	hash TEXT NOT NULL
);

CREATE TABLE agenda (
	id            INTEGER PRIMARY KEY,
	release       TEXT NOT NULL DEFAULT '',
	title         TEXT NOT NULL,
	content       TEXT NOT NULL DEFAULT '',
	date          TEXT NOT NULL,
	embargo_until TEXT,
	created       TEXT NOT NULL,
	updated       TEXT NOT NULL
);
CREATE UNIQUE INDEX agenda_release ON agenda(release) WHERE release <> '';
CREATE INDEX agenda_date ON agenda(date, id);
