-- Reservations are keyed by the order's step key, a globally unique string
-- the orders component assigns, no longer by the order id: ids start again
-- at 1 if the orders database is reset while this one is kept, and a new
-- order's reserve would then be taken for a repeat of an old one.
-- Rows from before this migration get the key their order gets in the
-- orders database's own migration: 'order-<id>'.
CREATE TABLE reservations_keyed (
    step_key TEXT PRIMARY KEY,
    order_id BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'released'))
);
INSERT INTO reservations_keyed (step_key, order_id, status)
    SELECT 'order-' || order_id, order_id, status FROM reservations;
CREATE TABLE reservation_lines_keyed (
    step_key TEXT NOT NULL REFERENCES reservations_keyed (step_key),
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (step_key, product_id)
);
INSERT INTO reservation_lines_keyed (step_key, product_id, quantity)
    SELECT 'order-' || order_id, product_id, quantity FROM reservation_lines;
DROP TABLE reservation_lines;
DROP TABLE reservations;
ALTER TABLE reservations_keyed RENAME TO reservations;
ALTER TABLE reservation_lines_keyed RENAME TO reservation_lines;
