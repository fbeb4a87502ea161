//! Component: orders. The one component that uses the others: it reaches
//! users, catalog and payments only through [`crate::components`].

pub mod checkout;
pub mod idempotency;
pub mod pricing;
pub mod saga;
pub mod store;
