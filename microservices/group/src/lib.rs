//! Any group of the shop's components as one process: the wiring of
//! `shoplab-group`. Read it beside the monolith's (`monolith/src/lib.rs`)
//! and the orders service's (`microservices/orders/src/lib.rs`):
//!
//! | | monolith | a group | a service |
//! |---|---|---|---|
//! | processes | one | one per group | one per component |
//! | databases | one, every table | one per component | one per component |
//! | an order | one transaction | a saga | a saga |
//! | a call inside the process | function call, same connection | function call, the callee's own database | — |
//! | a call to another process | — | HTTP | HTTP |
//!
//! A group mounts its components' very routes, each on its own database
//! (`Routes`), and reaches the others through one client
//! (`shoplab_service::client::PeerClient`): a member of its own group by a
//! function call ([`PeerClient::hosting`], `hosted.rs`), any other over HTTP. So the
//! modular monolith (all four in one group) has one process, four
//! databases, the saga, and no network; `--calls http` makes a group call
//! even its own members over loopback HTTP, which puts the network back
//! without adding a process.

mod audit;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use shoplab_common::components::Component;
use shoplab_common::db::{self, DatabaseUrl, Pool};
use shoplab_common::grouping::group_name;
use shoplab_http::routes::{self, Routes};
use shoplab_http::server::Application;
use shoplab_http::{internal_token, SettingsArgs};
use shoplab_orders::Tx;
use shoplab_service::balance::Replicas;
use shoplab_service::client::{PeerClient, Peers};
use shoplab_service::CallArgs;

/// The binary's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-group";

/// How a group reaches the components it hosts itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Calls {
    /// By a function call, on the callee's own database: no network.
    #[default]
    InProcess,
    /// Over loopback HTTP to its own port, as if each were a service: the
    /// network's cost, without another process.
    Http,
}

/// One group: what it hosts, where their databases are, and where the
/// components it does not host are.
pub struct Group {
    /// Its components, in the order of `Component::ALL`.
    pub components: Vec<Component>,
    /// Address to listen on (port 0 picks a free port).
    pub addr: String,
    /// Each hosted component's database (a component not named here gets
    /// an SQLite file named for it under ./data/).
    pub databases: Vec<(Component, DatabaseUrl)>,
    /// The components hosted by other processes, each with its replicas.
    pub peers: Peers,
    pub calls: Calls,
    pub call_args: CallArgs,
    pub settings: SettingsArgs,
    pub tx: Tx,
    /// How the saga's recovery loop is paced, when the group hosts orders.
    pub recovery: shoplab_orders::RecoveryArgs,
}

impl Group {
    /// Whether it hosts every component: the whole shop in one process, its
    /// port the public base URL, with no gateway in front.
    pub fn is_whole_shop(&self) -> bool {
        self.components.len() == Component::ALL.len()
    }

    /// Refuses a group that would call a component nobody hosts, or that
    /// is told where to find a component it hosts itself.
    pub fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.components.is_empty(),
            "a group hosts at least one component"
        );
        let named = [
            (Component::Users, self.peers.users.is_some()),
            (Component::Catalog, self.peers.catalog.is_some()),
            (Component::Payments, self.peers.payments.is_some()),
        ];
        for (peer, given) in named {
            let hosted = self.components.contains(&peer);
            anyhow::ensure!(
                !(hosted && given),
                "this group hosts {peer}: drop --{peer}-url"
            );
            let callers: Vec<_> = self
                .components
                .iter()
                .filter(|&&caller| calls(caller).contains(&peer))
                .map(|caller| caller.name())
                .collect();
            anyhow::ensure!(
                hosted || given || callers.is_empty(),
                "{} calls {peer}, which this group does not host: give --{peer}-url",
                callers.join(" and ")
            );
        }
        Ok(())
    }

    /// The process's name in its "listening on" line and its errors:
    /// `shoplab-group users+payments`.
    pub fn name(&self) -> String {
        format!("{NAME} {}", group_name(&self.components))
    }
}

/// The components `component` calls (API.md: orders uses users, catalog
/// and payments; a wallet route asks users whether its user exists).
fn calls(component: Component) -> &'static [Component] {
    match component {
        Component::Users | Component::Catalog => &[],
        Component::Payments => &[Component::Users],
        Component::Orders => &[Component::Users, Component::Catalog, Component::Payments],
    }
}

/// Opens each hosted component's database (only its tables), builds the
/// client to the other components, starts the saga recovery loop if it
/// hosts orders (and the saga is on), and binds its address (port 0 picks
/// a free port; [`Application::port`] says which). Nothing serves until
/// the application runs.
///
/// Call it outside an async runtime, or on a blocking thread: opening the
/// databases blocks.
pub fn build(group: Group) -> anyhow::Result<Application> {
    group.check()?;
    let name = group.name();
    let settings = group.settings.load(&name)?;
    if group.is_whole_shop() {
        // Its port is the public base URL: an internal path is an unknown
        // route there, as API.md says, whoever calls it without the token.
        if internal_token::current().is_none() {
            internal_token::install(&uuid::Uuid::new_v4().simple().to_string());
        }
        internal_token::hide_behind_public_face();
    }
    let mut pools: Vec<(Component, Pool)> = Vec::new();
    for &component in &group.components {
        let url = group
            .databases
            .iter()
            .find(|(named, _)| *named == component)
            .map(|(_, url)| url.clone())
            .unwrap_or_else(|| DatabaseUrl::sqlite_in("data".as_ref(), component.name()));
        let pool =
            db::open(&url, &[component]).with_context(|| format!("the {component} database"))?;
        pools.push((component, pool));
    }
    let listener = TcpListener::bind(&group.addr)
        .with_context(|| format!("cannot listen on {}", group.addr))?;
    let own_url = format!("http://{}", listener.local_addr()?);
    let whole_shop = group.is_whole_shop();
    let client = match group.calls {
        Calls::InProcess => PeerClient::new(group.peers, &group.call_args)?
            .hosting(pools.clone(), Arc::clone(&settings.faults)),
        Calls::Http => {
            let mut peers = group.peers;
            let own = |component: Component| {
                group
                    .components
                    .contains(&component)
                    .then(|| Replicas::one(component.name(), own_url.clone()))
            };
            peers.users = peers.users.or_else(|| own(Component::Users));
            peers.catalog = peers.catalog.or_else(|| own(Component::Catalog));
            peers.payments = peers.payments.or_else(|| own(Component::Payments));
            PeerClient::new(peers, &group.call_args)?
        }
    };
    if group.tx == Tx::Saga {
        if let Some((_, orders)) = pools.iter().find(|(c, _)| *c == Component::Orders) {
            shoplab_orders::start_recovery(
                orders.clone(),
                client.clone(),
                settings.clone(),
                group.recovery.every(),
            )?;
        }
    }
    let (client, tx) = (web::Data::new(client), web::Data::new(group.tx));
    let application = Application::listen(&name, listener, move |app| {
        settings.register(app);
        let databases = pools.iter().map(|(_, pool)| pool.clone()).collect();
        routes::health::configure(app, databases);
        app.app_data(client.clone()).app_data(tx.clone());
        for (component, pool) in &pools {
            let mut routes = Routes::new(app, web::Data::new(pool.clone()));
            match component {
                Component::Users => shoplab_users::configure(&mut routes),
                Component::Catalog => shoplab_catalog::configure(&mut routes),
                Component::Payments => shoplab_payments::configure(&mut routes),
                Component::Orders => shoplab_orders::configure(&mut routes),
            }
        }
        if whole_shop {
            audit::configure(app, audit::Databases::of(&pools));
        }
    })?;
    Ok(application)
}
