-- The availability calendar: only days a host changed have a row. A missing row means
-- available at the listing's nightly price.
CREATE TABLE calendar_days (
    listing_id  BLOB NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    day         TEXT NOT NULL,
    blocked     INTEGER NOT NULL DEFAULT 0,
    price_minor INTEGER CHECK (price_minor IS NULL OR price_minor > 0),
    PRIMARY KEY (listing_id, day)
);
