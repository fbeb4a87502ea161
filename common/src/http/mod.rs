//! The edge of `common`: API.md's HTTP contract, shared by both deployments.
//!
//! Everything here knows actix-web; nothing in the domain modules does. The
//! routes whose handling is the same in both deployments (users, products)
//! live in [`routes`]; the ones whose wiring differs (wallets, orders, audit,
//! health) are written in each deployment, over the same wire types
//! ([`wire`]) and the same error mapping ([`error`]).

pub mod blocking;
pub mod contract;
pub mod deadline;
pub mod drain;
pub mod error;
pub mod faults;
pub mod hop_log;
pub mod internal_token;
pub mod json;
pub mod metrics;
pub mod place_order;
pub mod request_id;
pub mod routes;
pub mod server;
pub mod settings;
pub mod wire;

pub use blocking::{run_blocking, with_conn};
pub use contract::{contract, resource};
pub use deadline::Budget;
pub use error::ApiError;
pub use faults::Faults;
pub use json::ApiJson;
pub use request_id::{RequestId, REQUEST_ID_HEADER};
pub use settings::{Settings, SettingsArgs};
