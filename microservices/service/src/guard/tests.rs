//! The unit tests of `guard.rs`.

use super::*;

const LIMIT: Duration = Duration::from_millis(50);

fn guard(max_in_flight: u32, failures: u32, cool_down_ms: u64) -> Guard {
    let args = GuardArgs {
        peer_max_in_flight: max_in_flight,
        breaker_failures: failures,
        breaker_cool_down_ms: cool_down_ms,
        breaker_trials: 2,
    };
    Guard::new("payments", args, LIMIT)
}

fn timed_out() -> Result<(), ShopError> {
    Err(ShopError::Timeout("no answer".into()))
}

/// A call the peer left silent for its whole limit.
fn peer_timeout(guard: &Guard) {
    let call = guard.admit().expect("admitted");
    std::thread::sleep(LIMIT);
    call.record(&timed_out());
}

#[test]
fn a_call_past_the_bulkhead_is_refused_unsent_until_one_in_flight_ends() {
    let guard = guard(2, 5, 60_000);
    let first = guard.admit().expect("room for one");
    let _second = guard.admit().expect("room for two");
    assert!(matches!(guard.admit(), Err(ShopError::Unreachable(_))));
    drop(first);
    assert!(guard.admit().is_ok());
}

#[test]
fn the_circuit_opens_after_the_peers_timeouts_in_a_row_and_an_answer_resets_the_count() {
    let guard = guard(10, 3, 60_000);
    peer_timeout(&guard);
    peer_timeout(&guard);
    guard.admit().expect("closed").record(&Ok(()));
    peer_timeout(&guard);
    guard
        .admit()
        .expect("closed")
        .record(&Err::<(), _>(ShopError::Unreachable("refused".into())));
    peer_timeout(&guard);
    assert!(
        !guard.is_open(),
        "an answer resets the count; a refusal is not counted"
    );
    peer_timeout(&guard);
    assert!(guard.is_open());
    assert!(matches!(guard.admit(), Err(ShopError::Unreachable(_))));
}

#[test]
fn timeouts_of_the_callers_own_short_deadline_never_open_the_circuit() {
    let guard = guard(10, 2, 60_000);
    for _ in 0..50 {
        // Timed out well before the peer's limit: the caller's budget
        // ran out, not the peer's.
        guard.admit().expect("closed").record(&timed_out());
    }
    assert!(
        !guard.is_open(),
        "a client's short deadline moved the breaker"
    );
}

#[test]
fn a_call_abandoned_by_its_client_counts_only_past_the_peers_limit() {
    let guard = guard(10, 2, 60_000);
    for _ in 0..5 {
        drop(guard.admit().expect("closed"));
    }
    assert!(!guard.is_open(), "calls abandoned early moved the breaker");
    for _ in 0..2 {
        let call = guard.admit().expect("closed");
        std::thread::sleep(LIMIT);
        drop(call);
    }
    assert!(
        guard.is_open(),
        "calls left unanswered past the peer's limit opened it"
    );
}

#[test]
fn after_the_cool_down_a_few_trials_go_through_and_close_it_only_when_answered() {
    let guard = guard(10, 1, 20);
    peer_timeout(&guard);
    assert!(guard.admit().is_err(), "open");
    std::thread::sleep(Duration::from_millis(25));
    let first = guard.admit().expect("a first trial");
    let second = guard.admit().expect("a second trial");
    assert!(guard.admit().is_err(), "only two trials at once");
    first.record(&Ok(()));
    assert!(
        matches!(*guard.inner.circuit(), Circuit::HalfOpen { passed: 1, .. }),
        "one trial answered is not enough to close it"
    );
    second.record(&Ok(()));
    assert!(!guard.is_open(), "two trials answered close it");
    assert!(guard.admit().is_ok());
}

#[test]
fn a_failed_trial_reopens_the_circuit_at_once() {
    let guard = guard(10, 1, 20);
    peer_timeout(&guard);
    std::thread::sleep(Duration::from_millis(25));
    let answered = guard.admit().expect("a trial");
    let failing = guard.admit().expect("another trial");
    answered.record(&Ok(()));
    std::thread::sleep(LIMIT);
    failing.record(&timed_out());
    assert!(
        matches!(guard.admit(), Err(ShopError::Unreachable(_))),
        "open again for a whole cool-down"
    );
}
