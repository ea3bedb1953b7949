-- Sessions: a bearer token is given to the client once; only its SHA-256 is stored, so a leaked
-- database does not leak usable tokens. Logout deletes the row.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    account_id  BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE INDEX sessions_account_id_idx ON sessions (account_id);
