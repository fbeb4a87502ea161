//! `shoplab`: the lab's command line. Each command's arguments, and what
//! they mean, live beside the command in the library; this file only reads
//! the command line, pins the load generator where `compare` asks, and
//! dispatches.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use shoplab::deployment::own_bin_dir;
use shoplab::experiment::{self, Experiment};
use shoplab::pin::{self, Pinning};
use shoplab::{
    anomalies, build_time, chaos, compare, grow, isolation, load, partitions, rollout, scale,
    trace, up,
};
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

/// The commands, each documented on its arguments (`shoplab COMMAND --help`).
#[derive(Subcommand)]
enum Command {
    Up(up::Args),
    Trace(trace::Args),
    Compare(compare::Args),
    Load(load::standalone::Args),
    BuildTime(build_time::Args),
    Grow(grow::Args),
    /// Start both deployments on fresh SQLite databases, run the same short
    /// scenario against each, and print the results side by side.
    Demo,
    Isolation(isolation::Args),
    Chaos(chaos::Args),
    Anomalies(anomalies::Args),
    Rollout(rollout::Args),
    Scale(scale::Args),
    Partitions(partitions::Args),
    Layers(shoplab::counting::inspect::Args),
}

fn main() {
    let cli = Cli::parse();
    // `compare` and `partitions` pin themselves (the load generator) before
    // the runtime starts, so that every thread it starts inherits the mask
    // and the runtime sizes itself to it.
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    // Planned before the harness pins itself, while it still sees every core.
    let pinning = Pinning::plan();
    let pins = match &cli.command {
        Command::Compare(args) => args.pins(),
        Command::Partitions(args) => args.pins(),
        _ => false,
    };
    if pins {
        if let Some(pinning) = pinning.as_ref() {
            if let Err(error) = pin::pin_current(&pinning.generator) {
                eprintln!("shoplab: cannot pin the load generator: {error}");
                std::process::exit(1);
            }
            runtime.worker_threads(pinning.generator.len());
        }
    }
    let runtime = match runtime.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("shoplab: cannot start the async runtime: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = runtime.block_on(run(cli, pinning)) {
        eprintln!("shoplab: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}

async fn run(cli: Cli, pinning: Option<Pinning>) -> anyhow::Result<()> {
    let bin_dir = match cli.bin_dir {
        Some(dir) => dir,
        None => own_bin_dir()?,
    };
    match cli.command {
        Command::Up(args) => {
            let prometheus_config = args.prometheus_config.clone();
            up::run(args.options(bin_dir)?, prometheus_config).await
        }
        Command::Trace(args) => trace::run(&args.request_id, &args.log_dirs()),
        Command::Compare(args) => compare::run(args.options(bin_dir, pinning)?).await,
        Command::Load(args) => load::standalone::run(args.options()?, &bin_dir).await,
        Command::BuildTime(args) => once(args).await,
        Command::Grow(args) => once(args).await,
        Command::Demo => shoplab::demo::run(bin_dir).await,
        Command::Isolation(args) => once(args.options(bin_dir)?).await,
        Command::Chaos(args) => once(args.options(bin_dir)?).await,
        Command::Anomalies(args) => once(args.options(bin_dir)?).await,
        Command::Rollout(args) => once(args.options(bin_dir)?).await,
        Command::Scale(args) => once(args.options(bin_dir)?).await,
        Command::Partitions(args) => once(args.options(bin_dir, pinning)?).await,
        Command::Layers(args) => shoplab::counting::inspect::run(&args),
    }
}

/// Runs an experiment once, as every command but `compare --repeat` does.
async fn once<E: Experiment>(experiment: E) -> anyhow::Result<()> {
    experiment::run(&experiment, 1).await.map(drop)
}
