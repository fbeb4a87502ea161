//! A service's guards on its peers (`microservices/service/src/guard.rs`):
//! the state of each circuit, and the calls refused before they were sent.
//! Only the services call peers; the monolith reports none of these.

use super::{enabled, PEER_CALLS_REJECTED, PEER_CIRCUIT_CHANGES, PEER_CIRCUIT_OPEN};

/// The circuit to `peer` changed `to` `open`, `half_open` or `closed`.
pub fn circuit(peer: &str, to: &'static str) {
    if enabled() {
        let restricted = to != "closed";
        ::metrics::gauge!(PEER_CIRCUIT_OPEN, "peer" => peer.to_owned())
            .set(f64::from(u8::from(restricted)));
        ::metrics::counter!(PEER_CIRCUIT_CHANGES, "peer" => peer.to_owned(), "to" => to)
            .increment(1);
    }
}

/// A call to `peer` was refused unsent: `circuit_open`, `circuit_half_open`
/// (every trial out) or `bulkhead_full`.
pub fn rejected(peer: &str, reason: &'static str) {
    if enabled() {
        ::metrics::counter!(PEER_CALLS_REJECTED, "peer" => peer.to_owned(), "reason" => reason)
            .increment(1);
    }
}
