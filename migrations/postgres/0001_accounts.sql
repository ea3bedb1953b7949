-- Accounts: one row per person. Emails are unique regardless of case (the index on lower(email)),
-- but stored as the user typed them. The password is an Argon2id PHC string, never plain text.
-- IDs are UUIDv7; times are UTC.
CREATE TABLE accounts (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CONSTRAINT accounts_role_check CHECK (role IN ('guest', 'host', 'admin')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));
