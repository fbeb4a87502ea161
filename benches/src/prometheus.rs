//! What Prometheus needs to scrape a running deployment: its targets (every
//! process's `/metrics` endpoint, `--metrics-addr`) and a scrape
//! configuration naming them, one job per deployment and a `process` label
//! per target. `shoplab up --prometheus-config FILE` writes it; then
//! `prometheus --config.file=FILE` scrapes the shop. docs/METRICS.md lists
//! what each process reports and the queries that compare the deployments.
//!
//! The file is a small fixed shape, so it is written here with `format!`
//! rather than through a YAML library; every string in it is quoted as JSON,
//! which YAML reads as the same string.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::deployment::Deployment;

/// How often Prometheus scrapes each process: every second, so that a
/// rate over a few seconds already has several points in a short run.
pub const SCRAPE_EVERY: Duration = Duration::from_secs(1);

/// One process to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The binary's name (`shoplab-catalog`): the target's `process` label.
    pub process: String,
    /// `HOST:PORT` of its metrics endpoint.
    pub address: String,
}

impl Target {
    /// The URL a person (or a test) can open.
    pub fn url(&self) -> String {
        format!("http://{}/metrics", self.address)
    }
}

/// Every process of `deployment` that has a metrics endpoint (all of them,
/// when it was started with `Options::metrics`).
pub fn targets(deployment: &Deployment) -> Vec<Target> {
    deployment
        .members()
        .into_iter()
        .filter_map(|member| {
            let url = member.metrics_url?;
            Some(Target {
                process: member.name,
                address: url.trim_start_matches("http://").to_owned(),
            })
        })
        .collect()
}

/// A scrape configuration with one job per `(job name, targets)`.
pub fn scrape_config(jobs: &[(String, Vec<Target>)]) -> String {
    let every = format!("{}s", SCRAPE_EVERY.as_secs());
    let mut text = format!(
        "# Prometheus scrape configuration for shoplab, written by `shoplab up`\n\
         # (benches/src/prometheus.rs). Run: prometheus --config.file=THIS_FILE\n\
         global:\n  scrape_interval: {every}\n  scrape_timeout: {every}\n  \
         evaluation_interval: {every}\nscrape_configs:\n"
    );
    for (job, targets) in jobs {
        text.push_str(&format!(
            "  - job_name: {}\n    metrics_path: /metrics\n    static_configs:\n",
            quoted(job)
        ));
        for target in targets {
            text.push_str(&format!(
                "      - targets: [{}]\n        labels:\n          process: {}\n",
                quoted(&target.address),
                quoted(&target.process)
            ));
        }
    }
    text
}

/// Writes [`scrape_config`] for one deployment, its job named after its
/// kind (`monolith`, `microservices`).
pub fn write_config(path: &Path, deployment: &Deployment) -> anyhow::Result<()> {
    let config = scrape_config(&[(deployment.kind.label(), targets(deployment))]);
    std::fs::write(path, config).with_context(|| {
        format!(
            "cannot write the Prometheus configuration {}",
            path.display()
        )
    })
}

/// A string as YAML reads it back unchanged: a JSON string literal.
fn quoted(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_per_deployment_and_a_process_label_per_target() {
        let target = |process: &str, port: u16| Target {
            process: process.to_owned(),
            address: format!("127.0.0.1:{port}"),
        };
        let config = scrape_config(&[
            ("monolith".into(), vec![target("shoplab-monolith", 9001)]),
            (
                "microservices".into(),
                vec![
                    target("shoplab-users", 9002),
                    target("shoplab-gateway", 9003),
                ],
            ),
        ]);
        let expected = "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  \
            evaluation_interval: 1s\nscrape_configs:\n  \
            - job_name: \"monolith\"\n    metrics_path: /metrics\n    static_configs:\n      \
            - targets: [\"127.0.0.1:9001\"]\n        labels:\n          process: \"shoplab-monolith\"\n  \
            - job_name: \"microservices\"\n    metrics_path: /metrics\n    static_configs:\n      \
            - targets: [\"127.0.0.1:9002\"]\n        labels:\n          process: \"shoplab-users\"\n      \
            - targets: [\"127.0.0.1:9003\"]\n        labels:\n          process: \"shoplab-gateway\"\n";
        assert!(config.ends_with(expected), "{config}");
    }
}
