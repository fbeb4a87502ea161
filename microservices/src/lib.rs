//! The shop split into services: users, catalog, payments and orders, each a
//! process with its own database holding only its own tables, and a gateway
//! that serves API.md on one base URL by routing to them.
//!
//! The routes and rules are `common`'s, the same code the monolith runs. What
//! is new here is only what splitting makes necessary: the HTTP
//! implementations of the component interfaces ([`remote`]), the services'
//! internal endpoints ([`internal`]), the saga that replaces the monolith's
//! transaction ([`orders::checkout`]), and the gateway ([`gateway`]).

pub mod catalog;
pub mod gateway;
pub mod internal;
pub mod orders;
pub mod payments;
pub mod remote;
pub mod service;
pub mod users;
