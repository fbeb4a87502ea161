CREATE TABLE wallets (
    user_id BIGINT PRIMARY KEY,
    balance_cents BIGINT NOT NULL CHECK (balance_cents >= 0)
);
CREATE TABLE payments (
    order_id BIGINT PRIMARY KEY,
    -- NULL on a refund that found nothing to refund (it bars a late charge)
    user_id BIGINT,
    amount_cents BIGINT NOT NULL CHECK (amount_cents >= 0),
    status TEXT NOT NULL CHECK (status IN ('captured', 'refunded'))
);
