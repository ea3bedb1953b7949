-- Bookings. A night is taken by an active booking (pending_payment, requested, confirmed,
-- completed); SQLite has no exclusion constraints, so the kernel checks for overlap and inserts
-- in one transaction that holds the write lock (BEGIN IMMEDIATE). Dates are a half-open range:
-- check-out day = the next stay's check-in day is allowed.
CREATE TABLE bookings (
    id                  BLOB PRIMARY KEY NOT NULL,
    listing_id          BLOB NOT NULL REFERENCES listings (id),
    guest_id            BLOB NOT NULL REFERENCES accounts (id),
    host_id             BLOB NOT NULL REFERENCES accounts (id),
    check_in            TEXT NOT NULL,
    check_out           TEXT NOT NULL,
    guests              INTEGER NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('pending_payment', 'requested', 'confirmed',
                            'completed', 'declined', 'cancelled', 'expired')),
    currency            TEXT NOT NULL,
    total_minor         INTEGER NOT NULL,
    line_items          TEXT NOT NULL,
    quote_id            BLOB,
    cancellation_policy TEXT NOT NULL,
    instant_book        BOOLEAN NOT NULL,
    provider            TEXT NOT NULL,
    expires_at          TEXT,
    end_reason          TEXT,
    refund_minor        INTEGER,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    CHECK (check_out > check_in)
);

CREATE INDEX bookings_active_idx ON bookings (listing_id, check_in, check_out)
    WHERE status IN ('pending_payment', 'requested', 'confirmed', 'completed');
CREATE INDEX bookings_guest_idx ON bookings (guest_id, created_at DESC, id DESC);
CREATE INDEX bookings_host_idx ON bookings (host_id, created_at DESC, id DESC);
CREATE INDEX bookings_timers_idx ON bookings (status, expires_at);

-- The payments ledger: one row per operation attempted with a provider, amounts in minor
-- units. An operation is recorded as `intent` before the provider is called and settled after,
-- so a crash in between leaves a row the reconciliation job finishes.
CREATE TABLE payments (
    id           BLOB PRIMARY KEY NOT NULL,
    booking_id   BLOB NOT NULL REFERENCES bookings (id),
    provider     TEXT NOT NULL,
    operation    TEXT NOT NULL CHECK (operation IN ('authorize', 'capture', 'refund', 'void')),
    status       TEXT NOT NULL CHECK (status IN ('intent', 'pending', 'succeeded', 'failed')),
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    provider_ref TEXT,
    -- The client's payment method token, on authorizations (reconciliation asks again with it).
    payment_method TEXT,
    detail       TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE INDEX payments_booking_idx ON payments (booking_id, created_at);
CREATE INDEX payments_ref_idx ON payments (provider, provider_ref);
CREATE INDEX payments_open_idx ON payments (updated_at) WHERE status IN ('intent', 'pending');
-- One live operation of each kind per booking: a booking is never charged (or refunded) twice.
CREATE UNIQUE INDEX payments_once_key ON payments (booking_id, operation) WHERE status <> 'failed';

-- Provider webhooks already applied, so a duplicate delivery changes nothing.
CREATE TABLE payment_webhooks (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    provider_ref TEXT NOT NULL,
    status       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- Idempotency keys of booking and money-moving requests, per account: the first request's
-- response is stored and replayed for the same key and body.
CREATE TABLE idempotency_keys (
    account_id  BLOB NOT NULL REFERENCES accounts (id),
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status_code INTEGER,
    body        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, key)
);

CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
