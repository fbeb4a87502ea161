//! `shoplab load`: the generator on its own, like wrk, against any deployment
//! a user has started (on PostgreSQL, on another port, with replicas).
//!
//! It seeds its data set through the public API first (or, with `--no-seed`,
//! reads the products already there), runs one workload, and prints the
//! figures: a table, or with `--json` one JSON object on stdout. Beside them
//! it reports its own ceiling, measured against the floor's trivial
//! `/hello`, so a reader can tell the deployment's limit from the
//! generator's.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

use super::workload::parse_workload;
use super::Mix;
use super::{drive, http_client, DataSet, Mode, Report, Run, SeedSize, Workload};
use crate::cli::{seconds, DEFAULT_CONNECTIONS};
use crate::client::ShopClient;
use crate::process::Process;
use crate::progress::Step;
use anyhow::bail;

/// What `shoplab load` was asked to do.
pub struct Options {
    /// The run; its `request_id_prefix` also marks the seeded users' emails,
    /// so seeding twice into one deployment never collides.
    pub run: Run,
    pub no_seed: bool,
    pub size: SeedSize,
    pub json: bool,
    /// Measure the generator's own ceiling first (needs `shoplab-floor`).
    pub ceiling: bool,
}

/// `--json`'s object: the run's figures at the top level, the ceiling beside.
#[derive(Serialize)]
struct Printed<'a> {
    base_url: &'a str,
    #[serde(flatten)]
    report: &'a Report,
    /// Requests per second the generator reached against a trivial endpoint
    /// with the same connections (closed loop), or `null` if not measured.
    generator_ceiling_rps: Option<f64>,
}

pub async fn run(options: Options, bin_dir: &Path) -> anyhow::Result<()> {
    let http = http_client()?;
    let ceiling = if options.ceiling {
        Some(measure_ceiling(&http, bin_dir, &options).await?)
    } else {
        None
    };
    let run = &options.run;
    let shop = ShopClient::new(&run.base_url);
    let step = Step::begin(format!("seeding the data set at {}", run.base_url));
    let data = if options.no_seed {
        DataSet::existing_products(&shop).await
    } else {
        DataSet::seed(&shop, options.size, run.seed, &run.request_id_prefix).await
    }
    .with_context(|| {
        format!(
            "cannot seed the data set at {} (is a deployment running there?)",
            run.base_url
        )
    })?;
    data.check_serves(&run.workload)?;
    step.done(&format!(
        "{} users, {} products",
        data.users.len(),
        data.products.len()
    ));
    let step = Step::begin(format!(
        "{}, {}, {} s",
        run.workload.name(),
        run.mode.describe(),
        run.duration.as_secs_f64()
    ));
    let report = drive(&http, run, &data, |share| step.set(share)).await?;
    step.done(&format!("{:.0} req/s", report.all.throughput_rps));
    if options.json {
        let printed = Printed {
            base_url: &run.base_url,
            report: &report,
            generator_ceiling_rps: ceiling,
        };
        println!("{}", serde_json::to_string(&printed)?);
    } else {
        print_table(&run.base_url, &report, ceiling);
    }
    Ok(())
}

/// The generator's ceiling: a closed loop against `shoplab-floor`'s
/// `/hello`, with as many connections as the run uses (8 for an open loop).
async fn measure_ceiling(
    http: &reqwest::Client,
    bin_dir: &Path,
    options: &Options,
) -> anyhow::Result<f64> {
    let (Mode::Closed { connections } | Mode::Open { connections, .. }) = options.run.mode;
    let step = Step::begin("the generator's ceiling (GET /hello on shoplab-floor)");
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let url = format!("sqlite://{}", scratch.path().join("floor.db").display());
    let args = [
        "--database-url".to_owned(),
        url,
        "--products".into(),
        "1".into(),
    ];
    let floor = Process::spawn(bin_dir, "shoplab-floor", &args)
        .await
        .context("the ceiling needs shoplab-floor (or pass --no-ceiling)")?;
    let run = Run {
        base_url: floor.url.clone(),
        workload: Workload::Hello,
        mode: Mode::Closed { connections },
        duration: Duration::from_secs(2).min(options.run.duration),
        seed: options.run.seed,
        timeout: options.run.timeout,
        request_id_prefix: "ceiling".into(),
    };
    let report = drive(http, &run, &DataSet::default(), |share| step.set(share)).await;
    floor.stop().await;
    let rps = report?.all.throughput_rps;
    step.done(&format!("{rps:.0} req/s"));
    Ok(rps)
}

fn print_table(base_url: &str, report: &Report, ceiling: Option<f64>) {
    println!(
        "\n{} against {base_url}: {}, {:.1} s",
        report.workload,
        report.mode.describe(),
        report.duration_s
    );
    println!(
        "{:<34}{:>9}{:>8}{:>10}{:>9}{:>9}{:>9}{:>9}{:>9}",
        "endpoint", "requests", "errors", "req/s", "p50", "p90", "p99", "p99.9", "max"
    );
    let row = |name: &str, summary: &super::Summary| {
        let latency = summary.latency_ms;
        println!(
            "{name:<34}{:>9}{:>8}{:>10.1}{:>9.3}{:>9.3}{:>9.3}{:>9.3}{:>9.3}",
            summary.requests,
            summary.errors,
            summary.throughput_rps,
            latency.p50,
            latency.p90,
            latency.p99,
            latency.p999,
            latency.max
        );
    };
    for (name, summary) in &report.endpoints {
        row(name, summary);
    }
    row("all", &report.all);
    println!("(latencies in ms)");
    if !report.all.errors_by_status.is_empty() {
        println!("errors by status: {:?}", report.all.errors_by_status);
    }
    if let Some(lag) = report.send_lag_ms {
        println!(
            "send lag behind schedule: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            lag.p50, lag.p99, lag.max
        );
    }
    let slowest: Vec<String> = report
        .all
        .slowest
        .iter()
        .map(|slow| format!("{} ({:.2} ms)", slow.request_id, slow.latency_ms))
        .collect();
    println!("slowest requests (X-Request-Id): {}", slowest.join(", "));
    match ceiling {
        Some(rps) => println!(
            "generator ceiling (GET /hello on the floor, same connections): {rps:.0} req/s"
        ),
        None => println!("generator ceiling: not measured (--no-ceiling)"),
    }
}

/// Drive a running deployment with one workload, like wrk2 and wrk: an
/// open loop at --rate requests per second (latency, free of coordinated
/// omission) or, without --rate, a closed loop of --connections (maximum
/// throughput).
#[derive(clap::Args)]
pub struct Args {
    /// The deployment's base URL (the monolith, or the gateway).
    #[arg(long)]
    pub base_url: String,
    /// read, browse, order or mix.
    #[arg(long, default_value = "read")]
    pub workload: String,
    /// The mix workload's shares, e.g. read=70,browse=10,order=15,deposit=5.
    #[arg(long)]
    pub mix: Option<Mix>,
    /// Open loop: requests per second, each due on schedule (latency counts
    /// from the schedule). Without --rate: a closed loop.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Connections: in a closed loop, each sends as fast as answers come;
    /// in an open loop, the most requests in flight at once (a request due
    /// while all are busy waits, and the wait counts). Default 8.
    #[arg(long)]
    pub connections: Option<usize>,
    /// Seconds to run.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Seed of the data set and the request stream.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Milliseconds after which a request counts as a `timeout` error.
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Seed nothing: reuse the products GET /products lists (read and
    /// browse only).
    #[arg(long)]
    pub no_seed: bool,
    /// Users to seed.
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    /// Products to seed.
    #[arg(long, default_value_t = 100)]
    pub products: usize,
    /// Print one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Skip measuring the generator's own ceiling (which starts shoplab-floor).
    #[arg(long)]
    pub no_ceiling: bool,
}

impl Args {
    /// The run these arguments ask for.
    pub fn options(self) -> anyhow::Result<Options> {
        let connections = self.connections.unwrap_or(DEFAULT_CONNECTIONS);
        if connections == 0 {
            bail!("--connections must be at least 1");
        }
        let mode = match self.rate {
            Some(rate) if rate > 0.0 && rate.is_finite() => Mode::Open { rate, connections },
            Some(rate) => bail!("--rate must be above 0 (got {rate})"),
            None => Mode::Closed { connections },
        };
        if !self.base_url.starts_with("http://") && !self.base_url.starts_with("https://") {
            bail!("--base-url must start with http:// (got {})", self.base_url);
        }
        let token = uuid::Uuid::new_v4().simple().to_string();
        Ok(Options {
            run: Run {
                base_url: self.base_url,
                workload: parse_workload(&self.workload, self.mix)?,
                mode,
                duration: seconds("--duration", self.duration)?,
                seed: self.seed,
                timeout: Duration::from_millis(self.timeout_ms.max(1)),
                request_id_prefix: format!("load-{}", &token[..8]),
            },
            no_seed: self.no_seed,
            size: SeedSize {
                users: self.users,
                products: self.products.max(1),
            },
            json: self.json,
            ceiling: !self.no_ceiling,
        })
    }
}
