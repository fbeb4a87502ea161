//! Routes whose handling is the same in both deployments: users and products
//! touch only their own component, so the monolith and the users and catalog
//! services mount these very handlers.

pub mod catalog;
pub mod health;
pub mod users;
