//! The users service's binary: its flags, then `shoplab_users::build` (in
//! `lib.rs`).

use clap::Parser;
use shoplab_service::{exit_on_error, run, ServiceArgs};
use shoplab_users::{build, NAME};

/// The users component as its own service (owns the users table only).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

fn main() {
    let args: Args = shoplab_http::cli::parse();
    // Built before the async runtime starts: see `build`.
    let result = build(args.service).and_then(run);
    exit_on_error(NAME, result);
}
