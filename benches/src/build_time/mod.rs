//! Build time (`shoplab build-time`, and `compare --with-build`): what one
//! change costs the people who build the shop.
//!
//! Measured in a copy of the workspace (its manifest, its lock file and
//! every member `cargo metadata` lists) with a target directory of its own
//! (`target/build-time/`), so the user's sources and build are untouched:
//! first every third-party crate is built once (not timed); then each
//! deployment binary is built from clean workspace crates (the monolith
//! against each service); then a one-line change is made in turn to the
//! shared domain, the orders component's rules, the orders service's own
//! code and the monolith's own code, and the rebuild of every binary is
//! timed, with the crates cargo recompiled. That list is the point: a change
//! to `common` rebuilds everything, a change to one service rebuilds one
//! service.

pub(crate) mod cargo;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::experiment::{self, Experiment, Stamp};
use crate::progress::Step;

use cargo::{copy_tree, workspace_entries, Cargo};

#[derive(Debug, Clone, Serialize)]
pub struct BuildFigures {
    /// The cargo profile built: `release`, or `dev` for a `--quick` run.
    pub profile: String,
    /// Builds of the workspace's own crates from clean (third-party crates
    /// already built), per binary.
    pub clean: Vec<CleanBuild>,
    /// Rebuilds of every binary after a one-line change.
    pub incremental: Vec<Rebuild>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CleanBuild {
    pub package: String,
    pub seconds: f64,
    /// The crates that build compiled (the workspace's own only).
    pub compiled: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rebuild {
    /// What changed, in words.
    pub change: String,
    /// The file that got one line more.
    pub file: String,
    pub seconds: f64,
    /// The workspace crates cargo compiled again.
    pub recompiled: Vec<String>,
}

impl BuildFigures {
    /// The figures as lines on the terminal.
    pub fn print(&self) {
        for clean in &self.clean {
            println!(
                "clean build of {:<18} {:>7.1} s, compiled {}",
                clean.package,
                clean.seconds,
                clean.compiled.join(", ")
            );
        }
        for rebuild in &self.incremental {
            println!(
                "one line more in {} ({}): {:.1} s, recompiled {}",
                rebuild.change,
                rebuild.file,
                rebuild.seconds,
                rebuild.recompiled.join(", ")
            );
        }
    }
}

/// The binaries' packages, monolith first.
const PACKAGES: [&str; 6] = [
    "shoplab-monolith",
    "shoplab-users",
    "shoplab-catalog",
    "shoplab-payments",
    "shoplab-orders",
    "shoplab-gateway",
];

/// The one-line changes: what each stands for, and the file changed (the
/// first of the list that exists).
const CHANGES: [(&str, &[&str]); 4] = [
    (
        "the shared domain (common)",
        &["common/src/domain/money.rs"],
    ),
    (
        "the orders component's rules (common)",
        &["common/src/orders/pricing.rs"],
    ),
    (
        "the orders service's own code",
        &["microservices/orders/src/checkout.rs"],
    ),
    ("the monolith's own code", &["monolith/src/checkout.rs"]),
];

/// How much to measure.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    /// The quick form (CI's): debug builds of the monolith and the orders
    /// service, and the one change to the orders service's code; the same
    /// steps as the full run, in a few minutes.
    pub quick: bool,
}

impl Scope {
    fn packages(self) -> &'static [&'static str] {
        if self.quick {
            &["shoplab-monolith", "shoplab-orders"]
        } else {
            &PACKAGES
        }
    }

    fn changes(self) -> &'static [(&'static str, &'static [&'static str])] {
        if self.quick {
            &CHANGES[2..3]
        } else {
            &CHANGES
        }
    }

    fn profile(self) -> &'static str {
        if self.quick {
            "dev"
        } else {
            "release"
        }
    }
}

/// Runs the measurement for the workspace at `source`.
pub fn measure(source: &Path, scope: Scope) -> anyhow::Result<BuildFigures> {
    let target = source.join("target").join("build-time");
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let copy = scratch.path().join("shoplab");
    for entry in workspace_entries(source)? {
        copy_tree(&source.join(&entry), &copy.join(&entry))?;
    }
    let cargo = Cargo {
        root: copy.clone(),
        target,
        profile: scope.profile(),
    };
    let packages = scope.packages();

    // Each binary built alone resolves its own feature set for the crates it
    // uses (cargo unifies features over what one build selects), so each
    // needs its own third-party builds, made here once so that no timed
    // build below compiles a crate that is not the workspace's.
    let step = Step::begin("build time: third-party crates (once, not timed)");
    cargo.build(&["--workspace", "--bins"])?;
    for (index, package) in packages.iter().enumerate() {
        cargo.build(&["-p", package])?;
        step.set((index + 1) as f64 / packages.len() as f64);
    }
    step.done("built");

    let workspace = cargo.workspace()?;
    let mut clean = Vec::new();
    for package in packages {
        let step = Step::begin(format!("build time: {package} from clean workspace crates"));
        cargo.clean(&workspace.compiled_by(package))?;
        let (seconds, compiled) = cargo.build(&["-p", package])?;
        step.done(&format!("{seconds:.1} s, {} crates", compiled.len()));
        clean.push(CleanBuild {
            package: (*package).into(),
            seconds,
            compiled,
        });
    }

    cargo.build(&["--workspace", "--bins"])?;
    let mut incremental = Vec::new();
    for (change, candidates) in scope.changes() {
        let Some(file) = candidates.iter().find(|file| copy.join(file).is_file()) else {
            bail!("none of {candidates:?} exists: the build-time changes need updating");
        };
        let step = Step::begin(format!("build time: one line more in {file}"));
        let path = copy.join(file);
        let original = std::fs::read_to_string(&path)?;
        std::fs::write(&path, format!("{original}\n// build-time probe\n"))?;
        let built = cargo.build(&["--workspace", "--bins"]);
        std::fs::write(&path, &original)?;
        let (seconds, recompiled) = built?;
        // Back to the unchanged sources before the next change.
        cargo.build(&["--workspace", "--bins"])?;
        step.done(&format!("{seconds:.1} s, {} crates", recompiled.len()));
        incremental.push(Rebuild {
            change: (*change).into(),
            file: (*file).into(),
            seconds,
            recompiled,
        });
    }
    Ok(BuildFigures {
        profile: scope.profile().into(),
        clean,
        incremental,
    })
}

/// Measure build times alone: clean builds of each binary's own crates,
/// and rebuilds after a one-line change in the shared domain, the orders
/// component, the orders service and the monolith. Runs in a copy of the
/// workspace with its own target directory (target/build-time); takes
/// several minutes. Writes build.json.
#[derive(clap::Args)]
pub struct Args {
    /// The results folder (default results/build-<timestamp>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The quick form CI runs: debug builds of the monolith and the
    /// orders service, and the one change to the orders service's code.
    #[arg(long)]
    pub quick: bool,
}

/// Measures what `args` asks for, prints it and writes build.json.
impl Experiment for Args {
    type Result = BuildFigures;
    const PREFIX: &'static str = "build-";
    const FILE: &'static str = "build.json";

    fn out(&self) -> Option<PathBuf> {
        self.out.clone()
    }

    async fn measure(
        &self,
        _out: &Path,
        _stamp: Stamp,
        _earlier: &[BuildFigures],
    ) -> anyhow::Result<BuildFigures> {
        let source = experiment::source_root();
        let scope = Scope { quick: self.quick };
        tokio::task::spawn_blocking(move || measure(&source, scope)).await?
    }

    fn render(&self, results: &[BuildFigures]) {
        results.iter().for_each(BuildFigures::print);
    }
}
