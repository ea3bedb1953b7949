-- Reviews of completed stays: the guest reviews the stay (listing and host), the host reviews
-- the guest; one per author per booking. `status`: `held` (waiting for a moderator), `hidden`
-- (accepted, not yet revealed: double-blind), `published` (visible), `rejected` (by a
-- moderator). `text` is what the policy accepted (contact details may be masked).
CREATE TABLE reviews (
    id            UUID PRIMARY KEY,
    booking_id    UUID NOT NULL REFERENCES bookings (id),
    listing_id    UUID NOT NULL REFERENCES listings (id),
    author_id     UUID NOT NULL REFERENCES accounts (id),
    subject_id    UUID NOT NULL REFERENCES accounts (id),
    author_role   TEXT NOT NULL CHECK (author_role IN ('guest', 'host')),
    rating        INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    text          TEXT NOT NULL,
    sub_ratings   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('held', 'hidden', 'published', 'rejected')),
    note          TEXT,
    response      TEXT,
    responded_at  TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    published_at  TIMESTAMPTZ,
    UNIQUE (booking_id, author_role)
);

CREATE INDEX reviews_listing_idx ON reviews (listing_id, published_at DESC, id DESC)
    WHERE status = 'published' AND author_role = 'guest';
CREATE INDEX reviews_subject_idx ON reviews (subject_id, published_at DESC, id DESC)
    WHERE status = 'published';
CREATE INDEX reviews_open_idx ON reviews (status, created_at) WHERE status IN ('held', 'hidden');
