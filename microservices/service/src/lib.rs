//! What every service of the split shop shares, and nothing that is one
//! service's own: starting a service ([`startup`]: flags, its own database,
//! health, errors on exit), the HTTP implementations of the component
//! interfaces ([`remote`]) and what a failed call means ([`failure`],
//! shared with the gateway), each peer's bulkhead and circuit breaker
//! ([`guard`]), the bodies of the services' internal endpoints
//! ([`internal`]: both the clients and the serving services need them), and
//! the `--hop-delay-us` wait before each internal request ([`hop_delay`]),
//! and the load balancing over a peer's replicas ([`balance`]), which the
//! gateway uses too.
//!
//! Each service is a crate of its own under `microservices/` (users,
//! catalog, payments, orders, and the gateway), depending on `shoplab-common`
//! and on this crate only, never on another service: a change to one
//! service rebuilds that service alone, as in a repository of real
//! microservices. The routes and rules are `common`'s, the same code the
//! monolith runs.

pub mod balance;
pub mod client;
pub mod failure;
pub mod guard;
pub mod hop_delay;
pub mod hosted;
pub mod internal;
pub mod remote;
pub mod startup;

pub use hop_delay::HopDelay;
pub use startup::{build, build_with_pool, exit_on_error, run, CallArgs, ServiceArgs};
