//! The payments service: the wallet routes of API.md (`wallets.rs`), and the
//! internal endpoints through which the orders service charges and refunds.
//!
//! Each internal write is its own transaction here (`common::local::Owned`,
//! under the process's fault plan: this handler is where a plan strikes
//! payments). In the monolith the same store functions run inside the
//! order's one transaction (`monolith/src/checkout.rs`).

mod wallets;

use actix_web::{web, HttpResponse};
use shoplab_common::components::{Component, Payments};
use shoplab_common::db::Pool;
use shoplab_common::domain::{Cents, OrderRef, StepKey, UserId};
use shoplab_common::local::drive;
use shoplab_common::payments::store;
use shoplab_http::routes::Routes;
use shoplab_http::server::Application;
use shoplab_http::RequestDeadline;
use shoplab_http::{resource, with_conn, ApiError, ApiJson, Faults};
use shoplab_service::client::{PeerClient, Peers};
use shoplab_service::internal::{audit_path, Charge, ChargedCents, OrderIdBody, PaymentsAudit};
use shoplab_service::{CallArgs, ServiceArgs};

/// The service's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-payments";

/// Opens the service's own database (wallets and payments only), builds its
/// client to `peers` (the users service), and binds its address (port 0
/// picks a free port; [`Application::port`] says which).
///
/// Call it outside an async runtime, or on a blocking thread
/// (`tokio::task::spawn_blocking`): opening the database blocks.
pub fn build(service: ServiceArgs, peers: Peers, calls: &CallArgs) -> anyhow::Result<Application> {
    let peers = web::Data::new(PeerClient::new(peers, calls)?);
    shoplab_service::build(Component::Payments, service, move |routes| {
        routes.app_data(peers.clone()).configure(configure);
    })
}

/// The wallet routes, the internal endpoints and the service's share of
/// `/audit`, on the payments database; `build` adds `/health` and the
/// client to the users component the wallet routes need. A group of
/// components (`microservices/group`) mounts them too, with its own client.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .configure(wallets::configure)
        .service(resource("/internal/charges").post(charge))
        .service(resource("/internal/charges/{step_key}").get(charged))
        .service(resource("/internal/charges/{step_key}/refund").post(refund))
        .service(resource(audit_path(Component::Payments)).get(audit));
}

async fn charge(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    json: ApiJson<Charge>,
) -> Result<HttpResponse, ApiError> {
    let order = OrderRef::parse(json.body.order_id, &json.body.step_key)?;
    let user = UserId::parse(json.body.user_id)?;
    let amount = Cents::parse(json.body.amount_cents)?;
    faults
        .call(&pool, deadline, move |payments| {
            drive(payments.charge(&order, user, amount))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn refund(
    pool: web::Data<Pool>,
    faults: Faults,
    RequestDeadline(deadline): RequestDeadline,
    key: web::Path<String>,
    json: ApiJson<OrderIdBody>,
) -> Result<HttpResponse, ApiError> {
    let order = OrderRef::parse(json.body.order_id, &key)?;
    faults
        .call(&pool, deadline, move |payments| {
            drive(payments.refund(&order))
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn charged(pool: web::Data<Pool>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = StepKey::parse(&key)?;
    let charged_cents = with_conn(&pool, move |conn| store::charged_cents(conn, &key)).await?;
    Ok(HttpResponse::Ok().json(ChargedCents { charged_cents }))
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let (wallet_cents, paid_cents) = with_conn(&pool, store::audit).await?;
    Ok(HttpResponse::Ok().json(PaymentsAudit {
        wallet_cents,
        paid_cents,
    }))
}
