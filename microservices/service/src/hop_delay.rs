//! `--hop-delay-us`: a wait added before every internal request a process
//! sends, standing for the network between services. On one machine every
//! hop is loopback, microseconds long, and loopback cannot be shaped here;
//! this is how the lab asks "what if the services sat a data-centre hop (or a
//! region) apart?". The monolith has no hops, so nothing there waits.
//!
//! The wait is taken outside any database transaction: the component clients
//! (`remote.rs`) are only ever called between a service's own transactions
//! (see `microservices/orders/src/checkout.rs`), and the gateway has no
//! database. So a delay lengthens a request, not the time a lock is held.

use std::time::{Duration, Instant};

/// The flag, and the wait it asks for. Zero (the default) waits not at all.
#[derive(clap::Args, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HopDelay {
    /// Microseconds to wait before each request to another service, to stand
    /// for network distance (loopback has next to none). 0: no wait.
    #[arg(long, default_value_t = 0)]
    pub hop_delay_us: u64,
}

/// How late a tokio sleep may end. Its timer wheel ticks once a millisecond
/// and rounds a deadline up to the next tick, and parking the driver adds
/// its own lateness: on the lab's machine a tokio sleep ended 1.0 to 1.4 ms
/// after its deadline. So the async wait sleeps on the timer until this much
/// before the deadline, and yields for the rest.
const TOKIO_SLEEP_LATENESS: Duration = Duration::from_millis(2);

impl HopDelay {
    pub const NONE: Self = Self { hop_delay_us: 0 };

    pub fn from_micros(micros: u64) -> Self {
        Self {
            hop_delay_us: micros,
        }
    }

    pub fn duration(self) -> Duration {
        Duration::from_micros(self.hop_delay_us)
    }

    /// The wait on a blocking thread (the component clients' path):
    /// `std::thread::sleep`, which never wakes early, and on Linux wakes late
    /// by the kernel's timer slack (50 µs for an ordinary thread) plus
    /// scheduling: 70 to 150 µs late on the lab's machine. Spinning would be
    /// closer, but would take a core from the services for every call in
    /// flight; a delay that stands for a network hop has jitter of its own.
    pub fn wait_blocking(self) {
        let delay = self.duration();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
    }

    /// The wait on the async executor (the gateway's path), which must not
    /// block its worker thread. tokio's timer alone would add a millisecond
    /// or more, more than a whole sub-millisecond delay, so the last
    /// two milliseconds are spent yielding (`yield_now`) until the
    /// clock reaches the deadline: other requests on the worker keep being
    /// served, and on an idle worker the wait ends within a few microseconds
    /// after the deadline (later if the worker is busy, as for any task). The
    /// price is CPU: the worker spins through what the tokio sleep left of
    /// those two milliseconds (0.6 to 1 ms here), or through all of a delay
    /// of 2 ms or less.
    pub async fn wait(self) {
        let delay = self.duration();
        if delay.is_zero() {
            return;
        }
        let deadline = Instant::now() + delay;
        if delay > TOKIO_SLEEP_LATENESS {
            tokio::time::sleep_until((deadline - TOKIO_SLEEP_LATENESS).into()).await;
        }
        while Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_delay_is_the_default() {
        assert_eq!(HopDelay::default(), HopDelay::NONE);
        assert!(HopDelay::NONE.duration().is_zero());
    }

    #[test]
    fn a_blocking_wait_is_never_short() {
        let started = Instant::now();
        HopDelay::from_micros(300).wait_blocking();
        assert!(started.elapsed() >= Duration::from_micros(300));
    }

    #[tokio::test]
    async fn an_async_wait_is_never_short_even_below_the_timer_tick() {
        for micros in [150, 700, 2_500] {
            let started = Instant::now();
            HopDelay::from_micros(micros).wait().await;
            let waited = started.elapsed();
            assert!(
                waited >= Duration::from_micros(micros),
                "{micros} µs: {waited:?}"
            );
        }
    }
}
