//! Starting a service: its flags, its own database, its HTTP server. Every
//! service crate's `build` is [`build`] plus its routes, and every service's
//! `main` ends in [`run`] and [`exit_on_error`].

use std::time::Duration;

use actix_web::web;
use anyhow::Context;
use shoplab_common::components::Component;
use shoplab_common::db::{self, DatabaseUrl};
use shoplab_common::error::one_line;
use shoplab_http::routes::{self, Routes};
use shoplab_http::server::Application;
use shoplab_http::SettingsArgs;

use crate::balance::HealthArgs;
use crate::guard::GuardArgs;
use crate::hop_delay::HopDelay;

/// The flags every service takes.
#[derive(clap::Args, Debug, Clone)]
pub struct ServiceArgs {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub addr: String,
    /// This service's own database: sqlite://PATH or postgres://USER@HOST/DB.
    /// Default: an SQLite file named for the service under ./data/.
    #[arg(long, value_parser = DatabaseUrl::parse)]
    pub database_url: Option<DatabaseUrl>,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

/// The most a peer gets to answer one call unless `--call-timeout-ms` says
/// otherwise: a fifth of a request's default deadline (5 s), so a peer that
/// does not answer is given up on, and its circuit opened (`guard.rs`), long
/// before the caller's own caller gives up. Within a request, a call gets no
/// more than what is left of the request's deadline either.
pub const DEFAULT_CALL_TIMEOUT_MS: u64 = 1000;

/// The flags of a service that calls other services.
#[derive(clap::Args, Debug, Clone)]
pub struct CallArgs {
    /// The most one call to another service may take before it counts as
    /// `timeout`, whatever is left of the request's deadline (connecting
    /// gets a shorter limit of its own).
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_CALL_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub call_timeout_ms: u64,
    #[command(flatten)]
    pub guard: GuardArgs,
    #[command(flatten)]
    pub hop_delay: HopDelay,
    #[command(flatten)]
    pub health: HealthArgs,
}

impl Default for CallArgs {
    /// The flags' defaults.
    fn default() -> Self {
        Self {
            call_timeout_ms: DEFAULT_CALL_TIMEOUT_MS,
            guard: GuardArgs::default(),
            hop_delay: HopDelay::NONE,
            health: HealthArgs::default(),
        }
    }
}

impl CallArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }
}

/// Opens the service's own database (only `component`'s tables), then binds
/// its address to `/health` and the routes `configure` adds (each on that
/// database; app-wide data goes through [`Routes::app_data`]), under the fault
/// plan and request budget its flags name. Nothing serves until the
/// application runs.
///
/// Call it outside an async runtime, or on a blocking thread
/// (`tokio::task::spawn_blocking`): opening the database blocks, as diesel
/// does. The service crates' own `build`s say the same, for the same reason.
pub fn build<F>(
    component: Component,
    args: ServiceArgs,
    configure: F,
) -> anyhow::Result<Application>
where
    F: Fn(&mut Routes<'_>) + Clone + Send + 'static,
{
    build_with_pool(component, args, configure).map(|(application, _)| application)
}

/// [`build`], also handing back the pool of the service's database, for
/// work the service does outside its requests (the orders service's saga
/// recovery).
pub fn build_with_pool<F>(
    component: Component,
    args: ServiceArgs,
    configure: F,
) -> anyhow::Result<(Application, db::Pool)>
where
    F: Fn(&mut Routes<'_>) + Clone + Send + 'static,
{
    let name = format!("shoplab-{}", component.name());
    let url = args
        .database_url
        .unwrap_or_else(|| DatabaseUrl::sqlite_in("data".as_ref(), component.name()));
    let settings = args.settings.load(&name)?;
    let pool = db::open(&url, &[component])?;
    let (data, checked) = (web::Data::new(pool.clone()), pool.clone());
    let application = Application::bind(&name, &args.addr, move |app| {
        settings.register(app);
        routes::health::configure(app, vec![checked.clone()]);
        configure(&mut Routes::new(app, data.clone()));
    })?;
    Ok((application, pool))
}

/// Runs a service binary's application until the process is stopped: the
/// "listening on" line, then the server on a runtime of its own.
pub fn run(application: Application) -> anyhow::Result<()> {
    application.announce_and_run().context("the server stopped")
}

/// The shared tail of every service binary's `main`: one line on stderr and
/// exit code 1 on failure.
pub fn exit_on_error(name: &str, result: anyhow::Result<()>) {
    if let Err(error) = result {
        eprintln!("{name}: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}
