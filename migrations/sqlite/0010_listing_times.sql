-- Stays obey time. Each listing gets its IANA time zone (stays are dates there), the local times
-- check-in opens and check-out closes ("HH:MM"), the notice a booking needs before check-in opens,
-- how many days ahead it takes stays (NULL: as far as `bookings.max_days_ahead` allows), and the
-- nights it keeps free before and after each booking. Existing listings get the defaults new ones
-- get: UTC, 15:00, 11:00, no notice, no window of their own, no preparation nights. The kernel
-- parses the zone and times when it reads a row, so a bad value is an error, never a guess.
ALTER TABLE listings ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE listings ADD COLUMN check_in_time TEXT NOT NULL DEFAULT '15:00';
ALTER TABLE listings ADD COLUMN check_out_time TEXT NOT NULL DEFAULT '11:00';
ALTER TABLE listings ADD COLUMN advance_notice_hours INTEGER NOT NULL DEFAULT 0
    CHECK (advance_notice_hours BETWEEN 0 AND 168);
ALTER TABLE listings ADD COLUMN availability_window_days INTEGER
    CHECK (availability_window_days BETWEEN 1 AND 1096);
ALTER TABLE listings ADD COLUMN preparation_nights INTEGER NOT NULL DEFAULT 0
    CHECK (preparation_nights BETWEEN 0 AND 7);

-- A booking remembers when check-in opens (UTC), fixed when it is made from the listing's zone
-- and check-in time: cancellation deadlines count back from it. Existing bookings were made under
-- the defaults above, so theirs is 15:00 UTC on the check-in day (written as the kernel writes
-- instants, so they compare as text). SQLite cannot add a NOT NULL column without a constant
-- default; every row is filled here and the kernel always writes it (a NULL fails to decode).
ALTER TABLE bookings ADD COLUMN check_in_at TEXT;
UPDATE bookings SET check_in_at = check_in || 'T15:00:00+00:00';
