//! The HTTP implementation of the component interfaces: each call is a
//! request to the service that owns the component. This is the other side of
//! `common/src/local.rs`; the orders code cannot tell them apart.
//!
//! One pooled blocking reqwest client serves every call of a process (the
//! component interfaces are synchronous, see `common/src/components.rs`, so
//! these calls run on the blocking thread pool). Each request waits the
//! process's `--hop-delay-us` before it is sent (`hop_delay.rs`), carries the
//! request's id and what is left of its deadline (`X-Deadline-Ms`), and
//! waits for its answer no longer than that. A peer that cannot be reached
//! is `service_unavailable`; one that does not answer in time is `timeout`;
//! one that answers with an error body is mapped back to the same domain
//! error an in-process call would have returned. No call ever hangs, and no
//! failure of a peer becomes a 500.

use std::sync::Arc;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use shoplab_common::components::{Catalog, Component, Payments, Users};
use shoplab_common::db::{DbConnection, Pool};
use shoplab_common::deadline::{Deadline, DEADLINE_HEADER};
use shoplab_common::domain::{
    Cents, Entity, OrderLine, OrderRef, Product, ProductId, User, UserId,
};
use shoplab_common::http::error::{shop_error_from_body, ErrorBody};
use shoplab_common::http::server::CLIENT_IDLE;
use shoplab_common::http::wire::OrderItemBody;
use shoplab_common::http::{hop_log, internal_token, run_blocking, RequestId, REQUEST_ID_HEADER};
use shoplab_common::metrics::Measured;
use shoplab_common::ShopError;

use crate::hop_delay::HopDelay;
use crate::internal::{Charge, OrderIdBody, ProductIds, Reserve};
use crate::startup::CallArgs;

/// Connecting to a peer on loopback takes microseconds; a second means it is
/// not there.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A request that got no answer: `Timeout` if the peer was too slow,
/// `Unreachable` if it could not be reached at all (the request was never
/// delivered), `Unconfirmed` if the connection broke after it was sent.
/// Shared with the gateway, so both say the same of the same failure.
pub fn transport_error(
    component: Component,
    timeout: Duration,
    error: &reqwest::Error,
) -> ShopError {
    if error.is_timeout() {
        ShopError::Timeout(format!(
            "the {component} service did not answer within {} ms",
            timeout.as_millis()
        ))
    } else if error.is_connect() {
        ShopError::Unreachable(format!("the {component} service is unreachable: {error}"))
    } else {
        ShopError::Unconfirmed(format!(
            "the {component} service's answer was lost: {error}"
        ))
    }
}

/// Where the other services are.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    pub users: Option<String>,
    pub catalog: Option<String>,
    pub payments: Option<String>,
}

/// The process's one client to its peers.
#[derive(Clone)]
pub struct PeerClient {
    http: Client,
    peers: Arc<Peers>,
    timeout: Duration,
    hop_delay: HopDelay,
}

impl PeerClient {
    /// Build it outside an async runtime (in a service's `build`, before the
    /// server runs), or on a blocking thread: reqwest's blocking client runs
    /// a runtime of its own, which may not be started from inside another.
    pub fn new(peers: Peers, calls: &CallArgs) -> anyhow::Result<Self> {
        let timeout = calls.timeout();
        let http = Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .pool_max_idle_per_host(32)
            .pool_idle_timeout(CLIENT_IDLE)
            .build()?;
        Ok(Self {
            http,
            peers: Arc::new(peers),
            timeout,
            hop_delay: calls.hop_delay,
        })
    }

    /// The components as seen by one request: every call carries its id
    /// and what is left of its deadline.
    pub fn for_request(&self, request_id: RequestId, deadline: Deadline) -> Remote {
        Remote {
            client: self.clone(),
            request_id,
            deadline,
        }
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
        let mut users = Measured::new(self.for_request(request_id, deadline));
        let pool = pool.clone();
        run_blocking(move || {
            users.user(user)?;
            work(&mut *pool.get()?)
        })
        .await
    }
}

/// The users, catalog and payments components over HTTP, for one request.
pub struct Remote {
    client: PeerClient,
    request_id: RequestId,
    deadline: Deadline,
}

impl Remote {
    fn base(&self, component: Component) -> Result<&str, ShopError> {
        let peers = &self.client.peers;
        let url = match component {
            Component::Users => &peers.users,
            Component::Catalog => &peers.catalog,
            Component::Payments => &peers.payments,
            Component::Orders => &None, // nothing calls the orders service
        };
        url.as_deref().ok_or_else(|| {
            ShopError::ServiceUnavailable(format!("no --{component}-url was given to this service"))
        })
    }

    fn get(&self, component: Component, path: &str) -> Result<RequestBuilder, ShopError> {
        Ok(self
            .client
            .http
            .get(format!("{}{path}", self.base(component)?)))
    }

    fn post(
        &self,
        component: Component,
        path: &str,
        body: &impl Serialize,
    ) -> Result<RequestBuilder, ShopError> {
        Ok(self
            .client
            .http
            .post(format!("{}{path}", self.base(component)?))
            .json(body))
    }

    /// Sends one request and reads its answer: `Ok(None)` for 404 (only the
    /// caller knows what was not found), the body for a success, the mapped
    /// domain error otherwise. Every call of every component goes through
    /// here, so this is where the hop delay is taken; no caller holds a
    /// database transaction (or a pooled connection) across a call.
    fn send(
        &self,
        component: Component,
        request: RequestBuilder,
    ) -> Result<Option<reqwest::blocking::Response>, ShopError> {
        self.client.hop_delay.wait_blocking();
        self.deadline
            .check(&format!("the call to the {component} service"))?;
        let timeout = self.deadline.remaining().min(self.client.timeout);
        let mut request = request
            .header(REQUEST_ID_HEADER, self.request_id.as_str())
            .header(DEADLINE_HEADER, self.deadline.header_value())
            .timeout(timeout);
        if let Some(token) = internal_token::current() {
            request = request.header(internal_token::HEADER, token);
        }
        let request = request
            .build()
            .map_err(|error| ShopError::internal("building a request", error))?;
        let call = hop_log::Call::start(
            self.request_id.as_str(),
            request.method().as_str(),
            request.url().path(),
        );
        let sent = self.client.http.execute(request);
        if let Some(call) = call {
            let status = sent
                .as_ref()
                .map_or(0, |response| response.status().as_u16());
            call.answered(component.name(), status);
        }
        let response = sent.map_err(|error| transport_error(component, timeout, &error))?;
        let status = response.status();
        if status.is_success() {
            return Ok(Some(response));
        }
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body: ErrorBody = response.json().map_err(|error| {
            ShopError::ServiceUnavailable(format!(
                "the {component} service answered {status} without an error body: {error}"
            ))
        })?;
        Err(shop_error_from_body(status.as_u16(), &body))
    }

    fn read<T: DeserializeOwned>(
        component: Component,
        response: reqwest::blocking::Response,
    ) -> Result<T, ShopError> {
        response.json().map_err(|error| {
            ShopError::Unconfirmed(format!(
                "the {component} service sent an unreadable answer: {error}"
            ))
        })
    }

    /// For calls that answer 204 on success and have no "not found" case.
    fn expect_done(&self, component: Component, request: RequestBuilder) -> Result<(), ShopError> {
        match self.send(component, request)? {
            Some(_) => Ok(()),
            None => Err(ShopError::ServiceUnavailable(format!(
                "the {component} service does not serve this call (404)"
            ))),
        }
    }
}

impl Users for Remote {
    fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        let request = self.get(Component::Users, &format!("/users/{id}"))?;
        match self.send(Component::Users, request)? {
            Some(response) => Self::read(Component::Users, response),
            None => Err(ShopError::NotFound(Entity::User(id))),
        }
    }
}

impl Catalog for Remote {
    fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        let body = ProductIds {
            ids: ids.iter().map(|id| id.get()).collect(),
        };
        let request = self.post(Component::Catalog, "/internal/products/lookup", &body)?;
        let Some(response) = self.send(Component::Catalog, request)? else {
            return Err(ShopError::ServiceUnavailable(
                "the catalog service has no product lookup".into(),
            ));
        };
        let found: Vec<Product> = Self::read(Component::Catalog, response)?;
        shoplab_common::catalog::store::in_order_of(ids, found)
    }

    fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
        let body = Reserve {
            order_id: order.id.get(),
            step_key: order.key.to_string(),
            items: lines
                .iter()
                .map(|line| OrderItemBody {
                    product_id: line.product_id.get(),
                    quantity: line.quantity.get(),
                })
                .collect(),
        };
        let request = self.post(Component::Catalog, "/internal/reservations", &body)?;
        self.expect_done(Component::Catalog, request)
    }

    fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        let path = format!("/internal/reservations/{}/release", order.key);
        let body = OrderIdBody {
            order_id: order.id.get(),
        };
        let request = self.post(Component::Catalog, &path, &body)?;
        self.expect_done(Component::Catalog, request)
    }
}

impl Payments for Remote {
    fn charge(&mut self, order: &OrderRef, user: UserId, amount: Cents) -> Result<(), ShopError> {
        let body = Charge {
            order_id: order.id.get(),
            step_key: order.key.to_string(),
            user_id: user.get(),
            amount_cents: amount.get(),
        };
        let request = self.post(Component::Payments, "/internal/charges", &body)?;
        self.expect_done(Component::Payments, request)
    }

    fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        let path = format!("/internal/charges/{}/refund", order.key);
        let body = OrderIdBody {
            order_id: order.id.get(),
        };
        let request = self.post(Component::Payments, &path, &body)?;
        self.expect_done(Component::Payments, request)
    }
}
