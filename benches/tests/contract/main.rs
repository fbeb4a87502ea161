//! The contract suite: API.md checked from the outside, as a client sees it.
//!
//! Every check is one `async fn(ShopClient)` written once, and `contract!`
//! runs it ten times: against the monolith, the microservices, the
//! modular monolith and one mixed grouping (users+orders/catalog+payments),
//! each on SQLite and on PostgreSQL, and against the monolith and the
//! microservices in containers (`deploy/compose/`), through the base URL
//! each compose project publishes. That the same checks pass unchanged
//! against every deployment is the lab's first claim: a caller cannot tell
//! them apart.
//!
//! Run it with `cargo build --workspace --bins` first (the deployments'
//! binaries must exist), then `cargo test -p shoplab --test contract`. The
//! PostgreSQL variants are ignored unless asked for: set
//! `SHOPLAB_TEST_PG=postgres://USER@HOST:PORT/NAME` and pass
//! `-- --include-ignored postgres`. So are the containers' (`_compose`):
//! run `scripts/images.sh`, then `-- --include-ignored compose`. Each
//! compose variant starts a project of its own on a port the engine picks,
//! and removes it afterwards.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

mod support;

mod api;

mod audit;
mod cancellation;
mod concurrency;
mod errors;
mod health;
mod idempotency;
mod orders;
mod products;
mod request_ids;
mod users;
mod wallets;
