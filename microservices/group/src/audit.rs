//! `GET /audit` and `GET /audit/orders/{id}` of a group that hosts the whole
//! shop (the modular monolith): each figure from the database of the
//! component that owns it, by a function call. The monolith reads them all
//! from one database in one snapshot (`monolith/src/audit.rs`); the gateway
//! asks four services (`microservices/gateway/src/audit.rs`). Here, as
//! there, the four reads are separate moments, so API.md's invariants hold
//! only when no order is in flight.

use actix_web::{web, HttpResponse};
use shoplab_common::components::Component;
use shoplab_common::db::Pool;
use shoplab_common::domain::OrderId;
use shoplab_common::{catalog, orders, payments, users};
use shoplab_http::wire::{Audit, OrderAudit, OrderCounts};
use shoplab_http::{resource, with_conn, ApiError};

/// The four components' databases.
#[derive(Clone)]
pub struct Databases {
    users: Pool,
    catalog: Pool,
    payments: Pool,
    orders: Pool,
}

impl Databases {
    /// The databases of a group that hosts every component.
    ///
    /// # Panics
    /// If `pools` lacks one: the caller checks that the group is whole.
    // The documented panic above: a whole group is the caller's invariant.
    #[allow(clippy::expect_used)]
    pub fn of(pools: &[(Component, Pool)]) -> Self {
        let of = |component: Component| {
            pools
                .iter()
                .find(|(hosted, _)| *hosted == component)
                .map(|(_, pool)| pool.clone())
                .expect("a whole shop hosts every component")
        };
        Self {
            users: of(Component::Users),
            catalog: of(Component::Catalog),
            payments: of(Component::Payments),
            orders: of(Component::Orders),
        }
    }
}

pub fn configure(config: &mut web::ServiceConfig, databases: Databases) {
    let databases = web::Data::new(databases);
    config
        .service(resource("/audit").app_data(databases.clone()).get(audit))
        .service(
            resource("/audit/orders/{id}")
                .app_data(databases)
                .get(order_audit),
        );
}

async fn audit(databases: web::Data<Databases>) -> Result<HttpResponse, ApiError> {
    let users = with_conn(&databases.users, users::store::count).await?;
    let (products, stock_units) = with_conn(&databases.catalog, catalog::store::audit).await?;
    let (wallet_cents, paid_cents) = with_conn(&databases.payments, payments::store::audit).await?;
    let counts = with_conn(&databases.orders, orders::store::count_by_status).await?;
    Ok(HttpResponse::Ok().json(Audit {
        users,
        products,
        stock_units,
        wallet_cents,
        paid_cents,
        orders: OrderCounts::from_map(&counts),
    }))
}

/// The order from the orders database, then what the catalog and payments
/// databases hold under its step key.
async fn order_audit(
    databases: web::Data<Databases>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = OrderId::parse_segment(&id)?;
    let (order, reference) = with_conn(&databases.orders, move |conn| {
        Ok((
            orders::store::find(conn, id)?,
            orders::store::find_ref(conn, id)?,
        ))
    })
    .await?;
    let key = reference.key.clone();
    let charged_cents = with_conn(&databases.payments, move |conn| {
        payments::store::charged_cents(conn, &key)
    })
    .await?;
    let key = reference.key;
    let reserved_units = with_conn(&databases.catalog, move |conn| {
        catalog::store::held_units(conn, &key)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrderAudit {
        order_id: order.id,
        status: order.status,
        total_cents: order.total_cents,
        charged_cents,
        reserved_units,
    }))
}
