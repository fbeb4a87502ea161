//! The runs a comparison is made of: a closed loop with the CPU it cost
//! every process, an open loop with its traced pass, seeding and warming a
//! deployment, and the passes with metrics on and with a delay per hop.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use shoplab_http::hop_log;

use crate::client::ShopClient;
use crate::deployment::{Deployment, Kind};
use crate::load::{self, DataSet, Mode, Report, Run, SeedSize, Workload};
use crate::progress::Step;
use crate::scratch::Databases;

use super::figures::{
    CpuFigures, DelayFigures, DelayedRun, MeteredRun, TracedPass, WorkloadFigures,
};
use super::start::{database_server_cpu, deploy_options, own_cpu, slowest_trace, start};
use super::{Options, FLOOR_PRODUCTS, OPEN_LOOP_CONNECTIONS, TRACED_PASS};

/// The open-loop rate for a workload: a quarter of the slower deployment's
/// maximum, so both are measured at the same light load, where a median
/// shows what a request costs rather than how long it queued (at half the
/// maximum, on one core, the services' medians moved by half from run to
/// run); rounded down to two significant digits so the report reads cleanly.
pub(crate) fn equal_load_rate(slower_max: f64) -> f64 {
    let quarter = (slower_max / 4.0).max(1.0);
    let magnitude = 10f64.powf(quarter.log10().floor() - 1.0);
    ((quarter / magnitude).floor() * magnitude).max(1.0)
}

/// What a run needs of the deployment it measures: its name, its base URL,
/// the CPU time each of its processes has spent so far, and its hop logs
/// (paused or not). Processes on loopback ([`Deployment`]) or containers on
/// a bridge network (`super::containers::InContainers`).
pub(crate) trait Measured {
    fn label(&self) -> String;
    fn base_url(&self) -> &str;
    fn cpu_times(&self) -> Vec<(String, Duration)>;
    /// Turns the hop logs on or off, where there are any.
    fn hop_logs(&self, _on: bool) {}
}

impl Measured for Deployment {
    fn label(&self) -> String {
        self.kind.label()
    }

    fn base_url(&self) -> &str {
        &self.base_url
    }

    fn cpu_times(&self) -> Vec<(String, Duration)> {
        Deployment::cpu_times(self)
    }

    fn hop_logs(&self, on: bool) {
        Deployment::hop_logs(self, on);
    }
}

/// A closed-loop run with the CPU time each process (and the PostgreSQL
/// server) spent over it.
pub(crate) async fn closed_with_cpu(
    options: &Options,
    http: &reqwest::Client,
    deployment: &dyn Measured,
    workload: &Workload,
    data: &DataSet,
) -> anyhow::Result<(Report, CpuFigures)> {
    let step = Step::begin(format!(
        "{}: {}, closed loop, {} connections",
        deployment.label(),
        workload.name(),
        options.connections
    ));
    let run = run_of(
        options,
        deployment.base_url(),
        workload.clone(),
        closed(options),
    );
    let database_before = database_server_cpu(options);
    let generator_before = own_cpu();
    let before = deployment.cpu_times();
    let report = load::drive(http, &run, data, |share| step.set(share)).await?;
    let after = deployment.cpu_times();
    let generator_spent = own_cpu().saturating_sub(generator_before);
    let database_after = database_server_cpu(options);
    let generator_cores = options.pinning.as_ref().map_or_else(
        || crate::pin::usable_cores().len(),
        |pinning| pinning.generator.len(),
    );
    let requests = report.all.requests.max(1);
    let per_request = |spent: Duration| spent.as_secs_f64() * 1e6 / requests as f64;
    let mut by_process_us = BTreeMap::new();
    for ((name, then), (_, now)) in before.into_iter().zip(after) {
        by_process_us.insert(name, per_request(now.saturating_sub(then)));
    }
    let cpu = CpuFigures {
        requests: report.all.requests,
        us_per_request: by_process_us.values().sum(),
        by_process_us,
        database_server_us: database_before
            .zip(database_after)
            .map(|(then, now)| per_request(now.saturating_sub(then))),
        generator_busy: generator_spent.as_secs_f64()
            / (report.elapsed_s * generator_cores.max(1) as f64).max(f64::EPSILON),
    };
    step.done(&format!(
        "{:.0} req/s, {:.0} µs CPU/request",
        report.all.throughput_rps, cpu.us_per_request
    ));
    Ok((report, cpu))
}

/// An equal-load run: one workload at one rate against one deployment.
pub(crate) struct OpenLoop<'a> {
    pub(crate) options: &'a Options,
    pub(crate) http: &'a reqwest::Client,
    pub(crate) deployment: &'a dyn Measured,
    pub(crate) workload: &'a Workload,
    pub(crate) rate: f64,
    pub(crate) data: &'a DataSet,
}

impl OpenLoop<'_> {
    /// The measured run: `--duration` long.
    pub(crate) async fn measure(&self) -> anyhow::Result<Report> {
        self.run(self.options.duration, "").await
    }

    /// The traced pass after it: the same rate, with hop logs on, for at
    /// most [`TRACED_PASS`]; then its slowest request is read from the logs
    /// in `logs` (now: later runs may fill them and move this one aside).
    pub(crate) async fn traced(&self, logs: &Path) -> anyhow::Result<TracedPass> {
        let duration = self.options.duration.min(TRACED_PASS);
        self.deployment.hop_logs(true);
        let traced = self.run(duration, ", traced").await;
        self.deployment.hop_logs(false);
        let traced = traced?;
        // Every line logged is on disk within this.
        tokio::time::sleep(2 * hop_log::FLUSH_EVERY).await;
        Ok(TracedPass {
            duration_s: duration.as_secs_f64(),
            p50_ms: traced.all.latency_ms.p50,
            slowest: slowest_trace(&traced, logs),
        })
    }

    pub(crate) async fn run(&self, duration: Duration, what: &str) -> anyhow::Result<Report> {
        let (deployment, workload, rate) = (self.deployment, self.workload, self.rate);
        let step = Step::begin(format!(
            "{}: {}, open loop at {rate:.0} req/s{what}",
            deployment.label(),
            workload.name()
        ));
        let run = Run {
            duration,
            ..run_of(
                self.options,
                deployment.base_url(),
                workload.clone(),
                Mode::Open {
                    rate,
                    connections: OPEN_LOOP_CONNECTIONS,
                },
            )
        };
        let report = load::drive(self.http, &run, self.data, |share| step.set(share)).await?;
        step.done(&format!(
            "p50 {:.3} ms, p99 {:.3} ms",
            report.all.latency_ms.p50, report.all.latency_ms.p99
        ));
        Ok(report)
    }
}

/// Seeds the data set into `deployment` through its public API, then warms
/// it up with the mix, in a closed loop.
pub(crate) async fn seed_and_warm(
    options: &Options,
    http: &reqwest::Client,
    deployment: &dyn Measured,
) -> anyhow::Result<DataSet> {
    let label = deployment.label();
    let step = Step::begin(format!("{label}: seeding the data set"));
    let shop = ShopClient::new(deployment.base_url());
    let data = DataSet::seed(&shop, seed_size(), options.seed, "compare").await?;
    step.done(&format!(
        "{} users, {} products",
        data.users.len(),
        data.products.len()
    ));
    let step = Step::begin(format!("{label}: warming up (mix)"));
    let warm = Run {
        duration: options.warm_up,
        ..run_of(
            options,
            deployment.base_url(),
            Workload::Mix(Default::default()),
            closed(options),
        )
    };
    let report = load::drive(http, &warm, &data, |share| step.set(share)).await?;
    step.done(&format!("{:.0} req/s", report.all.throughput_rps));
    Ok(data)
}

/// Both deployments again with metrics on (every process with a
/// `/metrics` endpoint, as `shoplab up` runs them): each workload's closed
/// loop on it, right beside the same loop on the main run's deployment
/// (metrics off), the two in turns (off then on, then on then off), so that
/// the machine's drift over the minutes of a run does not pass for what
/// observing costs.
pub(crate) async fn metered(
    options: &Options,
    databases: &mut Databases,
    http: &reqwest::Client,
    running: &[Deployment],
    data_sets: &[DataSet],
) -> anyhow::Result<Vec<MeteredRun>> {
    let mut runs = Vec::new();
    // The monolith and the microservices: what the metrics claim is about.
    let measured = running
        .iter()
        .zip(data_sets)
        .filter(|(deployment, _)| matches!(deployment.kind, Kind::Monolith | Kind::Micro));
    for (plain, plain_data) in measured {
        let kind = plain.kind;
        let label = kind.label();
        let step = Step::begin(format!("{label} with metrics on: starting"));
        let mut deploy = deploy_options(options, databases, kind, options.hop_delays_us[0], None)?;
        deploy.metrics = true;
        let metered = Deployment::start(&deploy)
            .await
            .with_context(|| format!("cannot start the {label} with metrics on"))?;
        step.done("up");
        let outcome = async {
            let metered_data = seed_and_warm(options, http, &metered).await?;
            for (index, workload) in options.workloads.iter().enumerate() {
                let mut off_then_on = [(plain, plain_data), (&metered, &metered_data)];
                if index % 2 == 1 {
                    off_then_on.reverse();
                }
                let mut rps = [0.0; 2];
                for (deployment, data) in off_then_on {
                    let (closed, _) =
                        closed_with_cpu(options, http, deployment, workload, data).await?;
                    rps[usize::from(std::ptr::eq(deployment, &metered))] =
                        closed.all.throughput_rps;
                }
                let [without_rps, with_rps] = rps;
                runs.push(MeteredRun {
                    deployment: label.clone(),
                    workload: workload.name().to_owned(),
                    without_rps,
                    with_rps,
                    cost: 1.0 - with_rps / without_rps.max(f64::EPSILON),
                });
            }
            anyhow::Ok(())
        }
        .await;
        metered.stop().await;
        outcome?;
    }
    Ok(runs)
}

/// The microservices again, with `delay_us` on every internal hop, at the
/// same open-loop rates as the main run.
pub(crate) async fn delayed(
    options: &Options,
    databases: &mut Databases,
    http: &reqwest::Client,
    delay_us: u64,
    measured: &[WorkloadFigures],
) -> anyhow::Result<DelayFigures> {
    let step = Step::begin(format!(
        "microservices with {delay_us} µs per hop: starting"
    ));
    let deployment = start(options, databases, Kind::Micro, delay_us, None).await?;
    let shop = ShopClient::new(&deployment.base_url);
    let data = DataSet::seed(&shop, seed_size(), options.seed, "compare").await;
    step.done("up");
    let mut workloads = BTreeMap::new();
    let outcome = async {
        let data = data?;
        for (workload, figures) in options.workloads.iter().zip(measured) {
            let (closed, _) = closed_with_cpu(options, http, &deployment, workload, &data).await?;
            let open = OpenLoop {
                options,
                http,
                deployment: &deployment,
                workload,
                rate: figures.rate_rps,
                data: &data,
            }
            .measure()
            .await?;
            workloads.insert(
                workload.name().to_owned(),
                DelayedRun {
                    rate_rps: figures.rate_rps,
                    p50_ms: open.all.latency_ms.p50,
                    p99_ms: open.all.latency_ms.p99,
                    max_throughput_rps: closed.all.throughput_rps,
                    monolith_p50_ms: figures
                        .runs
                        .get(&Kind::Monolith.label())
                        .map_or(0.0, |runs| runs.open.all.latency_ms.p50),
                },
            );
        }
        anyhow::Ok(())
    }
    .await;
    deployment.stop().await;
    outcome?;
    Ok(DelayFigures {
        delay_us,
        workloads,
    })
}

pub(crate) fn closed(options: &Options) -> Mode {
    Mode::Closed {
        connections: options.connections,
    }
}

pub(crate) fn run_of(options: &Options, base_url: &str, workload: Workload, mode: Mode) -> Run {
    Run {
        base_url: base_url.to_owned(),
        request_id_prefix: format!("cmp-{}-{}", workload.name(), uuid::Uuid::new_v4().simple())
            .chars()
            .take(24)
            .collect(),
        workload,
        mode,
        duration: options.duration,
        seed: options.seed,
        timeout: Duration::from_secs(5),
    }
}

pub(crate) fn seed_size() -> SeedSize {
    SeedSize {
        users: 100,
        products: FLOOR_PRODUCTS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_equal_load_rate_is_a_quarter_of_the_slower_maximum_rounded_down() {
        assert_eq!(equal_load_rate(4_321.0), 1_000.0);
        assert_eq!(equal_load_rate(19_600.0), 4_900.0);
        assert_eq!(equal_load_rate(987.0), 240.0);
        assert_eq!(equal_load_rate(30.0), 7.5);
        assert_eq!(equal_load_rate(2.0), 1.0);
    }
}
