//! `shoplab trace <request-id>`: one request's path through a deployment,
//! as a tree of hops with their times, read from the hop logs its
//! processes write (`--log-file`, see `common/http/src/hop_log/mod.rs`).
//!
//! Through the microservices an order is the gateway's call to the orders
//! service and the orders service's five component calls, each an HTTP call
//! served by another process; through the monolith it is one request whose
//! component calls are function calls. Each hop shows its own time ("self":
//! what is left when the hops under it are taken away), so a reader sees
//! where the time goes: in a process's own code, or on the wire between two
//! (a call's self time is what the network, the peer's queue and both
//! sides' JSON cost beyond what the peer spent serving it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::cli::default_data_dir;
use crate::deployment::Kind;

/// One line of a hop log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hop {
    /// The process that logged it: its log file's name (`shoplab-catalog.2`
    /// for a replica), which names replicas apart.
    #[serde(default)]
    pub process: String,
    /// `served` (a request this process answered), `called` (a request it
    /// sent to another) or `function` (a component call through the
    /// component interfaces).
    pub hop: String,
    pub request_id: String,
    pub hop_id: String,
    /// The hop this one happened inside; empty where the request entered.
    #[serde(default)]
    pub parent: String,
    /// For a call: which service, at which address.
    #[serde(default)]
    pub peer: Option<String>,
    pub method: String,
    /// A route template, a path, or a component call's name.
    pub route: String,
    /// The HTTP status (0: no answer, or a function call).
    #[serde(default)]
    pub status: u16,
    /// A function call's outcome: ok, refused, timeout or unavailable.
    #[serde(default)]
    pub outcome: Option<String>,
    /// When it started, in microseconds since the Unix epoch.
    pub started_us: u64,
    pub micros: u64,
}

impl Hop {
    /// What the hop was, in a few words.
    fn describe(&self) -> String {
        match self.hop.as_str() {
            "called" => format!(
                "→ {}: {} {}",
                self.peer.as_deref().unwrap_or("?"),
                self.method,
                self.route
            ),
            "function" => self.route.clone(),
            _ => format!("{}: {} {}", self.process, self.method, self.route),
        }
    }

    fn result(&self) -> String {
        match (&self.outcome, self.status) {
            (Some(outcome), _) => outcome.clone(),
            (None, 0) => "no answer".into(),
            (None, status) => status.to_string(),
        }
    }
}

/// Every hop of `request_id` in the hop logs (`*.log`, and `*.log.old`
/// moved aside when full) of `dirs`, in the order they started.
pub fn hops(request_id: &str, dirs: &[PathBuf]) -> anyhow::Result<Vec<Hop>> {
    hops_where(
        dirs,
        |line| line.contains(request_id),
        |id| id == request_id,
    )
}

/// Every hop in the hop logs of `dirs` whose request id `keep` accepts,
/// read in one pass over each file (`prefilter` skips a line before it is
/// parsed), in the order they started.
pub fn hops_where(
    dirs: &[PathBuf],
    prefilter: impl Fn(&str) -> bool,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<Hop>> {
    let mut hops = Vec::new();
    for dir in dirs {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if let Some(process) = process_of(&path) {
                hops.extend(read(&path, &process, &prefilter, &keep)?);
            }
        }
    }
    hops.sort_by_key(|hop| hop.started_us);
    Ok(hops)
}

/// The process a hop log belongs to: its file name without `.log` (or
/// `.log.old`); `None` for anything else.
fn process_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".log")
        .or_else(|| name.strip_suffix(".log.old"))?;
    Some(stem.to_owned())
}

fn read(
    path: &Path,
    process: &str,
    prefilter: &impl Fn(&str) -> bool,
    keep: &impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<Hop>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // A line that is not a hop (or was cut short by a crash) is skipped.
    Ok(text
        .lines()
        .filter(|line| prefilter(line))
        .filter_map(|line| serde_json::from_str::<Hop>(line).ok())
        .filter(|hop| keep(&hop.request_id))
        .map(|hop| Hop {
            process: process.to_owned(),
            ..hop
        })
        .collect())
}

/// The hops as a tree: each hop's children, in the order they started.
struct Tree<'a> {
    hops: &'a [Hop],
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
}

impl<'a> Tree<'a> {
    /// `hops` sorted by start. A hop whose parent is not among them (the
    /// request's entry, or a hop whose parent's log was not given) is a root.
    fn of(hops: &'a [Hop]) -> Self {
        let index: BTreeMap<&str, usize> = hops
            .iter()
            .enumerate()
            .map(|(at, hop)| (hop.hop_id.as_str(), at))
            .collect();
        let mut children = vec![Vec::new(); hops.len()];
        let mut roots = Vec::new();
        for (at, hop) in hops.iter().enumerate() {
            match index.get(hop.parent.as_str()) {
                Some(&parent) if parent != at => children[parent].push(at),
                _ => roots.push(at),
            }
        }
        Self {
            hops,
            children,
            roots,
        }
    }

    /// A hop's time less its children's: its own work (or, for a call, the
    /// wire's).
    fn self_micros(&self, at: usize) -> u64 {
        let below: u64 = self.children[at]
            .iter()
            .map(|&child| self.hops[child].micros)
            .sum();
        self.hops[at].micros.saturating_sub(below)
    }
}

/// One request's hops drawn as a tree, with a line per hop (start, time,
/// self time, what, result) and a summary of where the time went.
pub fn render(request_id: &str, hops: &[Hop]) -> String {
    let tree = Tree::of(hops);
    let first = hops.iter().map(|hop| hop.started_us).min().unwrap_or(0);
    let last = hops
        .iter()
        .map(|hop| hop.started_us + hop.micros)
        .max()
        .unwrap_or(first);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "request {request_id}: {} hops, {:.3} ms from the first to the last",
        hops.len(),
        (last - first) as f64 / 1000.0
    );
    let _ = writeln!(
        out,
        "{:>9} {:>9} {:>9}  hop",
        "start ms", "took ms", "self ms"
    );
    for &root in &tree.roots {
        draw(&tree, root, first, "", "", &mut out);
    }
    summarize(&tree, &mut out);
    out
}

fn draw(tree: &Tree<'_>, at: usize, first: u64, lead: &str, rest: &str, out: &mut String) {
    let hop = &tree.hops[at];
    let _ = writeln!(
        out,
        "{:>9.3} {:>9.3} {:>9.3}  {lead}{}  [{}]",
        hop.started_us.saturating_sub(first) as f64 / 1000.0,
        hop.micros as f64 / 1000.0,
        tree.self_micros(at) as f64 / 1000.0,
        hop.describe(),
        hop.result(),
    );
    let children = &tree.children[at];
    for (position, &child) in children.iter().enumerate() {
        let last = position + 1 == children.len();
        let (lead, more) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        draw(
            tree,
            child,
            first,
            &format!("{rest}{lead}"),
            &format!("{rest}{more}"),
            out,
        );
    }
}

/// Self time summed by where it was spent: in each process's code (served
/// requests and the function calls inside them), and on the wire.
fn summarize(tree: &Tree<'_>, out: &mut String) {
    let mut by_place: BTreeMap<String, u64> = BTreeMap::new();
    for (at, hop) in tree.hops.iter().enumerate() {
        let place = match hop.hop.as_str() {
            "called" => "on the wire (calls, less what their peers served)".to_owned(),
            _ => format!("in {}", hop.process),
        };
        *by_place.entry(place).or_default() += tree.self_micros(at);
    }
    let _ = writeln!(out, "where the time went (self time):");
    for (place, micros) in by_place {
        let _ = writeln!(out, "{:>9.3} ms  {place}", micros as f64 / 1000.0);
    }
}

/// Prints the hops of `request_id` found in `dirs` as a tree.
pub fn run(request_id: &str, dirs: &[PathBuf]) -> anyhow::Result<()> {
    anyhow::ensure!(
        !dirs.is_empty(),
        "no hop logs here: give --log-dir (shoplab up writes them to its data directory's logs/)"
    );
    let hops = hops(request_id, dirs)?;
    anyhow::ensure!(
        !hops.is_empty(),
        "no hop of request {request_id:?} in {}",
        dirs.iter()
            .map(|dir| dir.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    print!("{}", render(request_id, &hops));
    Ok(())
}

/// One request's path through a deployment started with `shoplab up`,
/// drawn as a tree of hops: every request a process served, every call
/// one process made to another and every component call, under the hop
/// it happened in, with its start, its time, its own ("self") time and
/// its status; then where the time went (in each process, on the wire).
/// Reads the hop logs in --log-dir (default: ./data/micro/logs and
/// ./data/monolith/logs).
#[derive(clap::Args)]
pub struct Args {
    /// The request's X-Request-Id (sent by the caller, or read from the
    /// answer's header).
    pub request_id: String,
    /// The directory of hop logs (`shoplab up --log-dir`).
    #[arg(long, conflicts_with = "data_dir")]
    pub log_dir: Option<PathBuf>,
    /// The deployment's data directory (`shoplab up --data-dir`): its
    /// hop logs are in DIR/logs.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl Args {
    /// The directories of hop logs to read: --log-dir, or DIR/logs of
    /// --data-dir, or else the default logs of both deployments that exist.
    pub fn log_dirs(&self) -> Vec<PathBuf> {
        match (&self.log_dir, &self.data_dir) {
            (Some(dir), _) => vec![dir.clone()],
            (None, Some(dir)) => vec![dir.join("logs")],
            (None, None) => [Kind::Micro, Kind::Monolith]
                .map(|kind| default_data_dir(kind).join("logs"))
                .into_iter()
                .filter(|dir| dir.is_dir())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(id: &str, parent: &str, kind: &str, started_us: u64, micros: u64) -> Hop {
        Hop {
            process: "p".into(),
            hop: kind.into(),
            request_id: "r".into(),
            hop_id: id.into(),
            parent: parent.into(),
            peer: Some("catalog".into()),
            method: "GET".into(),
            route: format!("/{id}"),
            status: 200,
            outcome: None,
            started_us,
            micros,
        }
    }

    #[test]
    fn a_hop_hangs_under_its_parent_and_its_self_time_excludes_its_children() {
        let hops = [
            hop("a", "", "served", 0, 1000),
            hop("b", "a", "called", 100, 600),
            hop("c", "b", "served", 200, 400),
            hop("d", "a", "called", 800, 100),
        ];
        let tree = Tree::of(&hops);
        assert_eq!(tree.roots, [0]);
        assert_eq!(tree.children[0], [1, 3]);
        assert_eq!(tree.children[1], [2]);
        assert_eq!(tree.self_micros(0), 300);
        assert_eq!(tree.self_micros(1), 200);
        let drawn = render("r", &hops);
        assert!(drawn.contains("├─ → catalog: GET /b"), "{drawn}");
        assert!(drawn.contains("│  └─ p: GET /c"), "{drawn}");
        assert!(drawn.contains("└─ → catalog: GET /d"), "{drawn}");
        assert!(drawn.contains("0.300 ms  on the wire"), "{drawn}");
    }

    #[test]
    fn a_hop_whose_parent_is_missing_is_a_root() {
        let hops = [
            hop("a", "gone", "served", 0, 10),
            hop("b", "", "served", 5, 10),
        ];
        assert_eq!(Tree::of(&hops).roots, [0, 1]);
    }
}
