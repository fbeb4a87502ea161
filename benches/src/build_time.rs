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

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use serde::Serialize;

use crate::progress::Step;

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

/// What a copy of the workspace at `source` needs, relative to it: its
/// manifest and lock file, and every member's directory, as `cargo
/// metadata` lists them (so a member added later is copied too).
fn workspace_entries(source: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let metadata = Cargo::metadata(Command::new(cargo_program()).current_dir(source))?;
    let root = metadata["workspace_root"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata names no workspace root")?;
    let mut entries = vec![PathBuf::from("Cargo.toml"), PathBuf::from("Cargo.lock")];
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let Some(manifest) = package["manifest_path"].as_str().map(Path::new) else {
            continue;
        };
        let member = manifest
            .parent()
            .and_then(|dir| dir.strip_prefix(&root).ok())
            .filter(|dir| !dir.as_os_str().is_empty())
            .with_context(|| {
                format!(
                    "the member {} is not in a directory of its own under {}",
                    manifest.display(),
                    root.display()
                )
            })?;
        entries.push(member.to_path_buf());
    }
    Ok(entries)
}

fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

struct Cargo {
    root: PathBuf,
    target: PathBuf,
    /// `release` or `dev`.
    profile: &'static str,
}

impl Cargo {
    fn command(&self) -> Command {
        let mut command = Command::new(cargo_program());
        command
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target)
            .env("CARGO_TERM_COLOR", "never");
        command
    }

    /// `cargo build --profile PROFILE ARGS`: seconds taken, and the crates compiled
    /// (from cargo's `Compiling NAME vX (PATH)` lines): the workspace's by
    /// name, any other as `third-party NAME vX`, which a timed build should
    /// never show.
    fn build(&self, args: &[&str]) -> anyhow::Result<(f64, Vec<String>)> {
        let started = Instant::now();
        let output = self
            .command()
            .args(["build", "--profile", self.profile])
            .args(args)
            .output()
            .context("cannot run cargo")?;
        let seconds = started.elapsed().as_secs_f64();
        let said = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            bail!(
                "cargo build {} failed: {}",
                args.join(" "),
                cargo_errors(&said)
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
        command.args(["clean", "--profile", self.profile]);
        for package in packages {
            command.args(["-p", package]);
        }
        let output = command.output().context("cannot run cargo clean")?;
        if !output.status.success() {
            bail!(
                "cargo clean failed: {}",
                cargo_errors(&String::from_utf8_lossy(&output.stderr))
            );
        }
        Ok(())
    }

    /// The workspace's own packages and the paths between them.
    fn workspace(&self) -> anyhow::Result<Workspace> {
        Ok(Workspace::from_metadata(&Self::metadata(
            &mut self.command(),
        )?))
    }

    /// `cargo metadata --no-deps` in `command`'s directory: the workspace
    /// and its own packages.
    fn metadata(command: &mut Command) -> anyhow::Result<serde_json::Value> {
        let output = command
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .output()
            .context("cannot run cargo metadata")?;
        if !output.status.success() {
            bail!(
                "cargo metadata failed: {}",
                cargo_errors(&String::from_utf8_lossy(&output.stderr))
            );
        }
        serde_json::from_slice(&output.stdout).context("cargo metadata did not print JSON")
    }
}

/// The workspace's own packages, each with the workspace packages it
/// depends on to build (normal and build dependencies, not dev ones).
struct Workspace {
    depends_on: std::collections::BTreeMap<String, Vec<String>>,
}

impl Workspace {
    fn from_metadata(metadata: &serde_json::Value) -> Self {
        let packages = metadata["packages"].as_array().into_iter().flatten();
        let names: std::collections::BTreeSet<&str> = packages
            .clone()
            .filter_map(|package| package["name"].as_str())
            .collect();
        let depends_on = packages
            .filter_map(|package| {
                let own = package["dependencies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|dependency| dependency["kind"].as_str() != Some("dev"))
                    .filter_map(|dependency| dependency["name"].as_str())
                    .filter(|name| names.contains(name))
                    .map(str::to_owned)
                    .collect();
                Some((package["name"].as_str()?.to_owned(), own))
            })
            .collect();
        Self { depends_on }
    }

    /// `package` and every workspace package it builds on: what a clean
    /// build of it compiles of the workspace's own, and all a clean before
    /// it should remove. (Cleaning the harness too would remove third-party
    /// files: `cargo clean -p` removes by target name, and a test target
    /// named `metrics` takes the `metrics` crate's files with it.)
    fn compiled_by(&self, package: &str) -> Vec<String> {
        let mut compiled = vec![package.to_owned()];
        let mut next = 0;
        while let Some(name) = compiled.get(next).cloned() {
            for dependency in self.depends_on.get(&name).into_iter().flatten() {
                if !compiled.contains(dependency) {
                    compiled.push(dependency.clone());
                }
            }
            next += 1;
        }
        compiled
    }
}

/// What cargo said was wrong, on one line: its `error` lines and the
/// `Caused by` lines under them (the last line alone can be as bare as "No
/// such file or directory").
fn cargo_errors(stderr: &str) -> String {
    let mut said = Vec::new();
    let mut lines = stderr
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    while let Some(line) = lines.next() {
        if line.starts_with("error") {
            said.push(line.to_owned());
        } else if line == "Caused by:" {
            if let Some(cause) = lines.next() {
                said.push(format!("caused by: {cause}"));
            }
        }
    }
    if said.is_empty() {
        said.extend(stderr.lines().last().map(str::to_owned));
    }
    said.join("; ")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_errors_keep_the_error_and_its_causes_on_one_line() {
        let stderr = "    Updating crates.io index\n\
error: failed to load manifest for workspace member `/tmp/x/testkit`\n\
referenced by workspace at `/tmp/x/Cargo.toml`\n\
\n\
Caused by:\n\
  failed to read `/tmp/x/testkit/Cargo.toml`\n\
\n\
Caused by:\n\
  No such file or directory (os error 2)\n";
        assert_eq!(
            cargo_errors(stderr),
            "error: failed to load manifest for workspace member `/tmp/x/testkit`; \
caused by: failed to read `/tmp/x/testkit/Cargo.toml`; \
caused by: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_clean_build_cleans_the_binary_and_the_workspace_crates_under_it_only() {
        let metadata = serde_json::json!({"packages": [
            {"name": "shop-monolith", "dependencies": [
                {"name": "shop-common", "kind": null}, {"name": "serde", "kind": null}]},
            {"name": "shop-orders", "dependencies": [
                {"name": "shop-service", "kind": null}, {"name": "shop-testkit", "kind": "dev"}]},
            {"name": "shop-service", "dependencies": [{"name": "shop-common", "kind": null}]},
            {"name": "shop-common", "dependencies": []},
            {"name": "shop-testkit", "dependencies": []},
            {"name": "shop-harness", "dependencies": [{"name": "shop-common", "kind": null}]},
        ]});
        let workspace = Workspace::from_metadata(&metadata);
        assert_eq!(
            workspace.compiled_by("shop-monolith"),
            ["shop-monolith", "shop-common"]
        );
        assert_eq!(
            workspace.compiled_by("shop-orders"),
            ["shop-orders", "shop-service", "shop-common"]
        );
    }

    #[test]
    fn the_copy_holds_every_workspace_member() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("benches/ is in the workspace");
        let entries = workspace_entries(source).expect("cargo metadata runs");
        for member in [
            "common",
            "monolith",
            "benches",
            "testkit",
            "microservices/orders",
        ] {
            assert!(
                entries.iter().any(|entry| entry == Path::new(member)),
                "{member} is not copied: {entries:?}"
            );
        }
        assert!(entries.iter().any(|entry| entry == Path::new("Cargo.lock")));
    }
}
