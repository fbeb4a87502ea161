//! The lab's harness: starts whole deployments as real processes and keeps
//! them running ([`deploy`], [`supervisor`]), drives them over HTTP
//! ([`client`], and the load generator [`load`]), measures them side by side
//! ([`compare`]), under a fault ([`isolation`]) and under many faults for
//! consistency ([`chaos`]), counts what a saga lets readers see
//! ([`anomalies`]), replaces processes under load ([`rollout`]), adds them
//! ([`scale`]), times builds ([`build_time`]), draws one request's hops
//! ([`trace`]), serves the bare stack everything is judged against
//! ([`floor`]), runs the scripted demo ([`demo`]), and tells Prometheus
//! what to scrape ([`prometheus`]). Every experiment writes its result with
//! [`experiment`] and takes its databases from [`scratch`]; figures are summed
//! up by [`stats`] and drawn by [`report`]. The `shoplab` CLI
//! (`main.rs`), the contract suite (`tests/contract/`) and the criterion
//! benches are all built on it.

pub mod anomalies;
pub mod build_time;
pub mod chaos;
pub mod cli;
pub mod client;
pub mod compare;
pub mod cpu;
pub mod demo;
pub mod deploy;
pub mod experiment;
pub mod floor;
pub mod isolation;
pub mod load;
pub mod pin;
pub mod postgres;
pub mod process;
pub mod progress;
pub mod prometheus;
pub mod report;
pub mod rollout;
pub mod scale;
pub mod scratch;
pub mod stats;
pub mod supervisor;
pub mod trace;
pub mod up;
