-- An authorization that already took the money (a bank transfer that arrived): if its booking
-- ends unconfirmed, the money is returned by a refund, since a void would return nothing.
ALTER TABLE payments ADD COLUMN collected BOOLEAN NOT NULL DEFAULT FALSE;
