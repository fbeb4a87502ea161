//! `shoplab grow`: the seed's size claims tested on a shop grown to N
//! components. For each N and each way of cutting the code into crates
//! ([`Layout`]), a grown shop is generated in a scratch directory
//! (`shop.rs`) and built, changed, broken and started per deployment
//! (`builds.rs`, `start.rs`):
//!
//! - a clean build of the shop's own crates (third-party crates built
//!   before, not timed), with the crates compiled;
//! - a one-line change to one generated component's rules (its largest
//!   stock, a constant its create handler checks), then a rebuild: time,
//!   crates recompiled, binaries relinked, link time apart;
//! - a compile error in the same rules: which binaries still build;
//! - binary size, start-up (spawn to a passing `/health`), idle memory;
//! - the redeploy of the changed component under a light load.
//!
//! `report.rs` turns the points into a verdict on each seed claim, a table
//! and `grow.html` with its plots.
//!
//! The generated components are copies of the catalog, all alike: real
//! code varies in size, and generic-heavy code costs the compiler more.

mod builds;
mod report;
mod shop;
mod so_far;
mod start;
mod templates;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::build_time::cargo::Cargo;
use crate::compare::figures::Verdict;
use crate::deployment::Kind;
use crate::experiment::{self, Experiment, Stamp};
use crate::progress::Step;

use builds::{Builder, Built};
pub use shop::Layout;
use shop::{component, rules_file, RULE_LINE};
use so_far::Measured;
pub use so_far::Run;

/// The deployments, each with the lab's kind and the packages of its
/// binaries.
fn deployments(components: usize) -> Vec<(&'static str, Kind, Vec<String>)> {
    let mut services: Vec<String> = ["users", "catalog", "payments", "orders", "gateway"]
        .iter()
        .map(|name| format!("shoplab-{name}"))
        .collect();
    services.extend((1..=components).map(|index| format!("shoplab-{}", component(index))));
    vec![
        (
            "monolith",
            Kind::Monolith,
            vec!["shoplab-monolith".to_owned()],
        ),
        ("modular", Kind::MODULAR, vec!["shoplab-group".to_owned()]),
        ("microservices", Kind::Micro, services),
    ]
}

/// One deployment of one grown shop, measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    /// N: the generated components, beside the real four.
    pub components: usize,
    pub layout: Layout,
    pub deployment: String,
    /// The deployment's binaries built from clean workspace crates.
    pub clean_build_s: f64,
    pub crates_compiled: usize,
    /// The rebuild after one line of `catalog01`'s rules changed.
    pub rebuild_s: f64,
    /// Of which linking (summed over the binaries linked).
    pub link_s: f64,
    pub crates_recompiled: usize,
    pub binaries_relinked: Vec<String>,
    /// The deployment's binaries, summed.
    pub binary_mib: f64,
    pub binaries: usize,
    /// Spawn to every process's `/health` passing.
    pub startup_ms: f64,
    /// Resident memory of all its processes, idle after start-up.
    pub rss_idle_mib: f64,
    /// The changed component redeployed under a light load of reads of
    /// one of its products (50 a second): the monolith or the modular
    /// monolith restarted whole, or catalog01's service alone; seconds
    /// until every `/health` passes again, and the reads that failed
    /// (medians of three redeploys; the reads sent, per redeploy).
    pub redeploy_s: f64,
    pub redeploy_failed_requests: u64,
    pub redeploy_requests: u64,
    /// With a compile error in `catalog01`'s rules.
    pub broken_build: Broken,
    /// The microservices only: catalog01's service alone, built from clean
    /// and started (what one team builds and deploys), to set the
    /// monolith's figures beside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_service: Option<OneService>,
    /// The run that measured it (one results folder can hold the points
    /// of several: `--out`).
    pub run: Run,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OneService {
    pub clean_build_s: f64,
    pub startup_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Broken {
    pub failed: Vec<String>,
    pub built: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GrowResult {
    #[serde(flatten)]
    pub stamp: Stamp,
    /// `release`, or `dev` for `--quick`.
    pub profile: String,
    /// What the generated components are, and what that leaves out.
    pub generated: String,
    pub points: Vec<Point>,
    /// One per seed claim.
    pub verdicts: Vec<Verdict>,
}

const GENERATED: &str =
    "Each generated component is a copy of the catalog (its store, migrations, \
rules, public routes and internal API) under its own name, wired into the monolith, the modular \
monolith and a service of its own. All are alike and of one size: real components vary in size, \
and generic-heavy code costs the compiler more than this.";

/// Grow the shop to N components and measure what the seed says size
/// costs: clean builds, the rebuild after a one-line change to one
/// component (crates recompiled, binaries relinked, link time), a compile
/// error in one component, binary size, start-up, idle memory and the
/// redeploy of the changed component under a light load, for the monolith,
/// the modular monolith and the microservices, with the components' rules
/// in the one domain crate and in a crate each; a verdict on each of the
/// seed's four size claims. Builds in target/grow/ (a generated shop and
/// its own target directory), never in the sources; the full run builds
/// for an hour or more. Writes grow.json and grow.html (table, verdicts,
/// plots).
#[derive(clap::Args)]
pub struct Args {
    /// The results folder (default results/grow-<timestamp>/). The folder
    /// of an earlier run of the same profile goes on from it: the sizes and
    /// layouts it finished are kept (grow-so-far.json), not measured again,
    /// so a run stopped half-way resumes and one of other --components adds
    /// to its table.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Debug builds, and N = 4 and 16 unless --components says otherwise:
    /// the same steps in a fraction of the time.
    #[arg(long)]
    pub quick: bool,
    /// The sizes to grow to: generated components beside the real four
    /// (default 4,16,64).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=256))]
    pub components: Vec<u16>,
    /// The crate layouts to measure (default both).
    #[arg(long, value_delimiter = ',', value_enum)]
    pub layouts: Vec<Layout>,
}

impl Args {
    fn sizes(&self) -> Vec<usize> {
        match (self.components.is_empty(), self.quick) {
            (false, _) => self.components.iter().map(|&n| usize::from(n)).collect(),
            (true, true) => vec![4, 16],
            (true, false) => vec![4, 16, 64],
        }
    }

    fn layouts(&self) -> Vec<Layout> {
        if self.layouts.is_empty() {
            Layout::ALL.to_vec()
        } else {
            self.layouts.clone()
        }
    }

    fn profile(&self) -> &'static str {
        if self.quick {
            "dev"
        } else {
            "release"
        }
    }
}

impl Experiment for Args {
    type Result = GrowResult;
    const PREFIX: &'static str = "grow-";
    const FILE: &'static str = "grow.json";

    fn out(&self) -> Option<PathBuf> {
        self.out.clone()
    }

    async fn measure(
        &self,
        out: &Path,
        stamp: Stamp,
        _earlier: &[GrowResult],
    ) -> anyhow::Result<GrowResult> {
        let source = experiment::source_root();
        let work = source.join("target").join("grow");
        let run = Run::of(&stamp);
        let mut measured = Measured::read(out, self.profile())?;
        for components in self.sizes() {
            for layout in self.layouts() {
                let label = format!("grow: N = {components}, {}", layout.name());
                let deployments = deployments(components).len();
                if let Some(before) = measured.run_of(components, layout, deployments) {
                    Step::begin(label).done(&format!("kept, measured by {}", before.name()));
                    continue;
                }
                let cargo = Cargo {
                    root: work.join("shop"),
                    target: work.join("target"),
                    profile: self.profile(),
                };
                let (source, work) = (source.clone(), work.clone());
                let built = tokio::task::spawn_blocking(move || {
                    builds_of(&source, &work, cargo, components, layout)
                })
                .await??;
                // The builds leave gigabytes to write back, and the
                // databases' fsyncs would wait behind them: the first
                // start measured would pay for the build (a start after
                // 3 GB written unsynced took 1071 ms, against 181 after).
                let _ = tokio::process::Command::new("sync").status().await;
                let mut points = Vec::new();
                for (deployment, builds) in built {
                    let step = Step::begin(format!("{label}, {deployment}: start-up"));
                    let started = start::measure(
                        deployment,
                        builds.kind,
                        &builds.bin_dir,
                        components,
                        &out.join("grow-data"),
                    )
                    .await?;
                    step.done(&format!(
                        "{:.0} ms, {:.0} MiB",
                        started.startup_ms, started.rss_idle_mib
                    ));
                    points.push(builds.point(components, layout, deployment, started, &run));
                }
                measured.add(points)?;
            }
        }
        let points = measured.into_points();
        Ok(GrowResult {
            stamp,
            profile: self.profile().into(),
            generated: GENERATED.into(),
            verdicts: report::verdicts(&points),
            points,
        })
    }

    fn files(&self, result: &GrowResult) -> Vec<(&'static str, String)> {
        report::files(result)
    }

    fn render(&self, results: &[GrowResult]) {
        for result in results {
            println!("{}", report::table(&result.points));
            for verdict in &result.verdicts {
                println!(
                    "\n{}: {}\n  {}",
                    verdict.claim, verdict.verdict, verdict.figures
                );
            }
        }
    }

    fn check(&self, results: &[GrowResult]) -> anyhow::Result<()> {
        for point in results.iter().flat_map(|result| &result.points) {
            if point.binaries_relinked.is_empty() {
                bail!(
                    "N = {}, {}, {}: a change to catalog01's rules relinked nothing",
                    point.components,
                    point.layout.name(),
                    point.deployment
                );
            }
        }
        Ok(())
    }
}

/// The builds of one deployment of one grown shop.
struct Builds {
    kind: Kind,
    bin_dir: PathBuf,
    clean: Built,
    /// catalog01's service alone from clean, for the microservices.
    one_service: Option<Built>,
    rebuild: Built,
    broken: Built,
    packages: Vec<String>,
}

impl Builds {
    fn point(
        self,
        components: usize,
        layout: Layout,
        deployment: &str,
        started: start::Started,
        run: &Run,
    ) -> Point {
        let (built, failed) = self
            .packages
            .iter()
            .cloned()
            .partition(|package| self.broken.binaries.contains(package));
        let sizes: Vec<u64> = self
            .packages
            .iter()
            .filter_map(|package| std::fs::metadata(self.bin_dir.join(package)).ok())
            .map(|metadata| metadata.len())
            .collect();
        Point {
            components,
            layout,
            deployment: deployment.into(),
            clean_build_s: self.clean.seconds,
            crates_compiled: self.clean.compiled.len(),
            rebuild_s: self.rebuild.seconds,
            link_s: self.rebuild.link_seconds,
            crates_recompiled: self.rebuild.compiled.len(),
            binaries_relinked: self.rebuild.relinked,
            binary_mib: sizes.iter().sum::<u64>() as f64 / f64::from(1 << 20),
            binaries: sizes.len(),
            startup_ms: started.startup_ms,
            rss_idle_mib: started.rss_idle_mib,
            redeploy_s: started.redeploy_s,
            redeploy_failed_requests: started.redeploy_failed_requests,
            redeploy_requests: started.redeploy_requests,
            one_service: self
                .one_service
                .zip(started.one_service_ms)
                .map(|(built, startup_ms)| OneService {
                    clean_build_s: built.seconds,
                    startup_ms,
                }),
            broken_build: Broken { failed, built },
            run: run.clone(),
        }
    }
}

/// Generates the shop of `components` in `layout` and builds it every way
/// a point needs, per deployment.
fn builds_of(
    source: &Path,
    work: &Path,
    cargo: Cargo,
    components: usize,
    layout: Layout,
) -> anyhow::Result<Vec<(&'static str, Builds)>> {
    let label = format!("grow: N = {components}, {}", layout.name());
    let step = Step::begin(format!("{label}: generating the shop"));
    shop::generate(source, &cargo.root, components, layout)?;
    step.done(&cargo.root.display().to_string());
    let root = cargo.root.clone();
    let builder = Builder::new(cargo, &work.join("tools"))?;
    let deployments = deployments(components);

    // Each deployment's builds resolve their own features of the
    // third-party crates: built here once, so that no timed build below
    // compiles a crate that is not the shop's.
    let build_every_deployment = || -> anyhow::Result<()> {
        for (_, _, packages) in &deployments {
            builder.build(packages, false)?;
        }
        Ok(())
    };
    let step = Step::begin(format!(
        "{label}: third-party crates and the whole shop (not timed)"
    ));
    build_every_deployment()?;
    step.done("built");
    let workspace = builder.cargo.workspace()?;
    let clean_build = |label: String, packages: &[String]| -> anyhow::Result<Built> {
        let step = Step::begin(label);
        let mut own: Vec<String> = packages
            .iter()
            .flat_map(|package| workspace.compiled_by(package))
            .collect();
        own.sort();
        own.dedup();
        builder.cargo.clean(&own)?;
        let built = builder.build(packages, false)?;
        step.done(&format!(
            "{:.1} s, {} crates",
            built.seconds,
            built.compiled.len()
        ));
        Ok(built)
    };
    let mut cleans = Vec::new();
    for (deployment, _, packages) in &deployments {
        cleans.push(clean_build(
            format!("{label}, {deployment}: a clean build"),
            packages,
        )?);
    }
    let one_service = clean_build(
        format!("{label}: catalog01's service alone, a clean build"),
        &[format!("shoplab-{}", component(1))],
    )?;
    // That clean left the other binaries behind their crates: built again
    // (not timed), so that each rebuild below is the change's alone.
    build_every_deployment()?;

    // One edit before each deployment's rebuild, each a new value: every
    // deployment rebuilds after a change it has not seen, with no restoring
    // build in between.
    let rules = root.join(rules_file(layout, &component(1)));
    let original = std::fs::read_to_string(&rules)
        .with_context(|| format!("cannot read {}", rules.display()))?;
    let mut rebuilds = Vec::new();
    for (edit, (deployment, _, packages)) in deployments.iter().enumerate() {
        let step = Step::begin(format!(
            "{label}, {deployment}: one line of catalog01's rules changed, rebuilt"
        ));
        let changed = RULE_LINE.replace("1_000_000", &format!("1_000_00{}", edit + 1));
        shop::write(&rules, &original.replacen(RULE_LINE, &changed, 1))?;
        let built = builder.build(packages, false)?;
        step.done(&format!(
            "{:.1} s, relinked {}",
            built.seconds,
            built.relinked.len()
        ));
        rebuilds.push(built);
    }
    let mut broken = Vec::new();
    let mistyped = RULE_LINE.replace("1_000_000", "\"1_000_000\"");
    shop::write(&rules, &original.replacen(RULE_LINE, &mistyped, 1))?;
    for (deployment, _, packages) in &deployments {
        let step = Step::begin(format!(
            "{label}, {deployment}: a compile error in catalog01's rules"
        ));
        let built = builder.build(packages, true)?;
        step.done(&format!(
            "{} of {} binaries built",
            built.binaries.len(),
            packages.len()
        ));
        broken.push(built);
    }
    shop::write(&rules, &original)?;
    let mut measured = Vec::new();
    for ((((deployment, kind, packages), clean), rebuild), broken) in deployments
        .into_iter()
        .zip(cleans)
        .zip(rebuilds)
        .zip(broken)
    {
        // Back to the shop as generated, for its size and its start.
        builder.build(&packages, false)?;
        measured.push((
            deployment,
            Builds {
                kind,
                bin_dir: builder.bin_dir(),
                clean,
                one_service: (kind == Kind::Micro).then(|| one_service.clone()),
                rebuild,
                broken,
                packages,
            },
        ));
    }
    Ok(measured)
}
