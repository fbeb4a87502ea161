//! The orders service. Same routes, same wire types and same idempotency
//! handling as the monolith (`monolith/src/orders.rs`); only the way an
//! order is held together differs: a saga (`checkout.rs`) whose unfinished runs
//! a recovery loop in this process finishes, at start-up and every second.
//! The user check is an HTTP call to the users service.

mod cancel;
pub mod checkout;
mod naive;
pub mod recovery;

use std::time::Duration;

use actix_web::{web, HttpRequest, HttpResponse};
use shoplab_common::components::Component;
use shoplab_common::db::Pool;
use shoplab_common::deadline::Deadline;
use shoplab_common::domain::{OrderId, UserId};
use shoplab_common::orders::{saga as record, store};
use shoplab_http::routes::{orders, Routes};
use shoplab_http::server::Application;
use shoplab_http::wire::{OrderCounts, PlaceOrderBody};
use shoplab_http::Measured;
use shoplab_http::RequestDeadline;
use shoplab_http::{place_order, resource, with_conn, ApiError, ApiJson, Faults, RequestId};
use shoplab_service::client::{PeerClient, Peers};
use shoplab_service::hosted::Components;
use shoplab_service::internal::{audit_path, OrderSteps, OrdersAudit};
use shoplab_service::{CallArgs, ServiceArgs};

use checkout::SagaRunner;
pub use checkout::Tx;
use naive::Naive;
pub use recovery::start_recovery;

/// The service's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-orders";

/// How often the recovery loop looks for sagas whose runner is gone,
/// unless `--recovery-every-ms` says otherwise.
const RECOVERY_EVERY_MS: u64 = 1000;

/// `--recovery-every-ms`: how the saga's recovery loop is paced.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct RecoveryArgs {
    /// How often, in milliseconds, the saga's recovery loop looks for sagas
    /// whose runner is gone (a crashed or frozen orders process's) and
    /// finishes them. `shoplab compare`'s counting pass sets it far apart,
    /// so that a pass of it does not fall into a counted batch.
    #[arg(long, value_name = "MS", default_value_t = RECOVERY_EVERY_MS,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub recovery_every_ms: u64,
}

impl Default for RecoveryArgs {
    fn default() -> Self {
        Self {
            recovery_every_ms: RECOVERY_EVERY_MS,
        }
    }
}

impl RecoveryArgs {
    pub fn every(&self) -> Duration {
        Duration::from_millis(self.recovery_every_ms)
    }
}

/// Opens the service's own database (orders and idempotency keys only),
/// builds its client to `peers` (users, catalog, payments), starts the saga
/// recovery loop (unless `tx` is naive), and binds its address (port 0 picks
/// a free port; [`Application::port`] says which). The monolith's `build`
/// (`monolith/src/lib.rs`) opens one database with every table instead, and
/// has no peers and nothing to recover.
///
/// Call it outside an async runtime, or on a blocking thread
/// (`tokio::task::spawn_blocking`): opening the database blocks.
pub fn build(
    service: ServiceArgs,
    peers: Peers,
    calls: &CallArgs,
    tx: Tx,
    recovery: RecoveryArgs,
) -> anyhow::Result<Application> {
    let settings = service.settings.load(NAME)?;
    let peers = PeerClient::new(peers, calls)?;
    let recovery_peers = peers.clone();
    let peers = web::Data::new(peers);
    let tx = web::Data::new(tx);
    let runs_sagas = *tx.get_ref() == Tx::Saga;
    let (application, pool) =
        shoplab_service::build_with_pool(Component::Orders, service, move |routes| {
            routes
                .app_data(peers.clone())
                .app_data(tx.clone())
                .configure(configure);
        })?;
    if runs_sagas {
        start_recovery(pool, recovery_peers, settings, recovery.every())?;
    }
    Ok(application)
}

/// The orders routes, the internal ones and the service's share of
/// `/audit`, on the orders database; `build` adds `/health`, the client to
/// the other components and how orders are held together ([`Tx`]). A group
/// of components (`microservices/group`) mounts them too, with its own.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/orders").post(place))
        .service(resource("/orders/{id}").get(orders::get))
        .service(resource("/orders/{id}/cancel").post(cancel))
        .service(resource("/users/{id}/orders").get(list_for_user))
        .service(resource("/internal/orders/{id}").get(steps))
        .service(resource(audit_path(Component::Orders)).get(audit));
}

/// The components as one request reaches them: over HTTP, every call
/// measured (the monolith measures its function calls with the same
/// `Measured`, `monolith/src/checkout.rs`).
pub(crate) fn shop(
    peers: &PeerClient,
    request_id: RequestId,
    deadline: Deadline,
) -> Measured<Components> {
    Measured::new(peers.components(request_id, deadline))
}

// Each argument is one extractor, as actix-web hands them to a handler.
#[allow(clippy::too_many_arguments)]
async fn place(
    request: HttpRequest,
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    tx: web::Data<Tx>,
    faults: Faults,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
    json: ApiJson<PlaceOrderBody>,
) -> Result<HttpResponse, ApiError> {
    let (orders, shop) = (pool.get_ref().clone(), shop(&peers, request_id, deadline));
    match **tx {
        Tx::Saga => {
            let saga = SagaRunner {
                pool: orders,
                shop,
                deadline,
                faults: faults.0,
            };
            place_order::serve(&request, &pool, json, deadline, saga).await
        }
        Tx::Naive => {
            let naive = Naive {
                pool: orders,
                shop,
                deadline,
                faults: faults.0,
            };
            place_order::serve(&request, &pool, json, deadline, naive).await
        }
    }
}

async fn cancel(
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    tx: web::Data<Tx>,
    faults: Faults,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (pool, shop) = (pool.get_ref().clone(), shop(&peers, request_id, deadline));
    match **tx {
        Tx::Saga => {
            let saga = SagaRunner {
                pool,
                shop,
                deadline,
                faults: faults.0,
            };
            orders::cancel(saga, &id).await
        }
        Tx::Naive => {
            let naive = Naive {
                pool,
                shop,
                deadline,
                faults: faults.0,
            };
            orders::cancel(naive, &id).await
        }
    }
}

async fn list_for_user(
    pool: web::Data<Pool>,
    peers: web::Data<PeerClient>,
    request_id: RequestId,
    RequestDeadline(deadline): RequestDeadline,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::parse_segment(&id)?;
    let orders = peers
        .with_known_user(request_id, deadline, user, &pool, move |conn| {
            store::list_for_user(conn, user)
        })
        .await?;
    Ok(HttpResponse::Ok().json(orders))
}

/// The order's status, total and step key, for the gateway's
/// `/audit/orders/{id}`.
async fn steps(pool: web::Data<Pool>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(&id)?;
    let steps = with_conn(&pool, move |conn| {
        let order = store::find(conn, id)?;
        let reference = store::find_ref(conn, id)?;
        Ok(OrderSteps {
            order_id: order.id,
            status: order.status,
            total_cents: order.total_cents,
            step_key: reference.key.to_string(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(steps))
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let (counts, sagas_in_flight) = with_conn(&pool, |conn| {
        Ok((store::count_by_status(conn)?, record::in_flight(conn)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrdersAudit {
        orders: OrderCounts::from_map(&counts),
        sagas_in_flight,
    }))
}
