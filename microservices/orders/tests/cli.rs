//! The orders service binary's command line: its flags, and the peers it
//! cannot start without.

use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_shoplab-orders");

fn run(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("the shoplab-orders binary was built for this test")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_explains_its_flags() {
    let output = run(&["--help"]);
    assert!(output.status.success(), "{BINARY} --help failed");
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in ["--addr", "--database-url", "--hop-delay-us"] {
        assert!(
            help.contains(flag),
            "{BINARY} --help does not mention {flag}:\n{help}"
        );
    }
}

#[test]
fn the_orders_service_needs_the_three_services_it_calls() {
    let output = run(&["--users-url", "http://127.0.0.1:1"]);
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert!(
        said.contains("--catalog-url") && said.contains("--payments-url"),
        "{said}"
    );
}
