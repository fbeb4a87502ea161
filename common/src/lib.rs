//! The shop domain, written once and compiled into both deployments.
//!
//! Everything a business rule needs lives here: the validated domain types
//! ([`domain`]), the four components' interfaces ([`components`]) and their
//! storage ([`users`], [`catalog`], [`payments`], [`orders`]), the database
//! plumbing ([`db`]), and, at the edge, the HTTP contract of `API.md`
//! ([`http`]). What an operator sees of it, the same in both deployments,
//! is in [`metrics`]. The deployment crates only wire these together: the monolith
//! with function calls over one database, the microservices with HTTP between
//! services that each own a database. [`grouping`] names any grouping of the
//! components into processes in between, in the lab's one notation.

pub mod catalog;
pub mod cli;
pub mod components;
pub mod db;
pub mod deadline;
pub mod domain;
pub mod error;
pub mod faults;
pub mod grouping;
pub mod http;
pub mod local;
pub mod metrics;
pub mod orders;
pub mod payments;
pub mod users;

pub use error::ShopError;
