//! Build time: what one change costs the people who build the shop.
//!
//! Measured in a copy of the workspace with a target directory of its own
//! (`target/build-time/`), so the user's sources and build are untouched:
//! first every third-party crate is built once (not timed); then each
//! deployment binary is built from clean workspace crates (the monolith
//! against each service); then a one-line change is made in turn to the
//! shared domain, the orders component's rules, the orders service's own
//! code and the monolith's own code, and the rebuild of every binary is
//! timed, with the crates cargo recompiled. That list is the point: a change
//! to `common` rebuilds everything, a change to one service rebuilds one
//! service.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::progress::Step;

#[derive(Debug, Clone, Serialize)]
pub struct BuildFigures {
    /// Release builds of the workspace's own crates from clean (third-party
    /// crates already built), per binary.
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

/// The workspace's top-level entries copied for the build.
const COPIED: [&str; 6] = [
    "Cargo.toml",
    "Cargo.lock",
    "common",
    "monolith",
    "microservices",
    "benches",
];

/// Runs the whole measurement for the workspace at `source`.
pub fn measure(source: &Path) -> anyhow::Result<BuildFigures> {
    let target = source.join("target").join("build-time");
    let scratch = tempfile::tempdir().context("cannot make a scratch directory")?;
    let copy = scratch.path().join("shoplab");
    for entry in COPIED {
        copy_tree(&source.join(entry), &copy.join(entry))?;
    }
    let cargo = Cargo {
        root: copy.clone(),
        target,
    };

    // Each binary built alone resolves its own feature set for the crates it
    // uses (cargo unifies features over what one build selects), so each
    // needs its own third-party builds, made here once so that no timed
    // build below compiles a crate that is not the workspace's.
    let step = Step::begin("build time: third-party crates (once, not timed)");
    cargo.build(&["--workspace", "--bins"])?;
    for (index, package) in PACKAGES.iter().enumerate() {
        cargo.build(&["-p", package])?;
        step.set((index + 1) as f64 / PACKAGES.len() as f64);
    }
    step.done("built");

    let own_crates = cargo.workspace_packages()?;
    let mut clean = Vec::new();
    for package in PACKAGES {
        let step = Step::begin(format!("build time: {package} from clean workspace crates"));
        cargo.clean(&own_crates)?;
        let (seconds, compiled) = cargo.build(&["-p", package])?;
        step.done(&format!("{seconds:.1} s, {} crates", compiled.len()));
        clean.push(CleanBuild {
            package: package.into(),
            seconds,
            compiled,
        });
    }

    cargo.build(&["--workspace", "--bins"])?;
    let mut incremental = Vec::new();
    for (change, candidates) in CHANGES {
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
            change: change.into(),
            file: (*file).into(),
            seconds,
            recompiled,
        });
    }
    Ok(BuildFigures { clean, incremental })
}

struct Cargo {
    root: PathBuf,
    target: PathBuf,
}

impl Cargo {
    fn command(&self) -> Command {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never");
        command
    }

    /// `cargo build --release ARGS`: seconds taken, and the crates compiled
    /// (from cargo's `Compiling NAME vX (PATH)` lines): the workspace's by
    /// name, any other as `third-party NAME vX`, which a timed build should
    /// never show.
    fn build(&self, args: &[&str]) -> anyhow::Result<(f64, Vec<String>)> {
        let started = Instant::now();
        let output = self
            .command()
            .args(["build", "--release"])
            .args(args)
            .output()
            .context("cannot run cargo")?;
        let seconds = started.elapsed().as_secs_f64();
        let said = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            bail!(
                "cargo build {} failed: {}",
                args.join(" "),
                said.lines().last().unwrap_or_default()
            );
        }
        let compiling: Vec<&str> = said
            .lines()
            .filter_map(|line| line.trim().strip_prefix("Compiling "))
            .collect();
        // A workspace crate's line names its path: `NAME vX.Y.Z (/path)`.
        let (own, third_party): (Vec<&str>, Vec<&str>) = compiling
            .into_iter()
            .partition(|line| line.contains(" (/") || line.contains(" (\\"));
        let recompiled = own
            .iter()
            .filter_map(|line| line.split_whitespace().next())
            .map(str::to_owned)
            .chain(third_party.iter().map(|line| format!("third-party {line}")))
            .collect();
        Ok((seconds, recompiled))
    }

    fn clean(&self, packages: &[String]) -> anyhow::Result<()> {
        let mut command = self.command();
        command.args(["clean", "--release"]);
        for package in packages {
            command.args(["-p", package]);
        }
        let status = command.status().context("cannot run cargo clean")?;
        if !status.success() {
            bail!("cargo clean failed");
        }
        Ok(())
    }

    /// The names of the workspace's own packages.
    fn workspace_packages(&self) -> anyhow::Result<Vec<String>> {
        let output = self
            .command()
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .output()
            .context("cannot run cargo metadata")?;
        let metadata: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("cargo metadata did not print JSON")?;
        Ok(metadata["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|package| package["name"].as_str().map(str::to_owned))
            .collect())
    }
}

/// Copies a file or a directory tree, leaving out build output.
fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    if from.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to).with_context(|| format!("cannot copy {}", from.display()))?;
        return Ok(());
    }
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        if entry.file_name() == "target" {
            continue;
        }
        copy_tree(&entry.path(), &to.join(entry.file_name()))?;
    }
    Ok(())
}
