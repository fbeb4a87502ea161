//! Starting a service: its flags, its own database, its HTTP server. Every
//! service binary in `src/bin/` is this plus its routes.

use std::time::Duration;

use actix_web::{web, HttpServer};
use anyhow::Context;
use shoplab_common::components::Component;
use shoplab_common::db::{self, DatabaseUrl, Pool};
use shoplab_common::error::one_line;
use shoplab_common::http::routes;
use shoplab_common::http::server::{announce, shop_app, SERVER_KEEP_ALIVE};

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
}

/// The flags of a service that calls other services.
#[derive(clap::Args, Debug, Clone)]
pub struct CallArgs {
    /// How long a call to another service may take before it counts as
    /// `timeout` (connecting gets a shorter limit of its own).
    #[arg(long, default_value_t = 3000)]
    pub call_timeout_ms: u64,
}

impl CallArgs {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }
}

/// Runs a service until it is stopped: opens its database (only `component`'s
/// tables; before the async runtime starts, as diesel is blocking), then
/// serves `/health` and the routes `configure` adds.
pub fn serve<F>(component: Component, args: ServiceArgs, configure: F) -> anyhow::Result<()>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let name = format!("shoplab-{}", component.name());
    let url = args
        .database_url
        .unwrap_or_else(|| DatabaseUrl::sqlite_in("data".as_ref(), component.name()));
    let pool: Pool = db::open(&url, &[component])?;
    let pool = web::Data::new(pool);
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            let pool = pool.clone();
            let configure = configure.clone();
            shop_app(move |app| {
                app.app_data(pool).configure(routes::health::configure);
                configure(app);
            })
        })
        .keep_alive(SERVER_KEEP_ALIVE)
        .bind(&args.addr)
        .with_context(|| format!("cannot listen on {}", args.addr))?;
        announce(&name, &server.addrs());
        server.run().await.context("the server stopped")
    })
}

/// The shared tail of every service binary's `main`: one line on stderr and
/// exit code 1 on failure.
pub fn exit_on_error(name: &str, result: anyhow::Result<()>) {
    if let Err(error) = result {
        eprintln!("{name}: {}", one_line(&format!("{error:#}")));
        std::process::exit(1);
    }
}
