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

use std::time::Duration;

use shoplab_common::metrics::BusyThread;

/// The flag, and the wait it asks for. Zero (the default) waits not at all.
#[derive(clap::Args, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HopDelay {
    /// Microseconds to wait before each request to another service, to stand
    /// for network distance (loopback has next to none). 0: no wait.
    #[arg(long, value_name = "US", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub hop_delay_us: u64,
}

/// The timer slack a delaying thread asks for: the kernel may wake a
/// sleeping thread this late so it can batch wake-ups, 50 µs by default,
/// far too much for a 100 µs delay.
const TIMER_SLACK_NS: u64 = 1_000;

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
    /// `std::thread::sleep`, which never wakes early, with the thread's timer
    /// slack cut to 1 µs so that it wakes within tens of microseconds of the
    /// deadline rather than the default 50 µs or more later. Spinning would
    /// be closer still, but a network hop costs the caller no CPU, and a
    /// spinning wait would: on the lab's 2 cores it would take the services'
    /// core for every call in flight, and the delay would lower throughput
    /// for a reason a real network does not have.
    pub fn wait_blocking(self) {
        let delay = self.duration();
        if !delay.is_zero() {
            // Best effort: if the kernel refuses, the sleep is only later.
            let _ = nix::sys::prctl::set_timerslack(TIMER_SLACK_NS);
            std::thread::sleep(delay);
        }
    }

    /// The wait on the async executor (the gateway's path), which must not
    /// block its worker thread: the same sleep, on the blocking thread pool.
    /// tokio's own timer would not do: it ticks once a millisecond, longer
    /// than a whole sub-millisecond delay.
    pub async fn wait(self) {
        if self.duration().is_zero() {
            return;
        }
        // A failed hand-off (the runtime shutting down) only skips the wait.
        // The thread is busy meanwhile, as with any blocking work.
        let _ = tokio::task::spawn_blocking(move || {
            let _busy = BusyThread::enter();
            self.wait_blocking()
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

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
