//! The HTTP implementation of the component interfaces: each call is a
//! request to the service that owns the component. This is the other side of
//! `common/src/local.rs`; the orders code cannot tell them apart.
//!
//! One pooled async reqwest client serves every call of a process, its
//! connections kept alive between calls. A call is a future awaited on the
//! process's runtime (`common/src/components.rs`): no thread is held while
//! it is in flight. Each request waits the
//! process's `--hop-delay-us` before it is sent (`hop_delay.rs`), carries the
//! request's id and what is left of its deadline (`X-Deadline-Ms`), and
//! waits for its answer no longer than that. A peer that cannot be reached
//! is `service_unavailable`; one that does not answer in time is `timeout`;
//! one that answers with an error body is mapped back to the same domain
//! error an in-process call would have returned. No call ever hangs, and no
//! failure of a peer becomes a 500.
//!
//! A peer may run as several replicas (`--catalog-url A,B,C`): each call
//! goes to one of them (`balance.rs`), and a call whose connection is
//! refused goes to the next one, which is safe whatever the call, since the
//! refusing replica never saw it.
//!
//! Every call to a peer passes its guard first (`guard.rs`): a bulkhead of
//! calls in flight and a circuit breaker, so a peer that hangs costs a
//! bounded number of calls, each within `--call-timeout-ms`, and then
//! calls that fail at once.
//!
//! The process's one client to its peers, which makes a `Remote` for each
//! request, is in `client.rs`. A process that hosts several components
//! (`microservices/group`) calls the ones it hosts in process instead: that
//! choice is `hosted.rs`'s (`Components`), not this file's.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use shoplab_common::components::{Catalog, Component, Payments, Users};
use shoplab_common::deadline::{Deadline, DEADLINE_HEADER};
use shoplab_common::domain::{
    Cents, Entity, OrderLine, OrderRef, Product, ProductId, User, UserId,
};
use shoplab_common::ShopError;
use shoplab_http::error::{shop_error_from_body, ErrorBody};
use shoplab_http::wire::OrderItemBody;
use shoplab_http::{hop_log, internal_token, RequestId, REQUEST_ID_HEADER};

use crate::balance::{Picked, Replicas};
use crate::client::PeerClient;
use crate::failure::{token_refused, transport_error};
use crate::internal::{Charge, OrderIdBody, ProductIds, Reserve};

/// The users, catalog and payments components over HTTP, for one request.
pub struct Remote {
    client: PeerClient,
    request_id: RequestId,
    deadline: Deadline,
}

/// One call: its method, its path, and its JSON body, if any.
struct Call<'a> {
    method: Method,
    path: &'a str,
    body: Option<Vec<u8>>,
}

impl<'a> Call<'a> {
    fn get(path: &'a str) -> Self {
        Self {
            method: Method::GET,
            path,
            body: None,
        }
    }

    fn post(path: &'a str, body: &impl Serialize) -> Result<Self, ShopError> {
        let body = serde_json::to_vec(body)
            .map_err(|error| ShopError::internal("encoding a request", error))?;
        Ok(Self {
            method: Method::POST,
            path,
            body: Some(body),
        })
    }
}

impl Remote {
    pub(crate) fn new(client: PeerClient, request_id: RequestId, deadline: Deadline) -> Self {
        Self {
            client,
            request_id,
            deadline,
        }
    }

    /// Sends one call and reads its answer: `Ok(None)` for 404 (only the
    /// caller knows what was not found), the body for a success, the mapped
    /// domain error otherwise. Every call of every component goes through
    /// here, so this is where the peer's guard admits it (or refuses it,
    /// unsent) and hears how it went, and where the hop delay is taken; no
    /// caller holds a database transaction (or a pooled connection) across
    /// a call.
    async fn send(
        &self,
        component: Component,
        call: Call<'_>,
    ) -> Result<Option<reqwest::Response>, ShopError> {
        let peer = self.client.peer(component)?;
        let admitted = peer.guard.admit()?;
        let delivered = self.deliver(component, &peer.replicas, &call).await?;
        admitted.record(&delivered);
        let response = delivered?;
        let status = response.status();
        if status.is_success() {
            return Ok(Some(response));
        }
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(token_refused(component.name()));
        }
        let body: ErrorBody = response.json().await.map_err(|error| {
            ShopError::ServiceUnavailable(format!(
                "the {component} service answered {status} without an error body: {error}"
            ))
        })?;
        Err(shop_error_from_body(status.as_u16(), &body))
    }

    /// Gets the call to a replica and its answer back. A replica that
    /// refuses the connection never saw the call, so it is sent to the next
    /// replica, if there is one and time is left. The outer error is ours
    /// (no time left); the inner one says the peer could not be reached or
    /// did not answer.
    async fn deliver(
        &self,
        component: Component,
        replicas: &Replicas,
        call: &Call<'_>,
    ) -> Result<Result<reqwest::Response, ShopError>, ShopError> {
        let mut tried = Vec::new();
        loop {
            let Some(replica) = replicas.pick(&tried) else {
                return Ok(Err(ShopError::Unreachable(format!(
                    "no replica of the {component} service can be reached"
                ))));
            };
            let timeout = self.deadline.remaining().min(self.client.timeout);
            match self.send_to(component, &replica, call).await? {
                Ok(response) => return Ok(Ok(response)),
                Err(refused) if refused.is_connect() && !self.deadline.remaining().is_zero() => {
                    replica.refused();
                    tried.push(replica.index());
                    if tried.len() == replicas.len() {
                        return Ok(Err(transport_error(component.name(), timeout, &refused)));
                    }
                }
                Err(error) => return Ok(Err(transport_error(component.name(), timeout, &error))),
            }
        }
    }

    /// One attempt of a call, at one replica: after the hop delay, with the
    /// request's id, what is left of its deadline and the internal token.
    /// The outer error is ours (no time left, a request we cannot build);
    /// the inner one is the transport's, for the caller to judge.
    async fn send_to(
        &self,
        component: Component,
        replica: &Picked,
        call: &Call<'_>,
    ) -> Result<Result<reqwest::Response, reqwest::Error>, ShopError> {
        self.client.hop_delay.wait().await;
        self.deadline
            .check(&format!("the call to the {component} service"))?;
        let timeout = self.deadline.remaining().min(self.client.timeout);
        let url = format!("{}{}", replica.url(), call.path);
        let mut request = self
            .client
            .http
            .request(call.method.clone(), url)
            .header(REQUEST_ID_HEADER, self.request_id.as_str())
            .header(DEADLINE_HEADER, self.deadline.header_value())
            .timeout(timeout);
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(token) = internal_token::current() {
            request = request.header(internal_token::HEADER, token);
        }
        let hop = hop_log::Call::start(
            self.request_id.as_str(),
            call.method.as_str(),
            call.path,
            || format!("{component} {}", replica.url()),
        );
        if let Some(hop) = &hop {
            let (name, value) = hop.header();
            request = request.header(name, value);
        }
        let request = request
            .build()
            .map_err(|error| ShopError::internal("building a request", error))?;
        let sent = self.client.http.execute(request).await;
        if let Some(hop) = hop {
            let status = sent
                .as_ref()
                .map_or(0, |response| response.status().as_u16());
            hop.answered(status);
        }
        Ok(sent)
    }

    async fn read<T: DeserializeOwned>(
        component: Component,
        response: reqwest::Response,
    ) -> Result<T, ShopError> {
        response.json().await.map_err(|error| {
            ShopError::Unconfirmed(format!(
                "the {component} service sent an unreadable answer: {error}"
            ))
        })
    }

    /// For calls that answer 204 on success and have no "not found" case.
    async fn expect_done(&self, component: Component, call: Call<'_>) -> Result<(), ShopError> {
        match self.send(component, call).await? {
            Some(_) => Ok(()),
            None => Err(ShopError::ServiceUnavailable(format!(
                "the {component} service does not serve this call (404)"
            ))),
        }
    }
}

impl Users for Remote {
    async fn user(&mut self, id: UserId) -> Result<User, ShopError> {
        let path = format!("/users/{id}");
        match self.send(Component::Users, Call::get(&path)).await? {
            Some(response) => Self::read(Component::Users, response).await,
            None => Err(ShopError::NotFound(Entity::User(id))),
        }
    }
}

impl Catalog for Remote {
    async fn products(&mut self, ids: &[ProductId]) -> Result<Vec<Product>, ShopError> {
        let body = ProductIds {
            ids: ids.iter().map(|id| id.get()).collect(),
        };
        let call = Call::post("/internal/products/lookup", &body)?;
        let Some(response) = self.send(Component::Catalog, call).await? else {
            return Err(ShopError::ServiceUnavailable(
                "the catalog service has no product lookup".into(),
            ));
        };
        let found: Vec<Product> = Self::read(Component::Catalog, response).await?;
        shoplab_common::catalog::store::in_order_of(ids, found)
    }

    async fn reserve(&mut self, order: &OrderRef, lines: &[OrderLine]) -> Result<(), ShopError> {
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
        let call = Call::post("/internal/reservations", &body)?;
        self.expect_done(Component::Catalog, call).await
    }

    async fn release(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        let path = format!("/internal/reservations/{}/release", order.key);
        let body = OrderIdBody {
            order_id: order.id.get(),
        };
        self.expect_done(Component::Catalog, Call::post(&path, &body)?)
            .await
    }
}

impl Payments for Remote {
    async fn charge(
        &mut self,
        order: &OrderRef,
        user: UserId,
        amount: Cents,
    ) -> Result<(), ShopError> {
        let body = Charge {
            order_id: order.id.get(),
            step_key: order.key.to_string(),
            user_id: user.get(),
            amount_cents: amount.get(),
        };
        let call = Call::post("/internal/charges", &body)?;
        self.expect_done(Component::Payments, call).await
    }

    async fn refund(&mut self, order: &OrderRef) -> Result<(), ShopError> {
        let path = format!("/internal/charges/{}/refund", order.key);
        let body = OrderIdBody {
            order_id: order.id.get(),
        };
        self.expect_done(Component::Payments, Call::post(&path, &body)?)
            .await
    }
}
