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
    /// One row per order that reserved stock: `held`, or `released` once the
    /// stock went back (a release that arrives first leaves a `released` row,
    /// so a late reserve for the same order does nothing).
    reservations (order_id) {
        order_id -> BigInt,
        status -> Text,
    }
}

diesel::table! {
    reservation_lines (order_id, product_id) {
        order_id -> BigInt,
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
    /// One row per order that was charged: `captured`, or `refunded`.
    payments (order_id) {
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
    }
}

diesel::allow_tables_to_appear_in_same_query!(reservations, reservation_lines);
diesel::allow_tables_to_appear_in_same_query!(orders, order_items);
