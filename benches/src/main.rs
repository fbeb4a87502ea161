//! `shoplab`: the lab's command line. `up` starts one deployment and keeps it
//! running; `demo` runs both side by side on a short scenario.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use shoplab::deploy::{own_bin_dir, Deployment, Kind, Options, Storage};
use shoplab_common::error::one_line;

/// shoplab: one online shop, built as a monolith and as microservices, run
/// side by side.
///
/// The deployments' binaries must be built first (`cargo build --workspace`,
/// with `--release` for target/release); shoplab finds them next to itself.
#[derive(Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Where the deployments' binaries are (default: shoplab's own directory).
    #[arg(long, global = true)]
    bin_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Start a whole deployment and keep it running until Ctrl-C or SIGTERM.
    Up {
        /// monolith (one process) or micro (four services behind a gateway).
        #[arg(value_enum)]
        kind: Kind,
        /// The public port: the monolith's, or the gateway's.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Directory for the SQLite files (default: ./data/monolith or ./data/micro).
        #[arg(long, conflicts_with = "database_url")]
        data_dir: Option<PathBuf>,
        /// Use PostgreSQL instead: postgres://USER@HOST/NAME. The monolith uses
        /// NAME; the services use NAME_users, NAME_catalog, NAME_payments and
        /// NAME_orders. Missing databases are created.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Start both deployments on fresh SQLite databases, run the same short
    /// scenario against each, and print the results side by side.
    Demo,
}

fn main() {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime builds on any supported OS");
    if let Err(error) = runtime.block_on(run(cli)) {
        eprintln!("shoplab: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let bin_dir = match cli.bin_dir {
        Some(dir) => dir,
        None => own_bin_dir()?,
    };
    match cli.command {
        Command::Up {
            kind,
            port,
            data_dir,
            database_url,
        } => {
            let storage = match database_url {
                Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                    Storage::Postgres(url)
                }
                Some(url) => bail!(
                    "--database-url takes postgres://...; for SQLite use --data-dir (got {url})"
                ),
                None => Storage::Sqlite(data_dir.unwrap_or_else(|| {
                    PathBuf::from("data").join(match kind {
                        Kind::Monolith => "monolith",
                        Kind::Micro => "micro",
                    })
                })),
            };
            up(Options {
                kind,
                bin_dir,
                storage,
                port,
            })
            .await
        }
        Command::Demo => shoplab::demo::run(bin_dir).await,
    }
}

async fn up(options: Options) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};

    let mut terminate = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    eprintln!("starting the {} ...", options.kind.label());
    let mut deployment = Deployment::start(&options).await?;
    for (name, pid) in deployment.pids() {
        eprintln!("  {name} (pid {pid})");
    }
    eprintln!(
        "{} ready in {:?}; Ctrl-C stops it",
        options.kind.label(),
        deployment.startup
    );
    println!("{}", deployment.base_url);
    let outcome = tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = terminate.recv() => Ok(()),
        error = deployment.any_exit() => Err(error),
    };
    eprintln!("stopping the {} ...", options.kind.label());
    deployment.stop().await;
    outcome.context("a process of the deployment stopped on its own")
}
