ALTER TABLE idempotency_keys DROP COLUMN lease_until;
ALTER TABLE idempotency_keys DROP COLUMN order_id;
DROP INDEX orders_in_saga;
ALTER TABLE orders DROP COLUMN saga_lease_until;
ALTER TABLE orders DROP COLUMN saga_attempts;
ALTER TABLE orders DROP COLUMN saga_failure;
ALTER TABLE orders DROP COLUMN saga;
DROP INDEX orders_by_step_key;
ALTER TABLE orders DROP COLUMN step_key;
