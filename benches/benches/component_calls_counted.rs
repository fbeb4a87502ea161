//! `component_calls`' instruction-count twin: the same component calls, in
//! process and over HTTP, counted under callgrind instead of timed, so a
//! `cargo bench` comparison repeats to the percent (as rustc-perf's and
//! gungraun's do; gungraun itself needs a runner binary installed beside
//! it, this needs only valgrind).
//!
//! Each case runs in a child of this bench under callgrind twice, once for
//! `2n` calls and once for `n`, after the same start (the shop's servers
//! started in process, seeded, one call to warm up): the difference over `n`
//! is one call's instructions, every thread's (the servers' too), with the
//! start and the exit cancelled out. Without valgrind the bench says so and
//! counts nothing.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use shoplab::callgrind::{self, Profile};
use support::calls::{Fixture, CASES};

/// Calls in the shorter of the two runs.
const CALLS: usize = 200;

/// The environment variables a child reads: which case, how many calls.
const CASE: &str = "SHOPLAB_COUNT_CASE";
const COUNT: &str = "SHOPLAB_COUNT_CALLS";

fn main() {
    if let (Ok(case), Ok(count)) = (std::env::var(CASE), std::env::var(COUNT)) {
        return child(&case, count.parse().expect("the parent passes a number"));
    }
    if let Err(why) = shoplab::callgrind::available() {
        println!("component_calls_counted: skipped, nothing counted: {why}");
        return;
    }
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let exe = std::env::current_exe().expect("the bench knows its own path");
    println!("component calls, instructions per call (callgrind; {CALLS} calls, the difference of two runs)");
    let mut last = None;
    for (group, function) in CASES {
        let runs: Vec<u64> = [2 * CALLS, CALLS]
            .iter()
            .map(|&calls| count(scratch.path(), &exe, group, function, calls))
            .collect();
        let per_call = runs[0].saturating_sub(runs[1]) as f64 / CALLS as f64;
        let ratio = match (function, last) {
            ("over HTTP", Some(in_process)) => {
                format!("  {:.2}x in process", per_call / in_process)
            }
            _ => String::new(),
        };
        println!("{group:<22} {function:<12} {per_call:>10.0} instructions{ratio}");
        last = Some(per_call);
    }
}

/// One run of `calls` calls of a case under callgrind: every thread's
/// instructions, from start to exit.
fn count(scratch: &Path, exe: &Path, group: &str, function: &str, calls: usize) -> u64 {
    let name = format!(
        "{}-{}-{calls}",
        group.replace(' ', "-"),
        function.replace(' ', "-")
    );
    let out = scratch.join(format!("{name}.out"));
    let line = callgrind::command_writing(&out, exe);
    let status = Command::new(&line[0])
        .args(&line[1..])
        .env(CASE, format!("{group}/{function}"))
        .env(COUNT, calls.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("valgrind runs");
    assert!(
        status.success(),
        "the counted run of {group} / {function} failed"
    );
    Profile::read(&out)
        .expect("callgrind wrote its dump at exit")
        .instructions
}

/// In the child: the fixture, one call to warm up, then `calls` calls.
fn child(case: &str, calls: usize) {
    let (group, function) = case.split_once('/').expect("GROUP/FUNCTION");
    let mut fixture = Fixture::new();
    fixture.call(group, function);
    for _ in 0..calls {
        fixture.call(group, function);
    }
}
