//! The HTTP edge every deployment shares: API.md's contract over the shop
//! domain (`shoplab_common`), which knows no HTTP.
//!
//! Everything that knows actix-web, clap or the Prometheus exporter is here,
//! so that the compiler keeps the domain crate free of them (a tidy test
//! checks its dependency tree). The routes whose handling is the same in
//! every deployment (users, products) live in [`routes`]; the ones whose
//! wiring differs (wallets, orders, audit, health) are written in each
//! deployment, over the same wire types ([`wire`]) and the same error
//! mapping ([`error`]). Around them: a process's flags ([`cli`],
//! [`settings`]), its server ([`server`]), the metrics it serves
//! ([`metrics`]) and the component calls it measures ([`measured`]), and
//! the hop log ([`hop_log`]).

pub mod blocking;
pub mod cli;
pub mod contract;
pub mod deadline;
pub mod drain;
pub mod error;
pub mod faults;
pub mod hop_log;
pub mod internal_token;
pub mod json;
pub mod logging;
pub mod measured;
pub mod metrics;
pub mod place_order;
pub mod request_id;
pub mod routes;
pub mod server;
pub mod settings;
pub mod wire;

pub use blocking::{run_blocking, with_conn};
pub use contract::{contract, resource};
pub use deadline::{Budget, RequestDeadline};
pub use error::ApiError;
pub use faults::Faults;
pub use json::ApiJson;
pub use measured::{Measured, Outcome};
pub use request_id::{RequestId, REQUEST_ID_HEADER};
pub use settings::{Settings, SettingsArgs};
