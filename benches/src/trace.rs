//! `shoplab trace <request-id>`: one request's path through a deployment,
//! read from the hop logs its processes write (`--log-file`, see
//! `common/src/http/hop_log.rs`): every request a process served and every
//! call it made with that `X-Request-Id`, in the order they started.
//!
//! Through the monolith a placed order is one line: the whole order ran in
//! one process. Through the microservices it is the gateway's call, the
//! orders service's calls to users, catalog and payments, and each of
//! those services serving its part: the hops the split added, each with
//! its time.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// One line of a hop log.
#[derive(Debug, Clone, Deserialize)]
pub struct Hop {
    pub timestamp: String,
    pub process: String,
    /// `served` or `called`.
    pub hop: String,
    pub request_id: String,
    #[serde(default)]
    pub peer: Option<String>,
    pub method: String,
    pub route: String,
    pub status: u16,
    pub micros: u64,
}

impl Hop {
    /// When the hop started, in microseconds of the day (the log has its end).
    fn started_micros(&self) -> i64 {
        let Some(time) = self.timestamp.split('T').nth(1) else {
            return 0;
        };
        let time = time.trim_end_matches('Z');
        let mut parts = time.split(':');
        let (hours, minutes, seconds) = (parts.next(), parts.next(), parts.next());
        let field = |part: Option<&str>| {
            part.and_then(|part| part.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let ended = ((field(hours) * 60.0 + field(minutes)) * 60.0 + field(seconds)) * 1e6;
        ended as i64 - i64::try_from(self.micros).unwrap_or(0)
    }
}

/// Every hop of `request_id` in the `*.log` files of `dirs`, in the order
/// they started.
pub fn hops(request_id: &str, dirs: &[PathBuf]) -> anyhow::Result<Vec<Hop>> {
    let mut hops = Vec::new();
    for dir in dirs {
        let entries =
            std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|extension| extension == "log") {
                hops.extend(read(&path, request_id)?);
            }
        }
    }
    hops.sort_by_key(Hop::started_micros);
    Ok(hops)
}

fn read(path: &Path, request_id: &str) -> anyhow::Result<Vec<Hop>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // A line that is not a hop (or was cut short by a crash) is skipped.
    Ok(text
        .lines()
        .filter(|line| line.contains(request_id))
        .filter_map(|line| serde_json::from_str::<Hop>(line).ok())
        .filter(|hop| hop.request_id == request_id)
        .collect())
}

/// Prints the hops of `request_id` found in `dirs`.
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
    let first = hops[0].started_micros();
    println!("request {request_id}: {} hops", hops.len());
    println!(
        "{:>9}  {:>9}  {:<18} {:<46} {:>6}",
        "start ms", "took ms", "process", "hop", "status"
    );
    for hop in &hops {
        let what = match (&hop.hop[..], &hop.peer) {
            ("called", Some(peer)) => format!("  → {peer}: {} {}", hop.method, hop.route),
            _ => format!("{} {}", hop.method, hop.route),
        };
        println!(
            "{:>9.3}  {:>9.3}  {:<18} {:<46} {:>6}",
            (hop.started_micros() - first) as f64 / 1000.0,
            hop.micros as f64 / 1000.0,
            hop.process,
            what,
            if hop.status == 0 {
                "none".to_owned()
            } else {
                hop.status.to_string()
            },
        );
    }
    Ok(())
}
