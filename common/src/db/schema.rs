//! The tables, grouped by the component that owns them. In the monolith all of
//! them live in one database; each service creates only its own component's
//! (see migrations.rs).

// --- users ---------------------------------------------------------------
diesel::table! {
    users (id) {
        id -> BigInt,
        name -> Text,
        email -> Text,
        /// The email lower-cased: unique, so registration is case-insensitive.
        email_key -> Text,
    }
}

// --- catalog ---------------------------------------------------------------
diesel::table! {
    products (id) {
        id -> BigInt,
        name -> Text,
        price_cents -> BigInt,
        stock -> BigInt,
    }
}

diesel::table! {
    /// One row per order that reserved stock, by the order's step key:
    /// `held`, or `released` once the stock went back (a release that arrives
    /// first leaves a `released` row, so a late reserve for the same order
    /// does nothing).
    reservations (step_key) {
        step_key -> Text,
        order_id -> BigInt,
        status -> Text,
    }
}

diesel::table! {
    reservation_lines (step_key, product_id) {
        step_key -> Text,
        product_id -> BigInt,
        quantity -> BigInt,
    }
}

// --- payments --------------------------------------------------------------
diesel::table! {
    wallets (user_id) {
        user_id -> BigInt,
        balance_cents -> BigInt,
    }
}

diesel::table! {
    /// One row per order that was charged, by the order's step key:
    /// `captured`, or `refunded`.
    payments (step_key) {
        step_key -> Text,
        order_id -> BigInt,
        /// `NULL` on a refund that found nothing to refund.
        user_id -> Nullable<BigInt>,
        amount_cents -> BigInt,
        status -> Text,
    }
}

// --- orders ----------------------------------------------------------------
diesel::table! {
    orders (id) {
        id -> BigInt,
        user_id -> BigInt,
        status -> Text,
        total_cents -> BigInt,
        failure -> Nullable<Text>,
        /// Globally unique: the name of the order's steps in the catalog and
        /// payments components (ids restart if this database is reset).
        step_key -> Text,
        /// The saga in flight (microservices): its next step, or `NULL`.
        saga -> Nullable<Text>,
        /// When compensating: the error code the order will fail with.
        saga_failure -> Nullable<Text>,
        saga_attempts -> Integer,
        /// Unix ms until which the saga's current runner owns it: after
        /// that, another may take it over.
        saga_lease_until -> BigInt,
        /// The fencing token of the saga's current holder: one more with
        /// each new holder; every write of the saga names it.
        saga_token -> BigInt,
    }
}

diesel::table! {
    order_items (order_id, line_no) {
        order_id -> BigInt,
        line_no -> Integer,
        product_id -> BigInt,
        quantity -> BigInt,
        unit_price_cents -> BigInt,
    }
}

diesel::table! {
    /// `POST /orders` requests by `Idempotency-Key`: a row without a response
    /// is a request still in flight.
    idempotency_keys (key) {
        key -> Text,
        request_fingerprint -> Text,
        status_code -> Nullable<Integer>,
        response_body -> Nullable<Text>,
        /// The order the claiming request placed, once it is recorded.
        order_id -> Nullable<BigInt>,
        /// Unix ms until which the claim is its request's; later, another
        /// request with the key may take it over.
        lease_until -> BigInt,
        /// The fencing token of the claim's current holder: one more with
        /// each take-over; every write that ends the claim names it.
        claim_token -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(reservations, reservation_lines);
diesel::allow_tables_to_appear_in_same_query!(orders, order_items);
