//! The counting pass on real processes: the monolith and the microservices
//! each counted twice, on fresh deployments, for a product read and an
//! order. The claim the lab makes of a count is that it repeats: the two
//! passes' instructions per request agree within 1% (2% on a read), and so do
//! the services-to-monolith ratios; the layers add up to the total; the
//! services run more instructions and more system calls per request than
//! the monolith (the split's cost, counted).
//!
//! A read is held to 2%. In some starts actix's dispatcher is polled once
//! more on part of the requests, and a monolith read's count moves by up to
//! about 1% from start to start even with glibc kept on its vector memset
//! (callgrind.rs) and the lowest count two starts agree on kept
//! (docs/INSTRUMENTS.md); a ratio of two such counts, by up to 2%. An order
//! is held to 1%.
//!
//! Ignored where valgrind or perf (as root) is missing: CI has both and runs
//! this with `--ignored`.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::Path;

use shoplab::counting::{self, Counted, Plan};
use shoplab::deployment::{Kind, Options, Storage};
use shoplab::load::{SeedSize, Workload};

mod mugs;

use mugs::bin_dir;

/// Requests per batch: enough that the idle window's rounding is a small
/// part of a batch.
const REQUESTS: usize = 200;

fn options(kind: Kind, scratch: &Path, pass: &str) -> Options {
    let mut options = Options::new(
        kind,
        bin_dir(),
        Storage::Sqlite(scratch.join(format!("{}-{pass}", kind.dir_name()))),
    );
    // One core: the thread pools size themselves alike in every pass.
    options.cores = shoplab::pin::usable_cores().first().map(|core| vec![*core]);
    options
}

async fn count_twice(
    kind: Kind,
    scratch: &Path,
) -> [std::collections::BTreeMap<String, Counted>; 2] {
    let workloads = [Workload::Read, Workload::Order];
    let mut passes = Vec::new();
    for pass in ["first", "second"] {
        let plan = Plan {
            requests: REQUESTS,
            warm_up: 10,
            seed: 7,
            dir: scratch.join(format!("counted-{pass}")),
            seed_size: SeedSize {
                users: 10,
                products: 20,
            },
        };
        let mut starts = 0;
        let fresh = || {
            starts += 1;
            Ok(options(kind, scratch, &format!("{pass}-{starts}")))
        };
        let counted = counting::count(&plan, fresh, &workloads)
            .await
            .expect("the counting pass runs with every request answered");
        passes.push(counted);
    }
    passes.try_into().expect("two passes")
}

fn within(share: f64, a: f64, b: f64) -> bool {
    (a - b).abs() <= share * a.max(b)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs valgrind and perf as root: CI runs it with --ignored"]
async fn two_counting_passes_agree_within_one_percent_on_an_order_and_the_split_costs_more() {
    counting::available()
        .await
        .expect("valgrind and perf are here (this test is run with --ignored where they are)");
    let scratch = tempfile::tempdir().expect("a temp dir");
    let monolith = count_twice(Kind::Monolith, scratch.path()).await;
    let micro = count_twice(Kind::Micro, scratch.path()).await;
    for workload in ["read", "order"] {
        let [mono_a, mono_b] = [&monolith[0][workload], &monolith[1][workload]];
        let [micro_a, micro_b] = [&micro[0][workload], &micro[1][workload]];
        eprintln!(
            "{workload}: monolith {:.0} / {:.0} instructions, {:.2} / {:.2} system calls; \
             microservices {:.0} / {:.0}, {:.2} / {:.2}",
            mono_a.instructions,
            mono_b.instructions,
            mono_a.syscalls,
            mono_b.syscalls,
            micro_a.instructions,
            micro_b.instructions,
            micro_a.syscalls,
            micro_b.syscalls
        );
        let tolerance = if workload == "order" { 0.01 } else { 0.02 };
        for (name, a, b) in [
            ("monolith", mono_a, mono_b),
            ("microservices", micro_a, micro_b),
        ] {
            assert_eq!(a.requests, REQUESTS as u64);
            assert!(
                within(tolerance, a.instructions, b.instructions),
                "{workload} on the {name}: {} and {} instructions per request differ by more than {}%",
                a.instructions,
                b.instructions,
                tolerance * 100.0
            );
            let layers: f64 = a.by_layer.values().sum();
            assert!(
                within(0.01, layers, a.instructions),
                "{workload} on the {name}: the layers add up to {layers}, not {}",
                a.instructions
            );
            assert_eq!(
                a.by_layer.len(),
                9,
                "every layer is reported: {:?}",
                a.by_layer
            );
        }
        let ratios = [
            micro_a.instructions / mono_a.instructions,
            micro_b.instructions / mono_b.instructions,
        ];
        assert!(
            within(tolerance, ratios[0], ratios[1]),
            "{workload}: the services' ratio moved from {:.3}x to {:.3}x",
            ratios[0],
            ratios[1]
        );
        assert!(
            ratios[0] > 1.5,
            "{workload}: the services run more instructions per request than the monolith: {:.2}x",
            ratios[0]
        );
        assert!(
            micro_a.syscalls > mono_a.syscalls,
            "{workload}: every hop is a send and a receive more: {} against {}",
            micro_a.syscalls,
            mono_a.syscalls
        );
        assert_eq!(
            micro_a.by_process.len(),
            5,
            "every process is counted: {:?}",
            micro_a.by_process.keys()
        );
        assert!(micro_a.by_layer["http_client"] > 0.0 && mono_a.by_layer["http_client"] < 100.0);
    }
}
