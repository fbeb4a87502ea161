-- Payments are keyed by the order's step key (see the catalog's migration of
-- the same name for why); rows from before get 'order-<id>'.
CREATE TABLE payments_keyed (
    step_key TEXT PRIMARY KEY,
    order_id BIGINT NOT NULL,
    -- NULL on a refund that found nothing to refund (it bars a late charge)
    user_id BIGINT,
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL CHECK (status IN ('captured', 'refunded'))
);
INSERT INTO payments_keyed (step_key, order_id, user_id, amount_cents, status)
    SELECT 'order-' || order_id, order_id, user_id, amount_cents, status FROM payments;
DROP TABLE payments;
ALTER TABLE payments_keyed RENAME TO payments;
