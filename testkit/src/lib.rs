//! What the binaries' command-line tests share, written once: running a
//! binary the test's package built, reading what it said, and the checks
//! every binary of the lab passes (its `--help` names its flags; a failure
//! is one line on stderr and exit code 1).
//!
//! Each crate keeps a `tests/cli.rs` of its own, because an integration test
//! is what makes `cargo test` build the crate's real binary
//! (`env!("CARGO_BIN_EXE_...")` names only the package's own). This crate is
//! a dev-dependency only: no deployment links it.

// Test support, a dev-dependency only: a failed `expect` here fails the
// test that called it, with its reason.
#![allow(clippy::expect_used)]

use std::net::TcpListener;
use std::process::{Command, Output};

/// A binary under test, by the path cargo gives the test
/// (`env!("CARGO_BIN_EXE_shoplab-users")`).
#[derive(Debug, Clone, Copy)]
pub struct Binary(pub &'static str);

impl Binary {
    /// Runs it with `args` to completion.
    pub fn run(self, args: &[&str]) -> Output {
        Command::new(self.0)
            .args(args)
            .output()
            .unwrap_or_else(|error| panic!("{} was built for this test, but: {error}", self.0))
    }

    /// Asserts that `--help` succeeds and names every one of `flags`.
    pub fn assert_help_mentions(self, flags: &[&str]) {
        let output = self.run(&["--help"]);
        assert!(output.status.success(), "{} --help failed", self.0);
        let help = String::from_utf8_lossy(&output.stdout);
        for flag in flags {
            assert!(
                help.contains(flag),
                "{} --help does not mention {flag}:\n{help}",
                self.0
            );
        }
    }
}

/// What the process wrote on stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts the lab's way of failing at start-up: exit code 1 and one line on
/// stderr that contains `expected`.
pub fn assert_one_line_failure(output: &Output, expected: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    let said = stderr(output);
    assert_eq!(said.lines().count(), 1, "not one line: {said}");
    assert!(said.contains(expected), "{said}");
}

/// A loopback address that is taken for as long as the listener lives: for
/// the "port in use" checks.
pub fn taken_address() -> (TcpListener, String) {
    let taken = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    let addr = taken
        .local_addr()
        .expect("a bound socket has an address")
        .to_string();
    (taken, addr)
}
