//! The group binary's command line: its flags, and a group it cannot run
//! as one clear line on stderr and exit code 1 (or clap's 2 for a flag it
//! cannot read).

// A test: a failed `expect` fails it, and says why.
#![allow(clippy::expect_used)]

use shoplab_testkit::{assert_one_line_failure, stderr, taken_address, Binary};

const GROUP: Binary = Binary(env!("CARGO_BIN_EXE_shoplab-group"));

#[test]
fn help_explains_its_flags() {
    GROUP.assert_help_mentions(&[
        "--components",
        "--calls",
        "--users-database-url",
        "--orders-database-url",
        "--catalog-url",
        "--hop-delay-us",
    ]);
}

#[test]
fn components_that_are_not_a_group_are_refused_by_name() {
    let output = GROUP.run(&["--components", "users+stock"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("`stock` is not a component"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_group_that_calls_a_component_nobody_hosts_names_the_flag_it_needs() {
    let data = tempfile::tempdir().expect("a scratch directory");
    let url = format!("sqlite://{}", data.path().join("orders.db").display());
    let output = GROUP.run(&[
        "--components",
        "users+orders",
        "--orders-database-url",
        &url,
        "--payments-url",
        "http://127.0.0.1:1",
    ]);
    assert_one_line_failure(
        &output,
        "orders calls catalog, which this group does not host: give --catalog-url",
    );
}

#[test]
fn a_group_told_where_to_find_a_component_it_hosts_is_refused() {
    let output = GROUP.run(&[
        "--components",
        "users+payments",
        "--users-url",
        "http://127.0.0.1:1",
    ]);
    assert_one_line_failure(&output, "this group hosts users: drop --users-url");
}

#[test]
fn a_port_in_use_is_one_line_and_exit_code_1() {
    let (_taken, addr) = taken_address();
    let data = tempfile::tempdir().expect("a scratch directory");
    let url = format!("sqlite://{}", data.path().join("users.db").display());
    let output = GROUP.run(&[
        "--components",
        "users",
        "--addr",
        &addr,
        "--users-database-url",
        &url,
    ]);
    assert_one_line_failure(&output, &format!("cannot listen on {addr}"));
}
