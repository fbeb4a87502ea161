//! Checks on the source tree itself, in the manner of rust-analyzer's `tidy`:
//! every Rust file starts with a `//!` comment saying what it is for, so a
//! reader opening any file in the two deployments knows where they are; and
//! no service crate depends on another, so services meet only over HTTP and
//! a change to one rebuilds that one alone (ARCHITECTURE.md's invariant).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits inside the workspace")
}

/// The crates under `microservices/`: one per service, the gateway, and
/// `service` (what they share).
const MICROSERVICE_CRATES: [&str; 6] = [
    "service", "users", "catalog", "payments", "orders", "gateway",
];

/// The workspace crates a service crate (or the gateway) may depend on
/// (`shoplab-testkit` for its tests only).
const A_SERVICE_MAY_USE: [&str; 3] = ["shoplab-common", "shoplab-service", "shoplab-testkit"];

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

/// The `shoplab-...` crates a manifest names as dependencies (of any kind):
/// the keys of lines like `shoplab-common.workspace = true`.
fn shoplab_dependencies(manifest: &str) -> Vec<String> {
    manifest
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("shoplab-"))
        .filter_map(|line| line.split(['.', ' ', '=']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_service_crate_depends_on_another() {
    for name in MICROSERVICE_CRATES
        .into_iter()
        .filter(|&name| name != "service")
    {
        let path = workspace()
            .join("microservices")
            .join(name)
            .join("Cargo.toml");
        let manifest = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        let used = shoplab_dependencies(&manifest);
        assert!(
            used.iter().any(|crate_name| crate_name == "shoplab-common"),
            "{} names no shoplab-common: is the check reading it right? {used:?}",
            path.display()
        );
        let forbidden: Vec<_> = used
            .iter()
            .filter(|crate_name| !A_SERVICE_MAY_USE.contains(&crate_name.as_str()))
            .collect();
        assert!(
            forbidden.is_empty(),
            "{} depends on {forbidden:?}; a service may use only {A_SERVICE_MAY_USE:?}",
            path.display()
        );
    }
}
