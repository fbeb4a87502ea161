//! What every deployment binary's command line shares: [`parse`], which
//! reads the binary's own flags and adds one more, `--check-health URL`.
//!
//! A container's health check runs a command inside the container. The
//! images (`deploy/images/Dockerfile.in`) hold nothing but the binary, so there
//! is no shell and no curl to run: the binary checks itself.
//! `shoplab-users --check-health http://127.0.0.1:8080/health` asks the
//! process already serving in that container, and exits 0 if it answers
//! 200, 1 if not. It starts nothing and opens no database.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser};

/// The flag's id and name.
const CHECK_HEALTH: &str = "check-health";

/// How long the probe waits to connect, and then for the answer. A
/// container's health check has a timeout of its own; this one ends first.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Parses the command line into `A`, or, with `--check-health URL`, probes
/// URL and exits: 0 if it answers 200, 1 with one line on standard error if
/// not. With `--check-health`, the binary's other flags, required or not,
/// are neither asked for nor checked: a health check runs in the container's
/// environment, which may set some of them (`SHOPLAB_INTERNAL_TOKEN`).
pub fn parse<A: Parser>() -> A {
    let command = A::command().arg(
        Arg::new(CHECK_HEALTH)
            .long(CHECK_HEALTH)
            .value_name("URL")
            .help(
                "Instead of serving: ask URL (http://HOST:PORT/health) and exit 0 if it \
                 answers 200, 1 if not (a container's health check, with no shell or curl)",
            ),
    );
    // First a lenient pass, which requires nothing and stops at no error,
    // for --check-health alone; `--help` and bad flags are the strict
    // pass's to answer.
    let lenient = command
        .clone()
        .mut_args(|arg| arg.required(false))
        .ignore_errors(true)
        .disable_help_flag(true)
        .disable_version_flag(true);
    if let Ok(matches) = lenient.try_get_matches() {
        if let Some(url) = matches.get_one::<String>(CHECK_HEALTH) {
            exit_with_probe(url);
        }
    }
    from_matches(command.get_matches())
}

/// The binary's own flags, from what clap read (as `A::parse` would).
fn from_matches<A: FromArgMatches + CommandFactory>(mut matches: ArgMatches) -> A {
    A::from_arg_matches_mut(&mut matches)
        .unwrap_or_else(|error| error.format(&mut A::command()).exit())
}

/// Exits after probing `url`.
fn exit_with_probe(url: &str) -> ! {
    match probe(url) {
        Ok(200) => std::process::exit(0),
        Ok(status) => {
            eprintln!("{url} answered {status}");
            std::process::exit(1)
        }
        Err(error) => {
            eprintln!("{url}: {error}");
            std::process::exit(1)
        }
    }
}

/// One GET of `url` (plain `http://HOST:PORT/PATH`); the answer's status.
///
/// Written on `std::net` rather than with an HTTP client crate: the
/// monolith has no HTTP client, and its binary size is one of the figures
/// the lab compares. A status line is all a health check reads.
pub fn probe(url: &str) -> Result<u16, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url:?} is not an http:// URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let address = authority
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {authority:?} (HOST:PORT): {error}"))?
        .next()
        .ok_or_else(|| format!("{authority:?} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&address, PROBE_TIMEOUT)
        .map_err(|error| format!("cannot connect: {error}"))?;
    stream
        .set_read_timeout(Some(PROBE_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(PROBE_TIMEOUT)))
        .map_err(|error| format!("cannot set a timeout: {error}"))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|error| format!("cannot send the request: {error}"))?;
    // "HTTP/1.1 200 OK": the status is the second word of the first line.
    let mut head = [0u8; 64];
    let mut read = 0;
    while read < head.len() && !head[..read].contains(&b'\n') {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(error) => return Err(format!("no answer: {error}")),
        }
    }
    let line = String::from_utf8_lossy(&head[..read]);
    line.split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| {
            format!(
                "not an HTTP answer: {:?}",
                line.lines().next().unwrap_or("")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::probe;

    #[test]
    fn a_url_that_is_not_http_is_refused_in_words() {
        let error =
            probe("https://127.0.0.1:1/health").expect_err("https is refused before connecting");
        assert!(error.contains("not an http:// URL"), "{error}");
    }

    #[test]
    fn nothing_listening_is_an_error_not_a_status() {
        // Bind, learn the port, close: nothing listens there now.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let error =
            probe(&format!("http://127.0.0.1:{port}/health")).expect_err("nothing listens there");
        assert!(error.contains("cannot connect"), "{error}");
    }

    #[test]
    fn the_status_of_the_answer_is_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let server = std::thread::spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = listener.accept().expect("a connection");
            let mut request = [0u8; 256];
            let n = stream.read(&mut request).expect("a request");
            let request = String::from_utf8_lossy(&request[..n]).into_owned();
            stream
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .expect("an answer");
            request
        });
        assert_eq!(probe(&format!("http://127.0.0.1:{port}/health")), Ok(503));
        let request = server.join().expect("the server thread");
        assert!(request.starts_with("GET /health HTTP/1.1\r\n"), "{request}");
    }
}
