-- Sessions: a bearer token is given to the client once; only its SHA-256 is stored, so a leaked
-- database does not leak usable tokens. Logout deletes the row.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_account_id_idx ON sessions (account_id);
