CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    price_cents BIGINT NOT NULL CHECK (price_cents > 0),
    stock BIGINT NOT NULL CHECK (stock >= 0)
);
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
