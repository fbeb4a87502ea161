//! The monolith binary's command line: bad input gets one clear line on
//! stderr and a non-zero exit, and nothing is left running.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_testkit::{assert_one_line_failure, stderr, taken_address, Binary};

const MONOLITH: Binary = Binary(env!("CARGO_BIN_EXE_shoplab-monolith"));

#[test]
fn help_explains_every_flag() {
    MONOLITH.assert_help_mentions(&["--addr", "--database-url", "sqlite://", "postgres://"]);
}

#[test]
fn an_unknown_flag_is_refused() {
    let output = MONOLITH.run(&["--frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unexpected argument '--frobnicate'"));
}

#[test]
fn an_unsupported_database_url_is_refused_before_anything_starts() {
    let output = MONOLITH.run(&["--database-url", "mysql://root@127.0.0.1/shop"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unsupported database URL"));
}

#[test]
fn a_port_in_use_is_one_line_and_exit_code_1() {
    let (_taken, addr) = taken_address();
    let data = tempfile::tempdir().expect("a scratch directory");
    let url = format!("sqlite://{}", data.path().join("shop.db").display());
    let output = MONOLITH.run(&["--addr", &addr, "--database-url", &url]);
    assert_one_line_failure(&output, &format!("cannot listen on {addr}"));
}

#[test]
fn an_unreachable_database_is_one_line_and_exit_code_1() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let output = MONOLITH.run(&[
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/shop",
    ]);
    assert_one_line_failure(&output, "cannot open postgres://postgres@127.0.0.1:1/shop");
}
