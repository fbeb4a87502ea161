//! The users service binary's command line: its flags, and a port in use as
//! one clear line on stderr and exit code 1. (What every service does at
//! start is `shoplab-service`'s; each service's tests run its own binary.)

use std::net::TcpListener;
use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_shoplab-users");

fn run(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("the shoplab-users binary was built for this test")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_explains_its_flags() {
    let output = run(&["--help"]);
    assert!(output.status.success(), "{BINARY} --help failed");
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--addr", "--database-url"] {
        assert!(
            help.contains(flag),
            "{BINARY} --help does not mention {flag}:\n{help}"
        );
    }
}

#[test]
fn a_port_in_use_is_one_line_and_exit_code_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("loopback has free ports");
    let addr = taken
        .local_addr()
        .expect("a bound socket has an address")
        .to_string();
    let data = tempfile::tempdir().expect("a scratch directory");
    let url = format!("sqlite://{}", data.path().join("users.db").display());
    let output = run(&["--addr", &addr, "--database-url", &url]);
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert_eq!(said.lines().count(), 1, "not one line: {said}");
    assert!(said.contains(&format!("cannot listen on {addr}")), "{said}");
}
