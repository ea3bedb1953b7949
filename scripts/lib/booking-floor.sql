-- pgbench: the rows and commits one Hearth booking makes on its request path (scripts/floor),
-- statement for statement, with the kernel's own work (plugins, HTTP, JSON) taken away.
-- A random listing and a random 3-night stay far out, so clients rarely collide (a collision is
-- refused by bookings_no_overlap, as in Hearth).
\set li random(0, 999)
\set gi random(0, 99)
\set day random(1, 3000000)
-- Stands in for the listing and session reads Hearth answers from its cache.
SELECT l.id AS lid, l.host_id AS hid, g.id AS gid, date '2030-01-01' + :day::int AS ci, date '2030-01-01' + :day::int + 3 AS co
  FROM floor_listings l, floor_guests g WHERE l.i = :li::int AND g.i = :gi::int \gset
-- The quote: the nights' prices and the nights taken.
SELECT day, blocked, price_minor FROM calendar_days WHERE listing_id = :lid AND day >= :ci AND day < :co ORDER BY day;
SELECT check_in, check_out FROM bookings WHERE listing_id = :lid AND status IN ('pending_payment', 'requested', 'confirmed', 'completed') AND check_in < :co AND check_out > :ci ORDER BY check_in;
-- Transaction 1: the quote row, the hold, the guest's holds counted, the authorization's intent.
BEGIN;
SELECT 1 FROM listings WHERE id = :lid FOR UPDATE;
SELECT day, blocked, price_minor FROM calendar_days WHERE listing_id = :lid AND day >= :ci AND day < :co ORDER BY day;
INSERT INTO quotes (id, listing_id, account_id, check_in, check_out, guests, currency, total_minor, line_items, created_at, expires_at)
  VALUES (gen_random_uuid(), :lid, :gid, :ci, :co, 1, 'EUR', 21124, (SELECT line_items FROM floor_sample), now(), now() + interval '30 minutes') RETURNING id AS qid \gset
INSERT INTO bookings (id, listing_id, guest_id, host_id, check_in, check_out, guests, status, currency, total_minor, line_items, quote_id, cancellation_policy, instant_book, provider, expires_at, end_reason, refund_minor, created_at, updated_at, check_in_at)
  VALUES (gen_random_uuid(), :lid, :gid, :hid, :ci, :co, 1, 'pending_payment', 'EUR', 21124, (SELECT line_items FROM floor_sample), :qid, 'flexible', false, 'payments-sandbox', now() + interval '15 minutes', NULL, NULL, now(), now(), now() + interval '400 days') RETURNING id AS bid \gset
SELECT 1 FROM accounts WHERE id = :gid FOR NO KEY UPDATE;
SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN listing_id = :lid THEN 1 ELSE 0 END), 0) AS of_listing FROM bookings WHERE guest_id = :gid AND status IN ('pending_payment', 'requested');
INSERT INTO payments (id, booking_id, provider, operation, status, amount_minor, currency, provider_ref, payment_method, failure_code, detail, collected, created_at, updated_at)
  VALUES (gen_random_uuid(), :bid, 'payments-sandbox', 'authorize', 'intent', 21124, 'EUR', NULL, '4242424242424242', NULL, NULL, false, now(), now()) RETURNING id AS pid \gset
COMMIT;
-- (the provider is called here, outside any transaction)
-- Transaction 2: the answer settled, the booking moved on, its two events.
BEGIN;
UPDATE payments SET status = 'succeeded', provider_ref = 'sbx_' || id, payment_method = '••••4242', updated_at = now() WHERE id = :pid AND status IN ('intent', 'pending');
UPDATE bookings SET status = 'requested', expires_at = now() + interval '1 day', updated_at = now() WHERE id = :bid AND status IN ('pending_payment');
SELECT g.email, g.display_name, h.email, h.display_name, COALESCE((SELECT title FROM listings WHERE id = :lid::uuid), '') FROM accounts g, accounts h WHERE g.id = :gid AND h.id = :hid;
INSERT INTO events (id, kind, payload, occurred_at) VALUES (gen_random_uuid(), 'payment_authorized', (SELECT payload FROM floor_sample), now());
SELECT g.email, g.display_name, h.email, h.display_name, COALESCE((SELECT title FROM listings WHERE id = :lid::uuid), '') FROM accounts g, accounts h WHERE g.id = :gid AND h.id = :hid;
INSERT INTO events (id, kind, payload, occurred_at) VALUES (gen_random_uuid(), 'booking_requested', (SELECT payload FROM floor_sample), now());
COMMIT;
