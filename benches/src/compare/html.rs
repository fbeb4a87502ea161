//! `report.html`: the run as one self-contained page (no scripts, no fonts
//! or styles fetched, plots inline as SVG drawn by plotters), for reading in
//! any browser, offline, next to `result.json`.

use std::fmt::Write;

use plotters::prelude::*;

use super::figures::CompareResult;
use super::table;
use crate::report::plot::{bar_plot, deployment_colour, percentile_plot, MONOLITH};
use crate::report::{escape, page_head};
use crate::trace;

pub fn render(result: &CompareResult) -> String {
    let mut page = page_head("shoplab compare");
    page.push_str("<h1>shoplab: the monolith, the microservices and the groupings between</h1>");
    let _ = write!(
        page,
        "<p>{} build, {} storage, {}; {} s per run, {} connections in the closed loop, seed {}. \
         Machine: {} ({} cores), {}. Commit <code>{}</code>, started {}.</p>",
        result.build_profile,
        escape(&result.storage),
        escape(
            &result
                .pinning
                .as_ref()
                .map_or("not pinned".to_owned(), |pinning| pinning.describe())
        ),
        result.duration_s,
        result.connections,
        result.seed,
        escape(&result.stamp.machine.cpu_model),
        result.stamp.machine.cores,
        escape(&result.stamp.machine.os),
        escape(result.stamp.commit.as_deref().unwrap_or("unknown")),
        escape(&result.stamp.started_at)
    );

    let (names, ratios) = table::header(result);
    page.push_str("<h2>Side by side</h2><table><tr><th></th>");
    for name in names.iter().chain(&ratios) {
        let _ = write!(page, "<th>{}</th>", escape(name));
    }
    page.push_str("</tr>");
    for row in table::rows(result) {
        let _ = write!(page, "<tr><td>{}</td>", escape(&row.label));
        for cell in row.cells.iter().chain(&row.ratios) {
            let _ = write!(page, "<td>{}</td>", escape(cell));
        }
        page.push_str("</tr>");
    }
    page.push_str("</table>");
    let deployments = coloured(result);

    page.push_str("<h2>Verdicts</h2>");
    for verdict in &result.verdicts {
        let _ = write!(
            page,
            "<div class=\"verdict\"><b>{}</b>: {}<div class=\"figures\">{}</div></div>",
            escape(&verdict.claim),
            escape(&verdict.verdict),
            escape(&verdict.figures)
        );
    }

    page.push_str("<h2>Latency at equal load (open loop)</h2><p>Each request's latency counts from its scheduled send time, so a stall shows in every request it delays.</p><div class=\"plots\">");
    for workload in &result.workloads {
        let series: Vec<(&str, RGBColor, Vec<f64>)> = deployments
            .iter()
            .filter_map(|&(name, colour)| {
                let runs = workload.runs.get(name)?;
                Some((
                    name,
                    colour,
                    runs.open
                        .all
                        .latency_ms
                        .points()
                        .iter()
                        .map(|(_, value)| *value)
                        .collect(),
                ))
            })
            .collect();
        page.push_str(&percentile_plot(
            &format!("{} at {:.0} req/s", workload.workload, workload.rate_rps),
            &series,
        ));
    }
    page.push_str("</div>");

    let names: Vec<String> = result
        .workloads
        .iter()
        .map(|workload| workload.workload.clone())
        .collect();
    let pick = |name: &str, figure: &dyn Fn(&super::figures::WorkloadRuns) -> f64| -> Vec<f64> {
        result
            .workloads
            .iter()
            .map(|workload| workload.runs.get(name).map_or(0.0, figure))
            .collect()
    };
    page.push_str("<h2>Maximum throughput (closed loop)</h2><div class=\"plots\">");
    let throughput: Vec<(&str, RGBColor, Vec<f64>)> = deployments
        .iter()
        .map(|&(name, colour)| {
            (
                name,
                colour,
                pick(name, &|runs| runs.closed.all.throughput_rps),
            )
        })
        .collect();
    page.push_str(&bar_plot("requests per second", &names, &throughput));
    page.push_str("</div>");

    page.push_str("<h2>CPU per request, by process</h2><p>User + system CPU of every process of the deployment over the closed-loop run, divided by the requests served.</p><div class=\"plots\">");
    page.push_str(&super::bars::cpu_plot(result));
    page.push_str("</div>");
    let layers = super::bars::layers_plot(result);
    if !layers.is_empty() {
        page.push_str("<h2>Instructions per request, by layer</h2><p>The counting pass: every process under callgrind, the same requests one at a time; each function's own instructions charged to its layer of the stack (docs/INSTRUMENTS.md).</p><div class=\"plots\">");
        page.push_str(&layers);
        if let Some(order) = super::counted::extra_by_layer(result, "order") {
            page.push_str(&format!("<p>{}</p>", escape(&order)));
        }
        page.push_str("</div>");
    }

    let figures: Vec<(&str, RGBColor, &super::figures::DeploymentFigures)> = deployments
        .iter()
        .filter_map(|&(name, colour)| Some((name, colour, result.deployments.get(name)?)))
        .collect();
    if !figures.is_empty() {
        let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
        let series = |figure: &dyn Fn(&super::figures::DeploymentFigures) -> Vec<f64>| {
            figures
                .iter()
                .map(|&(name, colour, figures)| (name, colour, figure(figures)))
                .collect::<Vec<_>>()
        };
        page.push_str("<h2>Start-up, memory, size</h2><div class=\"plots\">");
        page.push_str(&bar_plot(
            "start-up, ms (median)",
            &["spawn to /health".to_owned()],
            &series(&|figures| vec![figures.startup_median_ms]),
        ));
        page.push_str(&bar_plot(
            "resident memory, MiB",
            &["idle".to_owned(), "under load".to_owned()],
            &series(&|figures| vec![mib(figures.rss_idle_bytes), mib(figures.rss_load_bytes)]),
        ));
        page.push_str(&bar_plot(
            "binaries, MiB",
            &["all binaries".to_owned()],
            &series(&|figures| vec![mib(figures.binary_bytes)]),
        ));
        page.push_str("</div><table><tr><th>deployment</th><th>process</th><th>start-up ms</th><th>RSS idle MiB</th><th>RSS load MiB</th><th>binary MiB</th></tr>");
        for (name, _, figures) in &figures {
            for process in &figures.processes {
                let _ = write!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
                    escape(name),
                    escape(&process.name),
                    process.startup_ms,
                    mib(process.rss_idle_bytes),
                    mib(process.rss_load_bytes),
                    mib(process.binary_bytes)
                );
            }
        }
        page.push_str("</table>");
    }

    let hop = &result.hop;
    let _ = write!(
        page,
        "<h2>The hop</h2><p>B, a small JSON POST to a bare handler at concurrency 1: {:.3} ms with reqwest's async client (the gateway's), \
         {:.3} ms with its blocking client (what the services' component calls used before they were async). Through the gateway {:.3} ms, straight to the catalog {:.3} ms: \
         the gateway adds {:.3} ms, {:.2}x B. Through the floor's bare relay (an actix-web server and a reqwest client, nothing else) {:.3} ms: \
         any second process on this stack adds {:.3} ms, {:.2}x B. Medians of {} requests each.</p>",
        hop.b_async_ms,
        hop.b_blocking_ms,
        hop.via_gateway_ms,
        hop.direct_to_catalog_ms,
        hop.gateway_hop_ms,
        hop.gateway_hop_over_b,
        hop.via_relay_ms,
        hop.relay_hop_ms,
        hop.relay_hop_over_b,
        hop.samples
    );
    if !result.metrics_on.is_empty() {
        page.push_str("<h2>Metrics on</h2><p>Both deployments again with every process serving <code>/metrics</code> (as <code>shoplab up</code> runs them): the maximum throughput without and with.</p><table><tr><th>workload</th><th>deployment</th><th>off req/s</th><th>on req/s</th><th>cost</th></tr>");
        for run in &result.metrics_on {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{:.1}%</td></tr>",
                run.workload,
                run.deployment,
                run.without_rps,
                run.with_rps,
                run.cost * 100.0
            );
        }
        page.push_str("</table>");
    }
    let _ = match (hop.internal_hop_ms, hop.internal_hop_over_b) {
        (Some(internal), Some(over_b)) => write!(
            page,
            "<p>The internal hop, a component call between services less the time its callee spent serving it \
             (from the hop logs, orders sent one at a time): {internal:.3} ms, {over_b:.2}x B, the median of {} calls.</p>",
            hop.internal_hop_calls
        ),
        _ => write!(page, "<p>The internal hop was not measured (no workload with component calls, or no hop logs).</p>"),
    };
    let _ = write!(
        page,
        "<p>The floor (a bare actix-web handler doing the same product read on the same stack) served {:.0} req/s; \
         the load generator reached {:.0} req/s against a trivial endpoint.</p>",
        result.floor_read.all.throughput_rps, result.generator_ceiling.all.throughput_rps
    );

    if !result.hop_delays.is_empty() {
        page.push_str("<h2>Network distance</h2><table><tr><th>delay per hop</th><th>workload</th><th>rate</th><th>monolith p50 ms</th><th>microservices p50 ms</th><th>ratio</th></tr>");
        for delay in &result.hop_delays {
            for (name, run) in &delay.workloads {
                let _ = write!(
                    page,
                    "<tr><td>{} µs</td><td>{}</td><td>{:.0}</td><td>{:.3}</td><td>{:.3}</td><td>{:.1}x</td></tr>",
                    delay.delay_us,
                    escape(name),
                    run.rate_rps,
                    run.monolith_p50_ms,
                    run.p50_ms,
                    run.p50_ms / run.monolith_p50_ms.max(f64::EPSILON)
                );
            }
        }
        page.push_str("</table>");
    }

    if let Some(build) = &result.build {
        page.push_str("<h2>Build time</h2><div class=\"plots\">");
        let packages: Vec<String> = build
            .clean
            .iter()
            .map(|clean| clean.package.replace("shoplab-", ""))
            .collect();
        page.push_str(&bar_plot(
            "clean build of own crates, s",
            &packages,
            &[(
                "release build",
                MONOLITH,
                build.clean.iter().map(|clean| clean.seconds).collect(),
            )],
        ));
        page.push_str(
            "</div><table><tr><th>clean build of</th><th>s</th><th>crates compiled</th></tr>",
        );
        for clean in &build.clean {
            let _ = write!(
                page,
                "<tr><td>{}</td><td>{:.1}</td><td>{}</td></tr>",
                escape(&clean.package),
                clean.seconds,
                escape(&clean.compiled.join(", "))
            );
        }
        page.push_str("</table><table><tr><th>one line more in</th><th>rebuild s</th><th>crates recompiled</th></tr>");
        for rebuild in &build.incremental {
            let _ = write!(
                page,
                "<tr><td>{} (<code>{}</code>)</td><td>{:.1}</td><td>{}</td></tr>",
                escape(&rebuild.change),
                escape(&rebuild.file),
                rebuild.seconds,
                escape(&rebuild.recompiled.join(", "))
            );
        }
        page.push_str("</table>");
    }

    page.push_str("<h2>Per endpoint</h2><table><tr><th>workload / deployment / endpoint</th><th>requests</th><th>errors</th><th>p50</th><th>p99</th><th>p99.9</th><th>max (ms)</th><th>slowest X-Request-Id</th></tr>");
    for workload in &result.workloads {
        for (deployment, runs) in &workload.runs {
            for (endpoint, summary) in &runs.open.endpoints {
                let latency = summary.latency_ms;
                let _ = write!(
                    page,
                    "<tr><td>{} / {} / {}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td><code>{}</code></td></tr>",
                    escape(&workload.workload),
                    escape(deployment),
                    escape(endpoint),
                    summary.requests,
                    summary.errors,
                    latency.p50,
                    latency.p99,
                    latency.p999,
                    latency.max,
                    escape(summary.slowest.first().map_or("", |slow| slow.request_id.as_str()))
                );
            }
        }
    }
    page.push_str("</table>");
    slowest_section(&mut page, result);
    page.push_str(
        "<p>Every raw figure is in <code>result.json</code> beside this page.</p></body></html>",
    );
    page
}

/// Each equal-load run's slowest request, drawn as `shoplab trace` draws
/// it: where its time went, hop by hop.
fn slowest_section(page: &mut String, result: &CompareResult) {
    let traced: Vec<_> = result.traced_passes().collect();
    if traced.is_empty() {
        return;
    }
    page.push_str(
        "<h2>Traced: the slowest requests, hop by hop</h2><p>The runs above were \
         measured with the hop logs paused: logging every hop costs the services \
         (more hops) more than the monolith. After each equal-load run the same \
         load ran again briefly with every hop logged; its median is set beside \
         the run's (what observing every hop cost), and its slowest request is \
         drawn from the logs: each hop's time, and its own (\"self\") time once \
         the hops under it are taken away. The same tree prints with the command \
         under each. A request's latency counts from when the open loop was due \
         to send it, so it can exceed the tree: the difference waited before the \
         deployment took the request.</p><table><tr><th>workload / deployment</th>\
         <th>p50, hop logs paused (ms)</th><th>p50, every hop logged (ms)</th>\
         <th>traced for (s)</th></tr>",
    );
    for (workload, deployment, open_p50_ms, pass) in &traced {
        let _ = write!(
            page,
            "<tr><td>{} / {}</td><td>{:.3}</td><td>{:.3}</td><td>{:.0}</td></tr>",
            escape(workload),
            escape(deployment),
            open_p50_ms,
            pass.p50_ms,
            pass.duration_s
        );
    }
    page.push_str("</table>");
    for (workload, deployment, _, pass) in traced {
        let Some(slowest) = &pass.slowest else {
            continue;
        };
        let _ = write!(
            page,
            "<h3>{} / {}: {:.3} ms</h3><pre>{}</pre><p><code>shoplab trace {} --log-dir {}</code></p>",
            escape(workload),
            escape(deployment),
            slowest.latency_ms,
            escape(&trace::render(&slowest.request_id, &slowest.hops)),
            escape(&slowest.request_id),
            escape(&slowest.log_dir),
        );
    }
}

/// Each deployment's label, in the result's order, with its colour.
fn coloured(result: &CompareResult) -> Vec<(&str, RGBColor)> {
    let mut others = 0;
    result
        .order
        .iter()
        .map(|label| {
            let colour = deployment_colour(label, others);
            if !matches!(label.as_str(), "monolith" | "microservices") {
                others += 1;
            }
            (label.as_str(), colour)
        })
        .collect()
}
