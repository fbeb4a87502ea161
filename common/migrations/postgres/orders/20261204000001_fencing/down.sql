DROP INDEX orders_pending;
ALTER TABLE idempotency_keys DROP COLUMN claim_token;
ALTER TABLE orders DROP COLUMN saga_token;
