//! One deadline per request, passed down every hop.
//!
//! The request's first process (the monolith, or the gateway) gives it a
//! budget (`--deadline-ms`, default 5 s); each call it makes to another
//! process carries what is left (`X-Deadline-Ms`), and every wait inside
//! (a pooled connection, the SQLite write lock, a peer's answer, a duplicate
//! waiting for the first request with its Idempotency-Key) is bounded by
//! it. So work stops when its caller has given up, and a caller is answered
//! within the bound: 504 `timeout` at worst.

use std::time::{Duration, Instant};

use crate::ShopError;

/// How long a request may take, unless `--deadline-ms` says otherwise.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(5);

/// The header that carries the milliseconds left to the callee.
pub const DEADLINE_HEADER: &str = "x-deadline-ms";

/// The moment by which a request must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    /// From a caller's `X-Deadline-Ms`, never later than `budget` from now
    /// (a caller may ask for less time, not for more); `budget` if absent or
    /// unreadable.
    pub fn from_header(value: Option<&str>, budget: Duration) -> Self {
        let asked = value
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_millis);
        Self::after(asked.map_or(budget, |asked| asked.min(budget)))
    }

    /// This deadline moved `by` later: for the few quick writes that record
    /// how a request ended after its last wait ran out (see the saga's
    /// bookkeeping).
    pub fn extended(self, by: Duration) -> Self {
        Self(self.0 + by)
    }

    pub fn instant(self) -> Instant {
        self.0
    }

    /// What is left; zero once passed.
    pub fn remaining(self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// What is left, as the header's value for a call made now.
    pub fn header_value(self) -> String {
        self.remaining().as_millis().to_string()
    }

    pub fn has_passed(self) -> bool {
        Instant::now() >= self.0
    }

    /// `Timeout` naming `what` if the deadline has passed: checked before
    /// starting work the caller would no longer wait for.
    pub fn check(self, what: &str) -> Result<(), ShopError> {
        if self.has_passed() {
            Err(ShopError::Timeout(format!(
                "the request's deadline passed before {what}"
            )))
        } else {
            Ok(())
        }
    }

    /// Sleeps until the deadline (a hung component, as seen by its caller).
    pub fn sleep_until(self) {
        std::thread::sleep(self.remaining());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_may_shorten_the_budget_but_not_extend_it() {
        let budget = Duration::from_secs(5);
        let shorter = Deadline::from_header(Some("100"), budget);
        assert!(shorter.remaining() <= Duration::from_millis(100));
        let longer = Deadline::from_header(Some("60000"), budget);
        assert!(longer.remaining() <= budget);
        assert!(longer.remaining() > Duration::from_secs(4));
        let garbage = Deadline::from_header(Some("soon"), budget);
        assert!(garbage.remaining() > Duration::from_secs(4));
    }

    #[test]
    fn a_passed_deadline_is_a_timeout() {
        let passed = Deadline::after(Duration::ZERO);
        assert!(matches!(passed.check("x"), Err(ShopError::Timeout(_))));
        assert_eq!(passed.remaining(), Duration::ZERO);
    }
}
