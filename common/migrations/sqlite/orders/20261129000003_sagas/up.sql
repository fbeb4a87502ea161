-- Every order gets a step key: the globally unique name under which the
-- catalog holds its stock and payments its money. Orders from before this
-- migration get 'order-<id>', as their rows in those components do.
ALTER TABLE orders ADD COLUMN step_key TEXT NOT NULL DEFAULT '';
UPDATE orders SET step_key = 'order-' || id;
CREATE UNIQUE INDEX orders_by_step_key ON orders (step_key);
-- The saga in flight on the order (microservices only): its next step
-- ('reserve', 'charge', 'compensate' or 'cancel'), NULL once it has ended.
ALTER TABLE orders ADD COLUMN saga TEXT
    CHECK (saga IN ('reserve', 'charge', 'compensate', 'cancel'));
-- When compensating: the error code the order is to be failed with.
ALTER TABLE orders ADD COLUMN saga_failure TEXT;
ALTER TABLE orders ADD COLUMN saga_attempts INTEGER NOT NULL DEFAULT 0;
-- Unix milliseconds until which the saga belongs to whoever runs it (the
-- request that placed the order, or a recovery pass); after that, recovery
-- may take it over.
ALTER TABLE orders ADD COLUMN saga_lease_until BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orders_in_saga ON orders (saga_lease_until) WHERE saga IS NOT NULL;
-- An Idempotency-Key's claim has a lease too, and names the order it placed,
-- so that a request taking over an expired claim resumes that order.
ALTER TABLE idempotency_keys ADD COLUMN order_id BIGINT;
ALTER TABLE idempotency_keys ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
