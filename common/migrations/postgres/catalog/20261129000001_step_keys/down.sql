-- Step keys cannot be mapped back to order ids in general; this drops them.
DROP TABLE reservation_lines;
DROP TABLE reservations;
CREATE TABLE reservations (
    order_id BIGINT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('held', 'released'))
);
CREATE TABLE reservation_lines (
    order_id BIGINT NOT NULL REFERENCES reservations (order_id),
    product_id BIGINT NOT NULL REFERENCES products (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);
