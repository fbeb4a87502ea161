//! The flags every binary shares for how it behaves under trouble and in
//! operation: its fault plan, its request budget, its hop log, the internal
//! token and how it drains. Each binary flattens [`Settings`] into
//! its own flags and registers what they say as app data ([`Settings::register`]),
//! where the [`Faults`](super::Faults) and [`Deadline`](shoplab_common::deadline::Deadline)
//! extractors find it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use super::Budget;
use shoplab_common::deadline::DEFAULT_BUDGET;
use shoplab_common::faults::FaultPlan;

/// `--fault-plan`, `--deadline-ms`, `--log-file`, `--internal-token`,
/// `--drain-notice-ms`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct SettingsArgs {
    /// A fault plan (TOML) that makes the components' operations fail, slow
    /// down, hang or crash this process: see docs/FAULTS.md.
    #[arg(long, value_name = "FILE")]
    pub fault_plan: Option<PathBuf>,
    /// How long one request may take, in milliseconds, all hops included:
    /// every call and wait inside it gets what is left (default 5000).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub deadline_ms: Option<u64>,
    /// Write a hop log to FILE: one JSON line per request served, per call
    /// to another process and per component call, each with its
    /// X-Request-Id and the hop it happened in (`shoplab trace` draws them
    /// as a tree). SIGUSR2 pauses it, SIGUSR1 resumes it. Off by default.
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// The deployment's internal token: sent with every call to another
    /// process, and required on this process's /internal/... endpoints (401
    /// `unauthorized` without it). Without one, they are open to anyone who
    /// can reach the port.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SHOPLAB_INTERNAL_TOKEN",
        hide_env_values = true
    )]
    pub internal_token: Option<String>,
    /// On SIGTERM, keep serving this long while /health answers 503
    /// (draining), so that a load balancer stops sending requests here
    /// before this process stops accepting them. Default 0: with nothing in
    /// front of the process there is no one to warn.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 0,
        env = "SHOPLAB_DRAIN_NOTICE_MS",
        value_parser = clap::value_parser!(u64).range(0..=600_000)
    )]
    pub drain_notice_ms: u64,
    /// Serve Prometheus metrics at http://ADDR/metrics, an operator's
    /// address apart from the public one (port 0 picks a free port, printed
    /// at start). Off by default: see docs/METRICS.md.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
}

/// What the flags say, loaded.
#[derive(Debug, Clone)]
pub struct Settings {
    pub faults: Arc<FaultPlan>,
    pub budget: Budget,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            faults: Arc::new(FaultPlan::none()),
            budget: Budget(DEFAULT_BUDGET),
        }
    }
}

impl SettingsArgs {
    /// Installs the process's logging (`logging.rs`), reads the fault plan
    /// (the error is one line naming the file) and, with
    /// `--log-file`, starts the hop log of the process named `process`; with
    /// `--metrics-addr`, turns metrics on (before the database opens, so its
    /// pool is measured too; the address is bound with the server's).
    pub fn load(&self, process: &str) -> anyhow::Result<Settings> {
        super::logging::install();
        super::drain::set_notice(Duration::from_millis(self.drain_notice_ms));
        if let Some(token) = &self.internal_token {
            anyhow::ensure!(!token.is_empty(), "--internal-token must not be empty");
            super::internal_token::install(token);
        }
        if let Some(addr) = &self.metrics_addr {
            super::metrics::install(addr)?;
        }
        if let Some(path) = &self.log_file {
            super::hop_log::install(process, path).map_err(|error| {
                anyhow::anyhow!("cannot write the hop log {}: {error}", path.display())
            })?;
        }
        let faults =
            FaultPlan::from_flag(self.fault_plan.as_deref()).map_err(anyhow::Error::msg)?;
        let budget = Budget(
            self.deadline_ms
                .map_or(DEFAULT_BUDGET, Duration::from_millis),
        );
        Ok(Settings { faults, budget })
    }
}

impl Settings {
    /// Registers the plan and the budget as app data.
    pub fn register(&self, config: &mut web::ServiceConfig) {
        config
            .app_data(web::Data::from(self.faults.clone()))
            .app_data(web::Data::new(self.budget));
    }
}
