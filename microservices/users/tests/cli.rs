//! The users service binary's command line: its flags, and a port in use as
//! one clear line on stderr and exit code 1. (What every service does at
//! start is `shoplab-service`'s; each service's tests run its own binary.)

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_testkit::{assert_one_line_failure, taken_address, Binary};

const USERS: Binary = Binary(env!("CARGO_BIN_EXE_shoplab-users"));

#[test]
fn help_explains_its_flags() {
    USERS.assert_help_mentions(&["--addr", "--database-url"]);
}

#[test]
fn a_port_in_use_is_one_line_and_exit_code_1() {
    let (_taken, addr) = taken_address();
    let data = tempfile::tempdir().expect("a scratch directory");
    let url = format!("sqlite://{}", data.path().join("users.db").display());
    let output = USERS.run(&["--addr", &addr, "--database-url", &url]);
    assert_one_line_failure(&output, &format!("cannot listen on {addr}"));
}
