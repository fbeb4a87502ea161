//! Cargo, driven for the build-time measurement: the copy of the workspace
//! (every member `cargo metadata` lists), builds timed with the crates they
//! compiled, cleans of exactly the workspace crates a binary is built from,
//! and cargo's own error passed on in one line when a build fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};

/// What a copy of the workspace at `source` needs, relative to it: its
/// manifest and lock file, and every member's directory, as `cargo
/// metadata` lists them (so a member added later is copied too).
pub(crate) fn workspace_entries(source: &Path) -> anyhow::Result<Vec<PathBuf>> {
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

pub(crate) struct Cargo {
    pub(crate) root: PathBuf,
    pub(crate) target: PathBuf,
    /// `release` or `dev`.
    pub(crate) profile: &'static str,
}

impl Cargo {
    pub(crate) fn command(&self) -> Command {
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
    pub(crate) fn build(&self, args: &[&str]) -> anyhow::Result<(f64, Vec<String>)> {
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

    pub(crate) fn clean(&self, packages: &[String]) -> anyhow::Result<()> {
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
    pub(crate) fn workspace(&self) -> anyhow::Result<Workspace> {
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
pub(crate) struct Workspace {
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
    pub(crate) fn compiled_by(&self, package: &str) -> Vec<String> {
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

/// What cargo said was wrong, on one line: its `error` lines, the `Caused
/// by` lines under them (the last line alone can be as bare as "No such file
/// or directory") and rustc's notes but for the linker's command line (a
/// failed link says why only there: "No space left on device", a killed
/// `ld`).
pub(crate) fn cargo_errors(stderr: &str) -> String {
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
        } else if let Some(note) = line.strip_prefix("= note:").map(str::trim) {
            let command_line = note.starts_with('"') || note.starts_with("LC_ALL=");
            if !command_line && !note.starts_with("some arguments are omitted") {
                said.push(format!(
                    "note: {}",
                    note.chars().take(300).collect::<String>()
                ));
            }
        }
    }
    if said.is_empty() {
        said.extend(stderr.lines().last().map(str::to_owned));
    }
    said.join("; ")
}

/// Copies a file or a directory tree, leaving out build output.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
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
    fn a_failed_link_says_what_the_linker_said_and_not_its_command_line() {
        let stderr = "   Compiling shoplab-catalog v0.1.0 (/tmp/x/microservices/catalog)\n\
error: linking with `cc` failed: exit status: 1\n\
  |\n\
  = note:  \"cc\" \"-m64\" \"/tmp/rustcXYZ/symbols.o\" \"-o\" \"/tmp/x/target/shoplab_catalog\"\n\
  = note: some arguments are omitted. use `--verbose` to show all linker arguments\n\
  = note: /usr/bin/ld: final link failed: No space left on device\n\
          collect2: error: ld returned 1 exit status\n\
\n\
error: could not compile `shoplab-catalog` (bin \"shoplab-catalog\") due to 1 previous error\n";
        assert_eq!(
            cargo_errors(stderr),
            "error: linking with `cc` failed: exit status: 1; \
note: /usr/bin/ld: final link failed: No space left on device; \
error: could not compile `shoplab-catalog` (bin \"shoplab-catalog\") due to 1 previous error"
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
