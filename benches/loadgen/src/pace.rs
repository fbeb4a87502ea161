//! Waiting until an instant, precisely enough for an open loop whose
//! requests are ~100 µs apart.
//!
//! tokio's timer has a 1 ms resolution and may fire up to a tick late, far
//! too coarse for sends scheduled every 100 µs. So the wait sleeps on the
//! timer until it is within two ticks of the due time, then yields to the
//! runtime until the due time has come: other tasks (the requests in flight,
//! the I/O driver) run between the yields, and the send goes out within a few
//! microseconds of its schedule. The cost is a busy core while the generator
//! runs at high rates, which is why `compare` pins the generator to a core of
//! its own. Every send's lag behind its schedule is measured and reported,
//! so a reader can see whether the schedule held.

use std::time::{Duration, Instant};

/// How far ahead of the due time the coarse timer is trusted to wake.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Returns at `due` (or at once if it has passed).
pub async fn until(due: Instant) {
    if let Some(early) = due.checked_sub(TIMER_SLACK) {
        if early > Instant::now() {
            tokio::time::sleep_until(early.into()).await;
        }
    }
    while Instant::now() < due {
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_returns_no_earlier_than_the_due_time() {
        for micros in [0, 50, 250, 3_000] {
            let due = Instant::now() + Duration::from_micros(micros);
            until(due).await;
            assert!(
                Instant::now() >= due,
                "returned before {micros} µs had passed"
            );
        }
    }
}
