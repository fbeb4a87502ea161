//! The catalog service binary's command line: its flags, and an unreachable
//! database as one clear line on stderr and exit code 1.

use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_shoplab-catalog");

fn run(args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .output()
        .expect("the shoplab-catalog binary was built for this test")
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
fn an_unreachable_database_is_one_line_and_exit_code_1() {
    let output = run(&[
        "--addr",
        "127.0.0.1:0",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/catalog",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert_eq!(said.lines().count(), 1, "not one line: {said}");
    assert!(said.contains("cannot open postgres://"), "{said}");
}
