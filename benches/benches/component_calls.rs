//! The same component operation, in process and over HTTP: the cost of the
//! internal hop, as the difference of the two medians.
//!
//! In process is `common`'s `InProcess` (what the monolith's orders code
//! calls) on a connection to the monolith's database; over HTTP is the
//! services' `Remote` (what the orders service calls) against real users,
//! catalog and payments services started in this process. Each write is its
//! own transaction on both sides, as the services' internal endpoints make
//! it, so the two differ only in the hop. `component_calls_counted.rs`
//! counts the same calls in instructions.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use support::calls::{Fixture, CASES};

fn component_calls(c: &mut Criterion) {
    let mut fixture = Fixture::new();
    let mut groups: Vec<&str> = CASES.iter().map(|(group, _)| *group).collect();
    groups.dedup();
    for name in groups {
        let mut group = c.benchmark_group(name);
        for (_, function) in CASES.iter().filter(|(case, _)| *case == name) {
            group.bench_function(*function, |b| b.iter(|| fixture.call(name, function)));
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = support::config();
    targets = component_calls
}
criterion_main!(benches);
