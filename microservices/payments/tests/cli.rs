//! The payments service binary's command line: its flags, and the peer it
//! cannot start without.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_testkit::{stderr, Binary};

const PAYMENTS: Binary = Binary(env!("CARGO_BIN_EXE_shoplab-payments"));

#[test]
fn help_explains_its_flags() {
    PAYMENTS.assert_help_mentions(&["--addr", "--database-url", "--users-url", "--hop-delay-us"]);
}

#[test]
fn the_payments_service_needs_the_users_service() {
    let output = PAYMENTS.run(&["--addr", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--users-url"));
}
