//! `--check-health URL`, every deployment binary's own health check (the one
//! a container runs, having no shell and no curl): exit 0 when URL answers
//! 200, 1 when it answers anything else or nothing listens there, with the
//! binary's required flags left out and the container's environment set.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use shoplab::deployment::{Deployment, Kind, Options, Storage};

const BINARIES: [&str; 7] = [
    "shoplab-monolith",
    "shoplab-users",
    "shoplab-catalog",
    "shoplab-payments",
    "shoplab-orders",
    "shoplab-gateway",
    "shoplab-group",
];

fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_shoplab"))
        .parent()
        .expect("a binary path always has a parent directory")
        .to_path_buf()
}

/// `binary --check-health url`'s exit code, run as a container runs it: the
/// environment sets the internal token.
fn check(binary: &str, url: &str) -> Option<i32> {
    Command::new(bin_dir().join(binary))
        .args(["--check-health", url])
        .env("SHOPLAB_INTERNAL_TOKEN", "a-token")
        .output()
        .expect("the binary runs")
        .status
        .code()
}

#[tokio::test]
async fn every_binary_passes_a_200_and_fails_anything_else_or_nothing() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let options = Options::new(
        Kind::Micro,
        bin_dir(),
        Storage::Sqlite(dir.path().to_path_buf()),
    );
    let deployment = Deployment::start(&options).await?;
    let healthy = format!("{}/health", deployment.base_url);
    let not_found = format!("{}/users/999999", deployment.base_url);
    let nobody = {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        format!("http://{}/health", listener.local_addr()?)
    };
    let codes: Vec<_> = BINARIES
        .iter()
        .map(|binary| {
            (
                *binary,
                check(binary, &healthy),
                check(binary, &not_found),
                check(binary, &nobody),
            )
        })
        .collect();
    deployment.stop().await;
    for (binary, on_200, on_404, on_nothing) in codes {
        assert_eq!(on_200, Some(0), "{binary} --check-health {healthy}");
        assert_eq!(on_404, Some(1), "{binary} --check-health {not_found}");
        assert_eq!(on_nothing, Some(1), "{binary} --check-health {nobody}");
    }
    Ok(())
}
