//! Component: payments. Wallets (every user has one, starting at 0) and the
//! payment captured for each order.

pub mod store;
