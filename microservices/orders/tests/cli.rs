//! The orders service binary's command line: its flags, and the peers it
//! cannot start without.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_testkit::{stderr, Binary};

const ORDERS: Binary = Binary(env!("CARGO_BIN_EXE_shoplab-orders"));

#[test]
fn help_explains_its_flags() {
    ORDERS.assert_help_mentions(&["--addr", "--database-url", "--hop-delay-us"]);
}

#[test]
fn the_orders_service_needs_the_three_services_it_calls() {
    let output = ORDERS.run(&["--users-url", "http://127.0.0.1:1"]);
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert!(
        said.contains("--catalog-url") && said.contains("--payments-url"),
        "{said}"
    );
}
