//! The lab's harness: starts whole deployments as real processes
//! ([`deploy`]), drives them over HTTP ([`client`]), and runs the scripted
//! demo ([`demo`]). The `shoplab` CLI (`main.rs`) and the contract suite
//! (`tests/contract/`) are both built on it.

pub mod client;
pub mod demo;
pub mod deploy;
pub mod postgres;
pub mod process;
