CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'cancelled')),
    total_cents BIGINT NOT NULL CHECK (total_cents >= 0),
    failure TEXT
);
CREATE TABLE order_items (
    order_id BIGINT NOT NULL REFERENCES orders (id),
    line_no INTEGER NOT NULL,
    product_id BIGINT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents > 0),
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX orders_by_user ON orders (user_id, id);
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    request_fingerprint TEXT NOT NULL,
    status_code INTEGER,
    response_body TEXT
);
