//! The payments service binary's command line: its flags, and the peer it
//! cannot start without.

use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_shoplab-payments");

fn run(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("the shoplab-payments binary was built for this test")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_explains_its_flags() {
    let output = run(&["--help"]);
    assert!(output.status.success(), "{BINARY} --help failed");
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--addr", "--database-url", "--users-url", "--hop-delay-us"] {
        assert!(
            help.contains(flag),
            "{BINARY} --help does not mention {flag}:\n{help}"
        );
    }
}

#[test]
fn the_payments_service_needs_the_users_service() {
    let output = run(&["--addr", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--users-url"));
}
