//! The gateway binary's command line: its flags, and the services it cannot
//! start without.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_testkit::{stderr, Binary};

const GATEWAY: Binary = Binary(env!("CARGO_BIN_EXE_shoplab-gateway"));

#[test]
fn help_explains_its_flags() {
    GATEWAY.assert_help_mentions(&["--addr", "--users-url", "--hop-delay-us"]);
}

#[test]
fn the_gateway_refuses_to_start_without_its_services() {
    let output = GATEWAY.run(&["--addr", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--users-url"));
}
