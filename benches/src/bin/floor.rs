//! `shoplab-floor`: the bare stack `shoplab compare` measures the deployments
//! against (see `src/floor.rs`). Started by `compare` and `load`; runs on its
//! own too.

use clap::Parser;
use shoplab_common::db::DatabaseUrl;
use shoplab_common::error::one_line;

/// A bare actix-web server on the shop's stack: `/hello`, `POST /echo`, and
/// the product read over diesel and SQLite or PostgreSQL.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// The catalog database: sqlite://PATH or postgres://USER@HOST/DB.
    #[arg(long, default_value = "sqlite://data/floor.db", value_parser = DatabaseUrl::parse)]
    database_url: DatabaseUrl,
    /// Products to create at start if the database has fewer.
    #[arg(long, default_value_t = 100)]
    products: usize,
}

fn main() {
    let args = Args::parse();
    let result = shoplab::floor::open(&args.database_url, args.products)
        .and_then(|pool| shoplab::floor::serve(&args.addr, pool));
    if let Err(error) = result {
        eprintln!("shoplab-floor: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}
