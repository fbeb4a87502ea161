//! The catalog service's binary: its flags, then `shoplab_catalog::build`
//! (in `lib.rs`).

use clap::Parser;
use shoplab_catalog::{build, NAME};
use shoplab_service::{exit_on_error, run, ServiceArgs};

/// The catalog component as its own service (owns products and reservations).
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
