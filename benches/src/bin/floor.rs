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
    /// Instead of serving: measure B against the floor at URL (its
    /// `/echo`), as `compare` does, and print the median round trip in
    /// milliseconds (`compare --containers` runs this in a container). Waits
    /// up to 10 s for the floor to answer first.
    #[arg(long, value_name = "URL")]
    round_trips: Option<String>,
    /// Round trips to time, with --round-trips.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
}

/// The floor at `url` answering, within 10 s, then B's median.
fn round_trips(url: &str, samples: usize) -> anyhow::Result<f64> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let hello = url.replace("/echo", "/hello");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while http.get(&hello).send().await.is_err() {
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "nothing answers at {hello}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        shoplab::compare::hop::b_async(url, samples).await
    })
}

fn main() {
    let args: Args = shoplab_http::cli::parse();
    if let Some(url) = &args.round_trips {
        match round_trips(url, args.samples) {
            Ok(median_ms) => println!("{median_ms}"),
            Err(error) => {
                eprintln!("shoplab-floor: {}", one_line(&format!("{error:#}")));
                std::process::exit(1);
            }
        }
        return;
    }
    let result = shoplab::floor::open(&args.database_url, args.products)
        .and_then(|pool| shoplab::floor::serve(&args.addr, pool));
    if let Err(error) = result {
        eprintln!("shoplab-floor: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}
