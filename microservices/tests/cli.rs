//! The service binaries' command lines: bad input gets one clear line on
//! stderr and a non-zero exit.

use std::net::TcpListener;
use std::process::{Command, Output};

fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .output()
        .expect("the service binaries were built for this test")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SERVICES: [&str; 4] = [
    env!("CARGO_BIN_EXE_shoplab-users"),
    env!("CARGO_BIN_EXE_shoplab-catalog"),
    env!("CARGO_BIN_EXE_shoplab-payments"),
    env!("CARGO_BIN_EXE_shoplab-orders"),
];

#[test]
fn every_service_explains_its_flags() {
    for binary in SERVICES
        .iter()
        .chain([&env!("CARGO_BIN_EXE_shoplab-gateway")])
    {
        let output = run(binary, &["--help"]);
        assert!(output.status.success(), "{binary} --help failed");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(
            help.contains("--addr"),
            "{binary} --help does not mention --addr"
        );
    }
}

#[test]
fn the_gateway_refuses_to_start_without_its_services() {
    let output = run(
        env!("CARGO_BIN_EXE_shoplab-gateway"),
        &["--addr", "127.0.0.1:0"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--users-url"));
}

#[test]
fn the_orders_service_needs_the_three_services_it_calls() {
    let output = run(
        env!("CARGO_BIN_EXE_shoplab-orders"),
        &["--users-url", "http://127.0.0.1:1"],
    );
    assert_eq!(output.status.code(), Some(2));
    let said = stderr(&output);
    assert!(
        said.contains("--catalog-url") && said.contains("--payments-url"),
        "{said}"
    );
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
    let output = run(SERVICES[0], &["--addr", &addr, "--database-url", &url]);
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert_eq!(said.lines().count(), 1, "not one line: {said}");
    assert!(said.contains(&format!("cannot listen on {addr}")), "{said}");
}

#[test]
fn an_unreachable_database_is_one_line_and_exit_code_1() {
    let output = run(
        SERVICES[1],
        &[
            "--addr",
            "127.0.0.1:0",
            "--database-url",
            "postgres://postgres@127.0.0.1:1/catalog",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let said = stderr(&output);
    assert_eq!(said.lines().count(), 1, "not one line: {said}");
    assert!(said.contains("cannot open postgres://"), "{said}");
}
