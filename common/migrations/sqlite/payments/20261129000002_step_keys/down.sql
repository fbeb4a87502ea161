DROP TABLE payments;
CREATE TABLE payments (
    order_id BIGINT PRIMARY KEY,
    user_id BIGINT,
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL CHECK (status IN ('captured', 'refunded'))
);
