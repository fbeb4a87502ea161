//! The catalog service binary's command line: its flags, and an unreachable
//! database as one clear line on stderr and exit code 1.

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_testkit::{assert_one_line_failure, Binary};

const CATALOG: Binary = Binary(env!("CARGO_BIN_EXE_shoplab-catalog"));

#[test]
fn help_explains_its_flags() {
    CATALOG.assert_help_mentions(&["--addr", "--database-url"]);
}

#[test]
fn an_unreachable_database_is_one_line_and_exit_code_1() {
    let output = CATALOG.run(&[
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/catalog",
    ]);
    assert_one_line_failure(&output, "cannot open postgres://");
}
