//! Component: catalog. Products, their stock, and per-order reservations.

pub mod store;
