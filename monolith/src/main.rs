//! The monolith's binary: its flags, then `shoplab_monolith::build` (in
//! `lib.rs`). Compare with the orders service's `main` in
//! `microservices/orders/src/main.rs`: the same shape, one database instead
//! of three peers.

use anyhow::Context;
use clap::Parser;
use shoplab_common::db::DatabaseUrl;
use shoplab_common::error::one_line;
use shoplab_http::SettingsArgs;
use shoplab_monolith::NAME;

/// The whole shop in one process: serves all of API.md from one database.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// The database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, default_value = "sqlite://data/monolith.db", value_parser = DatabaseUrl::parse)]
    database_url: DatabaseUrl,
    #[command(flatten)]
    settings: SettingsArgs,
}

fn main() {
    let args: Args = shoplab_http::cli::parse();
    // Built before the async runtime starts: see `build`.
    let result = args
        .settings
        .load(NAME)
        .and_then(|settings| shoplab_monolith::build(&args.addr, &args.database_url, &settings))
        .and_then(|application| application.announce_and_run().context("the server stopped"));
    if let Err(error) = result {
        eprintln!("{NAME}: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}
