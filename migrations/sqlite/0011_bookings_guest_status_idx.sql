-- A guest's unconfirmed bookings are counted on every booking (the hold caps): one index range
-- by guest and status, covering the listing, instead of reading all of the guest's bookings.
CREATE INDEX bookings_guest_status_idx ON bookings (guest_id, status, listing_id);
