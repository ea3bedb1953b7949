-- A failed operation's code (card_declined, insufficient_funds, provider_error, ...): what the
-- guest and host see. `detail` keeps the provider's own words for admins only.
ALTER TABLE payments ADD COLUMN failure_code TEXT;
