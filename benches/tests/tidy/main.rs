//! Checks on the source tree itself, in the manner of rust-analyzer's `tidy`:
//! every Rust file starts with a `//!` comment saying what it is for, so a
//! reader opening any file in the two deployments knows where they are; and
//! no service crate depends on another, so services meet only over HTTP and
//! a change to one rebuilds that one alone (ARCHITECTURE.md's invariant);
//! and the public routes the code mounts are the ones docs/openapi.yaml
//! describes, both ways; and the domain crate's dependency tree holds no
//! HTTP, CLI or exporter crate, so the compiler keeps it free of them.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

pub fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
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

pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the harness crate sits inside the workspace")
}

mod deps;
mod files;
mod links;
mod routes;
