-- Priced quotes, kept so a booking can hold the quoted price until expires_at.
CREATE TABLE quotes (
    id          UUID PRIMARY KEY,
    listing_id  UUID NOT NULL REFERENCES listings (id),
    account_id  UUID REFERENCES accounts (id),
    check_in    DATE NOT NULL,
    check_out   DATE NOT NULL,
    guests      INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    line_items  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX quotes_expires_idx ON quotes (expires_at);
