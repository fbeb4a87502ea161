//! The process's one client to its peers: where each peer's replicas are,
//! the guard in front of each, and the one pooled async reqwest client every
//! call goes through (its connections kept alive between calls). Each
//! request gets its own view of it: [`PeerClient::for_request`] (the peers
//! over HTTP, `remote.rs`) or [`PeerClient::components`] (the components this
//! process hosts in process, the rest over HTTP, `hosted.rs`).

use std::sync::Arc;
use std::time::Duration;

use reqwest::Client;
use shoplab_common::components::{Component, Users};
use shoplab_common::db::{DbConnection, Pool};
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::UserId;
use shoplab_common::faults::FaultPlan;
use shoplab_common::ShopError;
use shoplab_http::server::CLIENT_IDLE;
use shoplab_http::{with_conn, Measured, RequestId};

use crate::balance::Replicas;
use crate::guard::Guard;
use crate::hop_delay::HopDelay;
use crate::hosted::{Components, Hosted};
use crate::remote::Remote;
use crate::startup::CallArgs;

/// Connecting to a peer on loopback takes microseconds; a second means it is
/// not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the other services are: each one's replicas (often just one).
#[derive(Debug, Clone, Default)]
pub struct Peers {
    pub users: Option<Replicas>,
    pub catalog: Option<Replicas>,
    pub payments: Option<Replicas>,
}

/// A peer as the client reaches it: its replicas, and its guard.
pub(crate) struct Peer {
    pub(crate) replicas: Replicas,
    pub(crate) guard: Guard,
}

/// The process's one client to its peers.
#[derive(Clone)]
pub struct PeerClient {
    pub(crate) http: Client,
    peers: Arc<[(Component, Peer)]>,
    /// The components this process hosts, called in process.
    hosted: Hosted,
    pub(crate) timeout: Duration,
    pub(crate) hop_delay: HopDelay,
}

impl PeerClient {
    /// The client, a guard for each peer, and the health checks of every
    /// peer that has several replicas.
    pub fn new(peers: Peers, calls: &CallArgs) -> anyhow::Result<Self> {
        let timeout = calls.timeout();
        // No service answers a component call with a redirect; one would be
        // a fault to report, not a place to go.
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .pool_max_idle_per_host(32)
            .pool_idle_timeout(CLIENT_IDLE)
            .build()?;
        let known = [
            (Component::Users, peers.users),
            (Component::Catalog, peers.catalog),
            (Component::Payments, peers.payments),
        ];
        let peers: Arc<[(Component, Peer)]> = known
            .into_iter()
            .filter_map(|(component, replicas)| {
                let replicas = replicas?;
                replicas.watch(calls.health.interval());
                let guard = Guard::new(replicas.service(), calls.guard, timeout);
                Some((component, Peer { replicas, guard }))
            })
            .collect();
        Ok(Self {
            http,
            peers,
            hosted: Hosted::none(),
            timeout,
            hop_delay: calls.hop_delay,
        })
    }

    /// The same client, calling the components in `hosted` (each with its
    /// own database) in process, under `plan`: how a group of components
    /// reaches the members of its own group. The others it still reaches
    /// over HTTP.
    pub fn hosting(mut self, hosted: Vec<(Component, Pool)>, plan: Arc<FaultPlan>) -> Self {
        self.hosted = Hosted::new(hosted, plan);
        self
    }

    /// Whether the circuit to `component`'s service is open now (`false`
    /// for a peer this client does not call).
    pub fn circuit_open(&self, component: Component) -> bool {
        self.peer(component).is_ok_and(|peer| peer.guard.is_open())
    }

    pub(crate) fn peer(&self, component: Component) -> Result<&Peer, ShopError> {
        self.peers
            .iter()
            .find(|(known, _)| *known == component)
            .map(|(_, peer)| peer)
            .ok_or_else(|| {
                ShopError::ServiceUnavailable(format!(
                    "no --{component}-url was given to this service"
                ))
            })
    }

    /// The peers over HTTP as seen by one request: every call carries its
    /// id and what is left of its deadline.
    pub fn for_request(&self, request_id: RequestId, deadline: Deadline) -> Remote {
        Remote::new(self.clone(), request_id, deadline)
    }

    /// The other components as one request reaches them: those this process
    /// hosts in process, the rest over HTTP (`hosted.rs`). What the orders
    /// component calls, alone in its service or in a group.
    pub fn components(&self, request_id: RequestId, deadline: Deadline) -> Components {
        Components::new(
            self.hosted.clone(),
            self.for_request(request_id, deadline),
            deadline,
        )
    }

    /// Runs `work` on this service's own database once the users service has
    /// said `user` exists (`not_found` otherwise): how a service that owns no
    /// users table answers "404 unknown user". The monolith asks its users
    /// component in process instead (`monolith/src/wallets.rs`).
    pub async fn with_known_user<T, F>(
        &self,
        request_id: RequestId,
        deadline: Deadline,
        user: UserId,
        pool: &Pool,
        work: F,
    ) -> Result<T, ShopError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ShopError> + Send + 'static,
        T: Send + 'static,
    {
        Measured::new(self.components(request_id, deadline))
            .user(user)
            .await?;
        with_conn(pool, work).await
    }
}
