-- JSON columns as JSONB, so the kernel reads and writes them as typed JSON (`sqlx::types::Json`),
-- which PostgreSQL maps to JSON/JSONB only. SQLite stores JSON as TEXT and needs no change.
ALTER TABLE listings ALTER COLUMN amenities TYPE JSONB USING amenities::jsonb;
ALTER TABLE listings ALTER COLUMN photo_urls TYPE JSONB USING photo_urls::jsonb;
ALTER TABLE quotes ALTER COLUMN line_items TYPE JSONB USING line_items::jsonb;
ALTER TABLE bookings ALTER COLUMN line_items TYPE JSONB USING line_items::jsonb;
