//! `shoplab anomalies` on real processes: orders that can only fail run
//! while readers read the stock they touch. The monolith's one transaction
//! hides the stock a failing order held; the microservices' saga commits the
//! reservation before the charge is refused, so readers see it.
//!
//! The dirty reads counted here are the readers' own answers: a 200 whose
//! `stock` is below the seeded stock (`benches/src/anomalies/window.rs`,
//! `Reads::record`). The monolith's test is the control: the same
//! measurement against a deployment that hides intermediate states counts 0,
//! so the microservices' count cannot come from the instrument.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use shoplab::anomalies::{self, Parameters};
use shoplab::deployment::{Kind, Storage};

const SHOPLAB: &str = env!("CARGO_BIN_EXE_shoplab");

fn bin_dir() -> PathBuf {
    Path::new(SHOPLAB)
        .parent()
        .expect("a binary lives in a directory")
        .to_path_buf()
}

/// The default experiment in a 2-second window.
fn short() -> Parameters {
    Parameters {
        window_s: 2.0,
        ..Parameters::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_never_see_stock_held_by_a_failing_order_in_the_monolith() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let parameters = short();
    let run = anomalies::measure(
        Kind::Monolith,
        &bin_dir(),
        Storage::Sqlite(scratch.path().to_path_buf()),
        &parameters,
    )
    .await
    .expect("the monolith runs the experiment");

    assert!(run.valid, "invalid run: {:?}", run.problems);
    assert!(run.reads.total > 0 && run.orders.placed > 0, "{run:?}");
    assert_eq!(run.reads.dirty, 0, "{run:?}");
    assert_eq!(run.reads.lowest_stock, Some(parameters.stock));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_stock_held_by_a_failing_saga_before_its_compensation_in_the_microservices() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let parameters = short();
    let run = anomalies::measure(
        Kind::Micro,
        &bin_dir(),
        Storage::Sqlite(scratch.path().to_path_buf()),
        &parameters,
    )
    .await
    .expect("the microservices run the experiment");

    assert!(run.valid, "invalid run: {:?}", run.problems);
    assert!(run.reads.dirty > 0, "no dirty read: {run:?}");
    // The lowest stock seen is what the dirty reads showed: below the seeded
    // stock, and never below what the order loops can hold at once.
    let lowest = run.reads.lowest_stock.expect("reads were answered");
    let held_at_most = parameters.order_loops as i64 * parameters.quantity;
    assert!(
        lowest < parameters.stock && lowest >= parameters.stock - held_at_most,
        "lowest stock seen {lowest}: {run:?}"
    );
    assert!(
        run.final_stock
            .values()
            .all(|stock| *stock == Some(parameters.stock)),
        "the compensations gave the stock back: {:?}",
        run.final_stock
    );
}

/// The figure a `<deployment>: N dirty reads` line gives.
fn dirty_reads_line(stdout: &str, deployment: &str) -> u64 {
    let prefix = format!("{deployment}: ");
    stdout
        .lines()
        .find_map(|line| line.strip_prefix(&prefix)?.strip_suffix(" dirty reads"))
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no `{deployment}: N dirty reads` line in:\n{stdout}"))
}

#[test]
fn the_command_prints_each_deployments_dirty_reads_and_writes_them_to_anomalies_json() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let out = scratch.path().join("results");
    let output = Command::new(SHOPLAB)
        .args(["anomalies", "--window", "1", "--out"])
        .arg(&out)
        .output()
        .expect("shoplab runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");

    let monolith = dirty_reads_line(&stdout, "monolith");
    let modular = dirty_reads_line(&stdout, "modular");
    let micro = dirty_reads_line(&stdout, "micro");
    assert_eq!(monolith, 0, "{stdout}");
    assert!(modular > 0, "{stdout}");
    assert!(micro > 0, "{stdout}");
    assert!(
        stdout.contains("verdict: the dirty reads come from the split databases"),
        "{stdout}"
    );

    let json = std::fs::read_to_string(out.join("anomalies.json")).expect("anomalies.json");
    let result: Value = serde_json::from_str(&json).expect("anomalies.json is JSON");
    assert_eq!(result["valid"], Value::Bool(true), "{json}");
    assert_eq!(result["runs"][0]["deployment"], "monolith");
    assert_eq!(result["runs"][1]["deployment"], "modular");
    assert_eq!(result["runs"][2]["deployment"], "micro");
    assert_eq!(result["runs"][2]["reads"]["dirty"].as_u64(), Some(micro));
    assert_eq!(result["parameters"]["seed"].as_u64(), Some(1));
}

#[test]
fn more_units_ordered_at_once_than_the_stock_holds_is_refused_in_one_line() {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let out = scratch.path().join("results");
    let output = Command::new(SHOPLAB)
        .args(["anomalies", "--order-loops", "6", "--quantity", "2"])
        .args(["--stock", "10", "--out"])
        .arg(&out)
        .output()
        .expect("shoplab runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("shoplab: --order-loops"), "{stderr}");
    assert!(!out.exists(), "nothing is run or written");
}
