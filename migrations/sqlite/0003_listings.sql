-- Listings. Money is integer minor units + ISO 4217 currency. Amenities are kept twice: as a JSON
-- array for reading, and in listing_amenities for the "has all of" search filter (indexed).
-- Soft delete: deleted_at. Search only sees published, undeleted rows, so the search indexes are
-- partial on exactly that.
CREATE TABLE listings (
    id                  BLOB PRIMARY KEY NOT NULL,
    host_id             BLOB NOT NULL REFERENCES accounts (id),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL,
    property_type       TEXT NOT NULL,
    address             TEXT NOT NULL,
    city                TEXT NOT NULL,
    -- The city lower-cased by the kernel (Unicode-aware, unlike SQLite's lower()), for search.
    city_key            TEXT NOT NULL,
    country             TEXT NOT NULL,
    latitude            REAL NOT NULL,
    longitude           REAL NOT NULL,
    max_guests          INTEGER NOT NULL CHECK (max_guests >= 1),
    bedrooms            INTEGER NOT NULL CHECK (bedrooms >= 0),
    beds                INTEGER NOT NULL CHECK (beds >= 0),
    bathrooms           REAL NOT NULL CHECK (bathrooms >= 0),
    amenities           TEXT NOT NULL,
    photo_urls          TEXT NOT NULL,
    nightly_price_minor INTEGER NOT NULL CHECK (nightly_price_minor > 0),
    currency            TEXT NOT NULL,
    min_nights          INTEGER NOT NULL CHECK (min_nights >= 1),
    max_nights          INTEGER NOT NULL CHECK (max_nights >= min_nights),
    instant_book        INTEGER NOT NULL,
    cancellation_policy TEXT NOT NULL CHECK (cancellation_policy IN ('flexible', 'moderate', 'strict')),
    status              TEXT NOT NULL CHECK (status IN ('draft', 'published', 'unlisted')),
    rating_avg          REAL,
    rating_count        INTEGER NOT NULL DEFAULT 0,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    deleted_at          TEXT
);

CREATE INDEX listings_host_idx ON listings (host_id);
CREATE INDEX listings_search_city_idx ON listings (country, city_key, nightly_price_minor, id)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX listings_search_price_idx ON listings (nightly_price_minor, id)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX listings_search_rating_idx ON listings (rating_avg, id)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX listings_search_newest_idx ON listings (id)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX listings_search_geo_idx ON listings (latitude, longitude)
    WHERE status = 'published' AND deleted_at IS NULL;
CREATE INDEX listings_search_guests_idx ON listings (max_guests)
    WHERE status = 'published' AND deleted_at IS NULL;

CREATE TABLE listing_amenities (
    amenity    TEXT NOT NULL,
    listing_id BLOB NOT NULL REFERENCES listings (id) ON DELETE CASCADE,
    PRIMARY KEY (amenity, listing_id)
);
