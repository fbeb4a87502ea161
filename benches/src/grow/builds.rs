//! Cargo on the grown shop, watched closely: each build's time, the crates
//! it compiled and the binaries it linked (from cargo's JSON messages), and
//! the time spent in the linker apart (a wrapper around rustc hands every
//! binary's link to a wrapper around `cc` that times it). Neither wrapper
//! changes what is built: cargo does not fingerprint `RUSTC_WRAPPER`, and
//! the linker is the same `cc`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};

use super::shop::write;
use crate::build_time::cargo::{cargo_errors, Cargo};

/// What one build did.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub seconds: f64,
    /// The workspace crates compiled (a package's library and binary are
    /// two crates), by target name.
    pub compiled: Vec<String>,
    /// The shop's binaries linked anew.
    pub relinked: Vec<String>,
    /// Seconds spent linking the shop's binaries, summed over links (two
    /// may run at once).
    pub link_seconds: f64,
    /// The shop's binaries that exist and are up to date after the build.
    pub binaries: Vec<String>,
}

/// Builds the grown shop at `cargo.root` with timed links.
pub struct Builder {
    pub cargo: Cargo,
    tools: PathBuf,
}

const RUSTC_WRAPPER: &str = r#"#!/bin/sh
# shoplab grow: rustc as cargo calls it, with a binary's link handed to a
# linker that times it.
rustc="$1"; shift
case " $* " in
  *" --crate-type bin "*) exec "$rustc" "$@" -C "linker=$SHOPLAB_GROW_LINKER" ;;
esac
exec "$rustc" "$@"
"#;

const LINKER: &str = r#"#!/bin/sh
# shoplab grow: cc, timed; appends "NANOSECONDS OUTPUT" to the link log.
out=; previous=
for argument in "$@"; do
  [ "$previous" = "-o" ] && out="$argument"
  previous="$argument"
done
start=$(date +%s%N)
cc "$@"
status=$?
end=$(date +%s%N)
echo "$((end - start)) $out" >> "$SHOPLAB_GROW_LINK_LOG"
exit $status
"#;

impl Builder {
    /// A builder for the shop at `cargo.root`, its wrappers written in `tools`.
    pub fn new(cargo: Cargo, tools: &Path) -> anyhow::Result<Self> {
        for (name, text) in [("rustc-wrapper", RUSTC_WRAPPER), ("linker", LINKER)] {
            let path = tools.join(name);
            write(&path, text)?;
            executable(&path)?;
        }
        Ok(Self {
            cargo,
            tools: tools.to_path_buf(),
        })
    }

    /// The binaries' folder.
    pub fn bin_dir(&self) -> PathBuf {
        let dir = if self.cargo.profile == "dev" {
            "debug"
        } else {
            self.cargo.profile
        };
        self.cargo.target.join(dir)
    }

    /// `cargo build -p` each of `packages`. A failed build is an error,
    /// unless `keep_going`: then cargo builds all it can, and the result's
    /// `binaries` say what was built.
    pub fn build(&self, packages: &[String], keep_going: bool) -> anyhow::Result<Built> {
        let log = self.tools.join("links.log");
        std::fs::write(&log, "")?;
        let mut command = self.cargo.command();
        command
            .args(["build", "--profile", self.cargo.profile])
            .arg("--message-format=json-render-diagnostics")
            .env("RUSTC_WRAPPER", self.tools.join("rustc-wrapper"))
            .env("SHOPLAB_GROW_LINKER", self.tools.join("linker"))
            .env("SHOPLAB_GROW_LINK_LOG", &log);
        if keep_going {
            command.arg("--keep-going");
        }
        for package in packages {
            command.args(["-p", package]);
        }
        let started = Instant::now();
        let output = command.output().context("cannot run cargo")?;
        let seconds = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() && !keep_going {
            bail!("cargo build failed: {}", cargo_errors(&stderr));
        }
        let mut built = artifacts(&String::from_utf8_lossy(&output.stdout), &self.cargo.root);
        built.seconds = seconds;
        built.link_seconds = link_seconds(&std::fs::read_to_string(&log)?);
        Ok(built)
    }
}

/// What cargo's `compiler-artifact` messages say was compiled and linked,
/// of the workspace at `root` (build scripts left out).
fn artifacts(messages: &str, root: &Path) -> Built {
    let mut built = Built::default();
    let (mut compiled, mut relinked, mut binaries) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for message in messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
    {
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let own = message["manifest_path"]
            .as_str()
            .is_some_and(|path| Path::new(path).starts_with(root));
        let kinds = message["target"]["kind"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !own || kinds.iter().any(|kind| kind == "custom-build") {
            continue;
        }
        let name = message["target"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let fresh = message["fresh"].as_bool().unwrap_or(false);
        let kind = if kinds.iter().any(|kind| kind == "bin") {
            "bin"
        } else {
            "lib"
        };
        if !fresh {
            compiled.insert(format!("{name} ({kind})"));
        }
        if message["executable"].is_string() {
            binaries.insert(name.clone());
            if !fresh {
                relinked.insert(name);
            }
        }
    }
    built.compiled = compiled.into_iter().collect();
    built.relinked = relinked.into_iter().collect();
    built.binaries = binaries.into_iter().collect();
    built
}

/// The link log's seconds for the shop's binaries (output files named
/// `shoplab…`), not build scripts'.
fn link_seconds(log: &str) -> f64 {
    log.lines()
        .filter_map(|line| line.split_once(' '))
        .filter(|(_, out)| {
            Path::new(out)
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("shoplab"))
        })
        .filter_map(|(nanos, _)| nanos.parse::<f64>().ok())
        .sum::<f64>()
        / 1e9
}

fn executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_crates_are_not_counted_and_build_scripts_and_other_crates_are_left_out() {
        let messages = [
            r#"{"reason":"compiler-artifact","manifest_path":"/shop/common/Cargo.toml","target":{"kind":["lib"],"name":"shoplab_common"},"fresh":false,"executable":null}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/shop/common/Cargo.toml","target":{"kind":["custom-build"],"name":"build-script-build"},"fresh":false,"executable":null}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/registry/serde/Cargo.toml","target":{"kind":["lib"],"name":"serde"},"fresh":false,"executable":null}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/shop/monolith/Cargo.toml","target":{"kind":["bin"],"name":"shoplab-monolith"},"fresh":false,"executable":"/t/shoplab-monolith"}"#,
            r#"{"reason":"compiler-artifact","manifest_path":"/shop/grown/catalog01/Cargo.toml","target":{"kind":["bin"],"name":"shoplab-catalog01"},"fresh":true,"executable":"/t/shoplab-catalog01"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        let built = artifacts(&messages, Path::new("/shop"));
        assert_eq!(
            built.compiled,
            ["shoplab-monolith (bin)", "shoplab_common (lib)"]
        );
        assert_eq!(built.relinked, ["shoplab-monolith"]);
        assert_eq!(built.binaries, ["shoplab-catalog01", "shoplab-monolith"]);
    }

    #[test]
    fn only_the_shops_links_are_timed() {
        let log = "1500000000 /t/release/deps/shoplab_monolith-abc\n\
                   700000000 /t/release/build/serde-123/build_script_build-123\n\
                   500000000 /t/release/deps/shoplab_catalog01-def\n";
        assert!((link_seconds(log) - 2.0).abs() < 1e-9);
    }
}
