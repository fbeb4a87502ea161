//! The monolith binary's command line: bad input gets one clear line on
//! stderr and a non-zero exit, and nothing is left running.

use std::net::TcpListener;
use std::process::{Command, Output};

fn monolith(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shoplab-monolith"))
        .args(args)
        .output()
        .expect("the monolith binary was built for this test")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_explains_every_flag() {
    let output = monolith(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--addr", "--database-url", "sqlite://", "postgres://"] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
}

#[test]
fn an_unknown_flag_is_refused() {
    let output = monolith(&["--frobnicate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unexpected argument '--frobnicate'"));
}

#[test]
fn an_unsupported_database_url_is_refused_before_anything_starts() {
    let output = monolith(&["--database-url", "mysql://root@127.0.0.1/shop"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unsupported database URL"));
}

#[test]
fn a_port_in_use_is_one_line_and_exit_code_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    let addr = taken
        .local_addr()
        .expect("a bound socket has an address")
        .to_string();
    let data = tempfile::tempdir().expect("a scratch directory");
    let url = format!("sqlite://{}", data.path().join("shop.db").display());
    let output = monolith(&["--addr", &addr, "--database-url", &url]);
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert_eq!(said.lines().count(), 1, "not one line: {said}");
    assert!(said.contains(&format!("cannot listen on {addr}")), "{said}");
}

#[test]
fn an_unreachable_database_is_one_line_and_exit_code_1() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let output = monolith(&[
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/shop",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert_eq!(said.lines().count(), 1, "not one line: {said}");
    assert!(
        said.contains("cannot open postgres://postgres@127.0.0.1:1/shop"),
        "{said}"
    );
}
