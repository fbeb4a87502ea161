//! What every source file must be: opened by a `//!` comment, no longer
//! than its rule (400 lines for the product, 500 for the harness), and
//! quiet but through `tracing`.

use std::path::Path;

use crate::{rust_files, workspace};

#[test]
fn every_rust_file_starts_with_a_module_comment() {
    let workspace = workspace();
    let mut files = Vec::new();
    // `microservices` is a directory of crates; the walk goes into each.
    for dir in ["common", "monolith", "microservices", "benches", "testkit"] {
        rust_files(&workspace.join(dir), &mut files);
    }
    assert!(files.len() > 40, "found only {} files", files.len());
    let undocumented: Vec<_> = files
        .iter()
        .filter(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            !text.starts_with("//!")
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "files without a leading //! comment: {undocumented:?}"
    );
}

/// The most lines a file of the product (the domain, the edge and the
/// deployments) may have: a file per concept, readable in one sitting.
/// The harness's own files are not held to it.
const PRODUCT_FILE_LINES_AT_MOST: usize = 400;

/// The files under `dirs` longer than `at_most` lines, each with its count.
fn longer_than(dirs: &[&str], at_most: usize) -> Vec<String> {
    let mut files = Vec::new();
    for dir in dirs {
        rust_files(&workspace().join(dir), &mut files);
    }
    assert!(files.len() > 40, "found only {} files", files.len());
    files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).ok()?.lines().count();
            (lines > at_most).then(|| format!("{} ({lines})", path.display()))
        })
        .collect()
}

#[test]
fn no_product_file_is_over_four_hundred_lines() {
    let long = longer_than(
        &["common", "monolith", "microservices"],
        PRODUCT_FILE_LINES_AT_MOST,
    );
    assert!(
        long.is_empty(),
        "over {PRODUCT_FILE_LINES_AT_MOST} lines: {long:?}; split them by concept"
    );
}

/// Where a product file may still print with `eprintln!`, and why: what a
/// process says as it exits, before (or instead of) serving. Everything
/// else a process says goes through `tracing` (`common/http/src/logging.rs`).
const MAY_PRINT: [(&str, &str); 2] = [
    (
        "microservices/service/src/startup.rs",
        "exit_on_error: a service's fatal start-up error, for its main.rs",
    ),
    (
        "common/http/src/cli.rs",
        "--check-health: the probe's one-line answer as the process exits",
    ),
];

#[test]
fn operational_events_go_through_tracing_not_eprintln() {
    let mut files = Vec::new();
    for dir in ["common", "monolith", "microservices"] {
        rust_files(&workspace().join(dir), &mut files);
    }
    let printing: Vec<String> = files
        .iter()
        .filter(|path| {
            let relative = path.strip_prefix(workspace()).unwrap_or(path);
            let in_tests = relative
                .components()
                .any(|part| part.as_os_str() == "tests");
            let allowed = path.ends_with("main.rs")
                || MAY_PRINT
                    .iter()
                    .any(|(file, _)| relative == Path::new(file));
            !in_tests && !allowed
        })
        .filter(|path| {
            std::fs::read_to_string(path)
                .unwrap_or_default()
                .contains("eprintln!(")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        printing.is_empty(),
        "eprintln! outside a main.rs: {printing:?}; use tracing::{{info, warn, error}}"
    );
}

/// The most lines any file of the harness (its sources, tests and benches)
/// may have.
const HARNESS_FILE_LINES_AT_MOST: usize = 500;

#[test]
fn no_harness_file_is_over_five_hundred_lines() {
    let long = longer_than(&["benches", "testkit"], HARNESS_FILE_LINES_AT_MOST);
    assert!(
        long.is_empty(),
        "over {HARNESS_FILE_LINES_AT_MOST} lines: {long:?}; split them by concept"
    );
}
