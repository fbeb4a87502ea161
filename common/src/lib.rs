//! The shop domain, written once and compiled into every deployment.
//!
//! Everything a business rule needs lives here: the validated domain types
//! ([`domain`]), the four components' interfaces ([`components`]) and their
//! storage ([`users`], [`catalog`], [`payments`], [`orders`]), the database
//! plumbing ([`db`]), faults ([`faults`]), deadlines ([`deadline`]) and
//! errors ([`error`]). What an operator sees of it, the same in every
//! deployment, is named in [`metrics`] and recorded through the `metrics`
//! facade. [`grouping`] names any grouping of the components into
//! processes, in the lab's one notation.
//!
//! This crate knows no HTTP: API.md's contract, the server, the flags and
//! the exporter are the edge's, in `shoplab_http` (`common/http/`), and a
//! tidy test checks that no HTTP, CLI or exporter crate is in this one's
//! dependency tree. The deployment crates wire the two together: the
//! monolith with function calls over one database, the microservices with
//! HTTP between services that each own a database.

pub mod catalog;
pub mod components;
pub mod db;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod faults;
pub mod grouping;
pub mod local;
pub mod metrics;
pub mod orders;
pub mod payments;
pub mod users;

pub use error::ShopError;
