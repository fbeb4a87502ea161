//! The orders service. Same routes, same wire types and same idempotency
//! handling as the monolith (`monolith/src/orders.rs`); only `checkout`
//! differs, and the user check is an HTTP call to the users service.

mod checkout;

use actix_web::{web, HttpRequest, HttpResponse};
use shoplab_common::components::Component;
use shoplab_common::db::Pool;
use shoplab_common::domain::{OrderId, UserId};
use shoplab_common::http::server::Application;
use shoplab_common::http::wire::{OrderCounts, PlaceOrderBody};
use shoplab_common::http::{
    place_order, resource, run_blocking, with_conn, ApiError, ApiJson, RequestId,
};
use shoplab_common::orders::store;
use shoplab_service::internal::{OrdersAudit, AUDIT_PATH};
use shoplab_service::remote::{PeerClient, Peers};
use shoplab_service::{CallArgs, ServiceArgs};

/// The service's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-orders";

/// Opens the service's own database (orders and idempotency keys only),
/// builds its client to `peers` (users, catalog, payments), and binds its
/// address (port 0 picks a free port; [`Application::port`] says which).
/// The monolith's `build` (`monolith/src/lib.rs`) opens one database with
/// every table instead, and has no peers.
///
/// Call it outside an async runtime, or on a blocking thread
/// (`tokio::task::spawn_blocking`): opening the database blocks, and
/// reqwest's blocking client may not be built inside a runtime.
pub fn build(service: ServiceArgs, peers: Peers, calls: &CallArgs) -> anyhow::Result<Application> {
    let peers = web::Data::new(PeerClient::new(peers, calls)?);
    shoplab_service::build(Component::Orders, service, move |app| {
        app.app_data(peers.clone()).configure(configure);
    })
}

/// The orders routes and the internal audit; `build` adds `/health` and the
/// client to the other services.
fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/orders").route(web::post().to(place)))
        .service(resource("/orders/{id}").route(web::get().to(get)))
        .service(resource("/orders/{id}/cancel").route(web::post().to(cancel)))
        .service(resource("/users/{id}/orders").route(web::get().to(list_for_user)))
        .service(resource(AUDIT_PATH).route(web::get().to(audit)));
}

async fn place(
    request: HttpRequest,
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    request_id: RequestId,
    json: ApiJson<PlaceOrderBody>,
) -> Result<HttpResponse, ApiError> {
    let (orders, mut shop) = (pool.get_ref().clone(), peers.for_request(request_id));
    place_order::serve(&request, &pool, json, move |order| {
        checkout::place(&orders, &mut shop, order)
    })
    .await
}

async fn get(pool: web::Data<Pool>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(&id)?;
    let order = with_conn(&pool, move |conn| store::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(order))
}

async fn cancel(
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    request_id: RequestId,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(&id)?;
    let (pool, mut shop) = (pool.get_ref().clone(), peers.for_request(request_id));
    let order = run_blocking(move || checkout::cancel(&pool, &mut shop, id)).await?;
    Ok(HttpResponse::Ok().json(order))
}

async fn list_for_user(
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    request_id: RequestId,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse_segment(&id)?;
    let orders = peers
        .with_known_user(request_id, user, &pool, move |conn| {
            store::list_for_user(conn, user)
        })
        .await?;
    Ok(HttpResponse::Ok().json(orders))
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let counts = with_conn(&pool, store::count_by_status).await?;
    Ok(HttpResponse::Ok().json(OrdersAudit {
        orders: OrderCounts::from_map(&counts),
    }))
}
