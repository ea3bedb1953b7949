-- The availability calendar: only days a host changed have a row. A missing row means
-- available at the listing's nightly price.
CREATE TABLE calendar_days (
    listing_id  UUID NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    day         DATE NOT NULL,
    blocked     BOOLEAN NOT NULL DEFAULT FALSE,
    price_minor BIGINT CHECK (price_minor IS NULL OR price_minor > 0),
    PRIMARY KEY (listing_id, day)
);
