//! The lab's harness. It starts whole deployments with the deployment
//! runner (the `shoplab-deploy` crate: [`deployment`], [`supervisor`],
//! [`scratch`] databases, ...), drives them over HTTP ([`client`], and the
//! shop's workloads in [`load`] on the load generator, the `loadgen`
//! crate), measures them side by side ([`compare`]), under a fault
//! ([`isolation`]) and under many faults for consistency ([`chaos`]), counts
//! what a saga lets readers see ([`anomalies`]), replaces processes under
//! load ([`rollout`]), adds them ([`scale`]), times builds ([`build_time`]),
//! draws one request's hops ([`trace`]), serves the bare stack everything is
//! judged against ([`floor`]), runs the scripted demo ([`demo`]), and tells
//! Prometheus what to scrape ([`prometheus`]). Every experiment writes its
//! result with [`experiment`]; figures are summed up by [`stats`] and drawn
//! by [`report`]. The `shoplab` CLI (`main.rs`, the shared flags in
//! [`cli`], `shoplab up` in [`up`]), the contract suite (`tests/contract/`)
//! and the criterion benches are all built on it.

pub mod anomalies;
pub mod build_time;
pub mod chaos;
pub mod cli;
pub mod client;
pub mod compare;
pub mod counting;
pub mod demo;
pub mod experiment;
pub mod floor;
pub mod grow;
pub mod isolation;
pub mod load;
pub mod partitions;
pub mod prometheus;
pub mod report;
pub mod rollout;
pub mod scale;
pub mod stats;
pub mod trace;
pub mod up;

// The deployment runner, its own crate (`benches/deploy/`), under the
// names the harness has always used.
pub use shoplab_deploy::{
    callgrind, containers, cpu, deployment, pin, postgres, process, progress, scratch, supervisor,
    syscalls,
};
