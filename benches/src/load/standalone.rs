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

use super::{drive, http_client, DataSet, Mode, Report, Run, SeedSize, Workload};
use crate::client::ShopClient;
use crate::process::Process;
use crate::progress::Step;

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
