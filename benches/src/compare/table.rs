//! The terminal's side-by-side table: monolith, microservices, and their
//! ratio (microservices ÷ monolith), then the verdicts.

use super::figures::CompareResult;

const LABEL: usize = 44;
const CELL: usize = 16;

/// The rows both the terminal table and the HTML report show.
pub fn rows(result: &CompareResult) -> Vec<Row> {
    let mut rows = Vec::new();
    let (mono, micro) = (
        result.deployments.get("monolith"),
        result.deployments.get("microservices"),
    );
    if let (Some(mono), Some(micro)) = (mono, micro) {
        rows.push(Row::numbers(
            "start-up, spawn to /health (median)",
            mono.startup_median_ms,
            micro.startup_median_ms,
            "ms",
        ));
        rows.push(Row::counts(
            "processes",
            mono.processes.len(),
            micro.processes.len(),
        ));
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        rows.push(Row::numbers(
            "memory, idle (RSS)",
            mib(mono.rss_idle_bytes),
            mib(micro.rss_idle_bytes),
            "MiB",
        ));
        rows.push(Row::numbers(
            "memory, under load (RSS)",
            mib(mono.rss_load_bytes),
            mib(micro.rss_load_bytes),
            "MiB",
        ));
        rows.push(Row::numbers(
            "binary size (all binaries)",
            mib(mono.binary_bytes),
            mib(micro.binary_bytes),
            "MiB",
        ));
    }
    for workload in &result.workloads {
        let (Some(mono), Some(micro)) = (
            workload.runs.get("monolith"),
            workload.runs.get("microservices"),
        ) else {
            continue;
        };
        let name = &workload.workload;
        rows.push(Row::numbers(
            &format!("{name}: max throughput ({} conn)", result.connections),
            mono.closed.all.throughput_rps,
            micro.closed.all.throughput_rps,
            "req/s",
        ));
        let (mono_latency, micro_latency) = (mono.open.all.latency_ms, micro.open.all.latency_ms);
        for (label, mono_ms, micro_ms) in [
            ("p50", mono_latency.p50, micro_latency.p50),
            ("p99", mono_latency.p99, micro_latency.p99),
        ] {
            rows.push(Row::numbers(
                &format!("{name}: {label} at {:.0} req/s", workload.rate_rps),
                mono_ms,
                micro_ms,
                "ms",
            ));
        }
        rows.push(Row::numbers(
            &format!("{name}: CPU per request"),
            mono.cpu.us_per_request,
            micro.cpu.us_per_request,
            "µs",
        ));
        if let (Some(mono_db), Some(micro_db)) =
            (mono.cpu.database_server_us, micro.cpu.database_server_us)
        {
            rows.push(Row::numbers(
                &format!("{name}: CPU per request, PostgreSQL server"),
                mono_db,
                micro_db,
                "µs",
            ));
        }
        let errors = mono.closed.all.errors + mono.open.all.errors;
        let micro_errors = micro.closed.all.errors + micro.open.all.errors;
        if errors + micro_errors > 0 {
            rows.push(Row::counts(
                &format!("{name}: errors"),
                usize::try_from(errors).unwrap_or(usize::MAX),
                usize::try_from(micro_errors).unwrap_or(usize::MAX),
            ));
        }
    }
    rows
}

/// One line of the table.
pub struct Row {
    pub label: String,
    pub monolith: String,
    pub microservices: String,
    pub ratio: String,
}

impl Row {
    fn counts(label: &str, monolith: usize, microservices: usize) -> Row {
        Row {
            label: label.to_owned(),
            monolith: monolith.to_string(),
            microservices: microservices.to_string(),
            ratio: if monolith > 0 {
                format!("{:.2}x", microservices as f64 / monolith as f64)
            } else {
                "–".into()
            },
        }
    }

    fn numbers(label: &str, monolith: f64, microservices: f64, unit: &str) -> Row {
        let show = |value: f64| {
            let digits = if value >= 100.0 {
                0
            } else if value >= 1.0 {
                2
            } else {
                3
            };
            format!("{value:.digits$} {unit}").trim_end().to_owned()
        };
        Row {
            label: label.to_owned(),
            monolith: show(monolith),
            microservices: show(microservices),
            ratio: if monolith > 0.0 {
                format!("{:.2}x", microservices / monolith)
            } else {
                "–".into()
            },
        }
    }
}

pub fn print(result: &CompareResult) {
    println!(
        "\n{:LABEL$}{:>CELL$}{:>CELL$}{:>10}",
        "", "monolith", "microservices", "ratio"
    );
    for row in rows(result) {
        println!(
            "{:LABEL$}{:>CELL$}{:>CELL$}{:>10}",
            row.label, row.monolith, row.microservices, row.ratio
        );
    }
    let hop = &result.hop;
    println!(
        "\nthe hop: B {:.3} ms (async client), {:.3} ms (blocking client); gateway hop {:.3} ms = {:.2}x B",
        hop.b_async_ms, hop.b_blocking_ms, hop.gateway_hop_ms, hop.gateway_hop_over_b
    );
    println!(
        "bare relay hop {:.3} ms = {:.2}x B (an actix-web server and a reqwest client, nothing else)",
        hop.relay_hop_ms, hop.relay_hop_over_b
    );
    if !result.metrics_on.is_empty() {
        println!("metrics on (every process serving /metrics), max throughput off → on:");
        for run in &result.metrics_on {
            println!(
                "  {} / {}: {:.0} → {:.0} req/s ({:+.1}%)",
                run.workload,
                run.deployment,
                run.without_rps,
                run.with_rps,
                -run.cost * 100.0
            );
        }
    }
    match (hop.internal_hop_ms, hop.internal_hop_over_b) {
        (Some(internal), Some(over_b)) => {
            println!("internal hop {internal:.3} ms = {over_b:.2}x B")
        }
        _ => {
            println!("internal hop not measured (no workload with component calls, or no hop logs)")
        }
    }
    println!(
        "the floor's read: {:.0} req/s; the generator's ceiling: {:.0} req/s",
        result.floor_read.all.throughput_rps, result.generator_ceiling.all.throughput_rps
    );
    for delay in &result.hop_delays {
        for (name, run) in &delay.workloads {
            println!(
                "with {} µs per hop, {name}: microservices p50 {:.3} ms vs monolith {:.3} ms at {:.0} req/s ({:.1}x); max {:.0} req/s",
                delay.delay_us,
                run.p50_ms,
                run.monolith_p50_ms,
                run.rate_rps,
                run.p50_ms / run.monolith_p50_ms.max(f64::EPSILON),
                run.max_throughput_rps
            );
        }
    }
    if let Some(build) = &result.build {
        build.print();
    }
    let traced: Vec<_> = result.traced_passes().collect();
    if !traced.is_empty() {
        println!(
            "\ntraced passes (the same load, every hop logged): p50 with the hop logs paused → logged; the slowest request"
        );
        for (workload, deployment, open_p50_ms, pass) in traced {
            let slowest = pass
                .slowest
                .as_ref()
                .map_or("not in the logs".to_owned(), |slowest| {
                    format!(
                        "{:.3} ms: shoplab trace {} --log-dir {}",
                        slowest.latency_ms, slowest.request_id, slowest.log_dir
                    )
                });
            println!(
                "  {workload} / {deployment}: {open_p50_ms:.3} → {:.3} ms; {slowest}",
                pass.p50_ms
            );
        }
    }
    println!(
        "\n{} build, {}, {}, {} s per run, seed {}",
        result.build_profile,
        result.storage,
        result
            .pinning
            .as_ref()
            .map_or("not pinned".to_owned(), |pinning| pinning.describe()),
        result.duration_s,
        result.seed
    );
    println!("\nverdicts:");
    for verdict in &result.verdicts {
        println!(
            "- {}: {}\n    {}",
            verdict.claim, verdict.verdict, verdict.figures
        );
    }
}
