//! `shoplab grow`'s table, its verdicts on the seed's four size claims, and
//! its report (`grow.html`: the table, the verdicts, and build, rebuild,
//! link and start-up time against N, a line per deployment and layout).

use plotters::prelude::SeriesLabelPosition;

use super::{GrowResult, Layout, OneService, Point, Run};
use crate::compare::figures::Verdict;
use crate::report::plot::{category, draw, legend, line, titled, Drawn, PROCESS_COLOURS};
use crate::report::{escape, page_head};

const DEPLOYMENTS: [&str; 3] = ["monolith", "modular", "microservices"];

/// A figure is "slow" against another from this ratio on, and only past a
/// floor a person notices: a monolith starting in 62 ms against a
/// service's 21 ms is 2.9x, and not slow.
const SLOWER: f64 = 2.0;
/// A clean build shorter than a minute is not "long to build".
const BUILD_FLOOR_S: f64 = 60.0;
/// A start-up shorter than a second is not "long to start".
const START_FLOOR_MS: f64 = 1000.0;

fn point<'a>(points: &'a [Point], n: usize, layout: Layout, deployment: &str) -> Option<&'a Point> {
    points.iter().find(|point| {
        point.components == n && point.layout == layout && point.deployment == deployment
    })
}

/// The layouts measured, in [`Layout::ALL`]'s order.
fn layouts(points: &[Point]) -> Vec<Layout> {
    Layout::ALL
        .into_iter()
        .filter(|layout| points.iter().any(|point| point.layout == *layout))
        .collect()
}

fn sizes(points: &[Point]) -> Vec<usize> {
    let mut sizes: Vec<usize> = points.iter().map(|point| point.components).collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// The first N at which a claim holds for `label` (a layout, or a
/// deployment and layout), in words ("not up to" the largest N measured
/// for it), with each measured N's figure:
/// `judge` says of one N whether it holds, and its figure, or nothing if
/// that N has no such point.
fn from_which_n(
    points: &[Point],
    label: &str,
    judge: impl Fn(usize) -> Option<(bool, String)>,
) -> (Option<usize>, String, Vec<String>) {
    let sizes = sizes(points);
    let (mut first, mut largest) = (None, 0);
    let mut figures = Vec::new();
    for &n in &sizes {
        if let Some((holds, figure)) = judge(n) {
            figures.push(figure);
            largest = n;
            if holds && first.is_none() {
                first = Some(n);
            }
        }
    }
    let verdict = match first {
        Some(n) => format!("{label}: holds from N = {n}"),
        None => format!("{label}: not up to N = {largest}"),
    };
    (first, verdict, figures)
}

/// One verdict per seed claim, each saying what decided it.
pub fn verdicts(points: &[Point]) -> Vec<Verdict> {
    let mut verdicts = Vec::new();
    for (claim, monolith_figure, one_service_figure, unit, floor) in [
        (
            "a big monolith builds slowly (its clean build ≥ 2x one service's, and ≥ 60 s)",
            (|point: &Point| point.clean_build_s) as fn(&Point) -> f64,
            (|one: &OneService| one.clean_build_s) as fn(&OneService) -> f64,
            "s",
            BUILD_FLOOR_S,
        ),
        (
            "a big monolith starts slowly (its start-up ≥ 2x one service's, and ≥ 1 s)",
            |point: &Point| point.startup_ms,
            |one: &OneService| one.startup_ms,
            "ms",
            START_FLOOR_MS,
        ),
    ] {
        let (mut said, mut figures, mut firsts) = (Vec::new(), Vec::new(), Vec::new());
        for layout in layouts(points) {
            let (first, verdict, layout_figures) = from_which_n(points, layout.name(), |n| {
                let monolith = monolith_figure(point(points, n, layout, "monolith")?);
                let one = one_service_figure(
                    point(points, n, layout, "microservices")?
                        .one_service
                        .as_ref()?,
                );
                let ratio = monolith / one;
                Some((
                    ratio >= SLOWER && monolith >= floor,
                    format!("N = {n}: {monolith:.1} against {one:.1} {unit} ({ratio:.2}x)"),
                ))
            });
            said.push(verdict);
            firsts.push(first);
            figures.push(format!("{}: {}", layout.name(), layout_figures.join("; ")));
        }
        let decided = if firsts.windows(2).any(|pair| pair[0] != pair[1]) {
            "the crate layout decides: with one domain crate, one service builds every \
             component's rules too"
        } else {
            "the deployment decides; the crate layout changes nothing here"
        };
        verdicts.push(Verdict {
            claim: claim.into(),
            figures: figures.join(" | "),
            verdict: format!("{} ({decided})", said.join("; ")),
        });
    }
    let whole = |point: &Point| {
        (
            point.broken_build.built.is_empty(),
            point.broken_build.failed.len(),
            point.binaries,
        )
    };
    let everything = |point: &Point| {
        let relinked = point.binaries_relinked.len();
        (relinked == point.binaries, relinked, point.binaries)
    };
    for (claim, test, counted) in [
        (
            "one component's error fails the whole build (every binary of the deployment)",
            whole as fn(&Point) -> (bool, usize, usize),
            "failed",
        ),
        (
            "changing one component rebuilds and redeploys everything (every binary relinked and restarted)",
            everything,
            "relinked",
        ),
    ] {
        verdicts.push(each_deployment(points, claim, test, counted));
    }
    let redeploys: Vec<String> = points
        .iter()
        .filter(|point| point.layout == Layout::CratePerComponent)
        .map(|point| {
            format!(
                "N = {}, {}: {:.2} s, {} of {} reads failed",
                point.components,
                point.deployment,
                point.redeploy_s,
                point.redeploy_failed_requests,
                point.redeploy_requests
            )
        })
        .collect();
    if let Some(verdict) = verdicts.last_mut() {
        verdict.figures.push_str(&format!(
            "; redeploying the changed component (the monolith and the modular monolith whole, catalog01's service alone): {}",
            redeploys.join("; ")
        ));
    }
    verdicts
}

/// A claim judged on every point: for the monolith and the microservices
/// in each layout, the first N at which it holds, and what decided it.
fn each_deployment(
    points: &[Point],
    claim: &str,
    test: fn(&Point) -> (bool, usize, usize),
    counted: &str,
) -> Verdict {
    let (mut said, mut figures, mut services) = (Vec::new(), Vec::new(), Vec::new());
    for deployment in ["monolith", "microservices"] {
        for layout in layouts(points) {
            let label = format!("{deployment}, {}", layout.name());
            let (first, verdict, judged) = from_which_n(points, &label, |n| {
                let (holds, count, of) = test(point(points, n, layout, deployment)?);
                Some((
                    holds,
                    format!("N = {n}, {label}: {count} of {of} {counted}"),
                ))
            });
            if deployment == "microservices" {
                services.push(first.is_some());
            }
            said.push(verdict);
            figures.extend(judged);
        }
    }
    let decided = if services.windows(2).any(|pair| pair[0] != pair[1]) {
        "the crate layout decides for the services; the deployment, for the monolith (one binary)"
    } else {
        "the deployment decides; the crate layout changes nothing here"
    };
    Verdict {
        claim: claim.into(),
        figures: figures.join("; "),
        verdict: format!("{} ({decided})", said.join("; ")),
    }
}

/// The points as a table.
pub fn table(points: &[Point]) -> String {
    let mut lines = vec![format!(
        "{:>3}  {:<19} {:<13} {:>8} {:>9} {:>7} {:>9} {:>8} {:>9} {:>8} {:>8} {:>11} {:>8}  {}",
        "N",
        "layout",
        "deployment",
        "clean s",
        "rebuild s",
        "link s",
        "relinked",
        "MiB",
        "start ms",
        "RSS MiB",
        "crates",
        "redeploy s",
        "lost",
        "broken: built"
    )];
    for point in points {
        lines.push(format!(
            "{:>3}  {:<19} {:<13} {:>8.1} {:>9.1} {:>7.1} {:>9} {:>8.0} {:>9.0} {:>8.0} {:>8} {:>11.2} {:>8}  {} of {}",
            point.components,
            point.layout.name(),
            point.deployment,
            point.clean_build_s,
            point.rebuild_s,
            point.link_s,
            point.binaries_relinked.len(),
            point.binary_mib,
            point.startup_ms,
            point.rss_idle_mib,
            point.crates_recompiled,
            point.redeploy_s,
            format!("{}/{}", point.redeploy_failed_requests, point.redeploy_requests),
            point.broken_build.built.len(),
            point.broken_build.built.len() + point.broken_build.failed.len()
        ));
    }
    // Which run measured which rows: a results folder resumed or extended
    // holds several.
    let mut runs: Vec<(&Run, Vec<String>)> = Vec::new();
    for point in points {
        let rows = format!("N = {}, {}", point.components, point.layout.name());
        match runs.iter_mut().find(|(run, _)| **run == point.run) {
            Some((_, of)) if of.contains(&rows) => {}
            Some((_, of)) => of.push(rows),
            None => runs.push((&point.run, vec![rows])),
        }
    }
    for (run, rows) in runs {
        lines.push(format!(
            "measured by the run of {}: {}",
            run.name(),
            rows.join("; ")
        ));
    }
    lines.join("\n")
}

/// One figure of a point.
type Figure = fn(&Point) -> f64;

/// The four plots: names and SVG.
fn plots(points: &[Point]) -> Vec<(&'static str, String)> {
    let figures: [(&str, &str, Figure); 4] = [
        ("grow-build.svg", "Clean build, s", |point| {
            point.clean_build_s
        }),
        (
            "grow-rebuild.svg",
            "Rebuild after one line of one component, s",
            |point| point.rebuild_s,
        ),
        ("grow-link.svg", "Of which linking, s", |point| point.link_s),
        ("grow-startup.svg", "Start-up, ms", |point| point.startup_ms),
    ];
    figures
        .into_iter()
        .map(|(file, title, figure)| (file, plot(points, title, figure)))
        .collect()
}

fn plot(points: &[Point], title: &str, figure: fn(&Point) -> f64) -> String {
    let sizes = sizes(points);
    let labels: Vec<String> = sizes.iter().map(|n| format!("N = {n}")).collect();
    let high = points.iter().map(figure).fold(0f64, f64::max);
    draw(720, 360, |root| -> Drawn {
        let mut chart = titled(&root, title).build_cartesian_2d(
            -0.5f64..(sizes.len() as f64 - 0.5),
            0f64..(high * 1.2).max(1.0),
        )?;
        chart
            .configure_mesh()
            .x_labels(sizes.len() + 1)
            .x_label_formatter(&|x| category(&labels, *x))
            .draw()?;
        let mut slot = 0;
        for layout in Layout::ALL {
            for deployment in DEPLOYMENTS {
                let series: Vec<(f64, f64)> = sizes
                    .iter()
                    .enumerate()
                    .filter_map(|(index, &n)| {
                        Some((index as f64, figure(point(points, n, layout, deployment)?)))
                    })
                    .collect();
                if !series.is_empty() {
                    let colour = PROCESS_COLOURS[slot % PROCESS_COLOURS.len()];
                    line(
                        &mut chart,
                        &format!("{deployment}, {}", layout.name()),
                        colour,
                        series,
                        4,
                    )?;
                }
                slot += 1;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)
    })
}

/// grow.html and its plots.
pub fn files(result: &GrowResult) -> Vec<(&'static str, String)> {
    let plots = plots(&result.points);
    let mut html = page_head("shoplab grow");
    html.push_str(&format!(
        "<h1>The seed's size claims on a grown shop</h1><p>{}</p><p>Profile: <code>{}</code>.</p><h2>Verdicts</h2>",
        escape(&result.generated),
        escape(&result.profile)
    ));
    for verdict in &result.verdicts {
        html.push_str(&format!(
            "<div class=\"verdict\"><b>{}</b>: {}<div class=\"figures\">{}</div></div>",
            escape(&verdict.claim),
            escape(&verdict.verdict),
            escape(&verdict.figures)
        ));
    }
    html.push_str("<h2>Figures</h2><pre>");
    html.push_str(&escape(&table(&result.points)));
    html.push_str("</pre><div class=\"plots\">");
    for (_, svg) in &plots {
        html.push_str(svg);
    }
    html.push_str("</div></body></html>\n");
    let mut files = vec![("grow.html", html)];
    files.extend(plots);
    files
}

#[cfg(test)]
pub(super) mod tests;
