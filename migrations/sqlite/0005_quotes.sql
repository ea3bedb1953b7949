-- Priced quotes, kept so a booking can hold the quoted price until expires_at.
CREATE TABLE quotes (
    id          BLOB PRIMARY KEY NOT NULL,
    listing_id  BLOB NOT NULL REFERENCES listings (id),
    account_id  BLOB REFERENCES accounts (id),
    check_in    TEXT NOT NULL,
    check_out   TEXT NOT NULL,
    guests      INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    total_minor INTEGER NOT NULL,
    line_items  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE INDEX quotes_expires_idx ON quotes (expires_at);
