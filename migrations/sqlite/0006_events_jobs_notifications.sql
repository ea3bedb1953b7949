-- The transactional outbox: domain changes insert their event here in the same transaction, and
-- the relay publishes rows in `seq` order once committed (`published_at` set when handed on).
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           BLOB NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    published_at TEXT
);

CREATE INDEX events_unpublished_idx ON events (seq) WHERE published_at IS NULL;

-- One row per (subscriber group, event) once the group handled it (or gave up on it): delivery is
-- at least once, and this is how a redelivery is recognised and skipped.
CREATE TABLE event_receipts (
    subscriber TEXT NOT NULL,
    event_id   BLOB NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('handled', 'dead')),
    error      TEXT,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (subscriber, event_id)
);

-- Durable jobs. A claimed job is `running` with a lease; a job whose lease ran out is claimable
-- again. (worker, attempts) fences a run: only the run holding the current lease may finish it.
CREATE TABLE jobs (
    id           BLOB PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       TEXT NOT NULL,
    lease_until  TEXT,
    worker       TEXT,
    last_error   TEXT,
    unique_key   TEXT UNIQUE,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    finished_at  TEXT
);

CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_state_idx ON jobs (state, updated_at);

-- What notifier plugins chose to deliver for an event, one row per delivery, and how it went.
CREATE TABLE deliveries (
    id           BLOB PRIMARY KEY NOT NULL,
    event_id     BLOB NOT NULL,
    plugin_id    TEXT NOT NULL,
    position     INTEGER NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('inbox', 'email', 'webhook')),
    target       TEXT,
    recipient_id BLOB,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (event_id, plugin_id, position)
);

-- The in-app inbox. A row's id is the id of the delivery that put it there.
CREATE TABLE notifications (
    id         BLOB PRIMARY KEY NOT NULL,
    account_id BLOB NOT NULL REFERENCES accounts (id),
    event_id   BLOB NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT
);

CREATE INDEX notifications_account_idx ON notifications (account_id, created_at DESC, id DESC);
