-- Fencing tokens. Who holds a saga, or a request's claim on an
-- Idempotency-Key, is decided by a counter the database adds one to each
-- time it gets a new holder (an order placed, a cancel begun, a take-over),
-- never by comparing clocks: a lease's clock only says when a holder may be
-- presumed gone. Every write that moves, ends, stores or postpones a saga or
-- a claim names its writer's token, so a holder that was taken over changes
-- nothing.
ALTER TABLE orders ADD COLUMN saga_token BIGINT NOT NULL DEFAULT 0;
ALTER TABLE idempotency_keys ADD COLUMN claim_token BIGINT NOT NULL DEFAULT 0;
-- Recovery also resolves orders left pending with no saga recorded.
CREATE INDEX orders_pending ON orders (saga_lease_until) WHERE status = 'pending';
