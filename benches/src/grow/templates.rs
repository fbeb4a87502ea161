//! The text of what `shoplab grow` writes for each generated component
//! beside what it copies from the real catalog (`shop.rs`): its tables'
//! schema and migrations' frame, its rules, its HTTP (the catalog's public
//! routes under its own prefix, and its internal API), its service's
//! `main`, and the wiring the monolith and the modular monolith get.
//! `NAME` stands for the component's name (`catalog07`), `RULES` for the
//! path of its rules (`shoplab_common::grown::catalog07` when they are
//! modules of the one domain crate, `shoplab_catalog07_rules` in a crate of
//! their own), `CRATE` for its service crate (`shoplab_catalog07`), `COMMON` for
//! the domain crate as the rules name it (`crate` or `shoplab_common`).

/// The rules beside the copied store: its own tables (the catalog's
/// schema, copied in for `SCHEMA_TABLES`), and its migrations. `MIGRATIONS_DIR` is where they are, from
/// the crate's manifest.
pub(super) const RULES: &str = r#"//! NAME: a component `shoplab grow` generated, a copy of the catalog
//! (products and stock) under its own name, on tables of its own.

pub mod store;

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use COMMON::db::DbConnection;
use COMMON::ShopError;

/// The largest stock one product of NAME may have: the rule
/// `shoplab grow` changes by one to time a rebuild.
pub const MAX_STOCK: i64 = 1_000_000;

/// Refuses a stock above [`MAX_STOCK`].
pub fn check_stock(units: i64) -> Result<(), ShopError> {
    if units > MAX_STOCK {
        return Err(ShopError::invalid(format!(
            "NAME keeps at most {MAX_STOCK} units of a product"
        )));
    }
    Ok(())
}

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("MIGRATIONS_DIR");

/// Brings NAME's tables up to date (SQLite only: the grown shop runs on
/// the lab's default database).
pub fn migrate(conn: &mut DbConnection) -> Result<(), ShopError> {
    match conn {
        DbConnection::Sqlite(inner) => inner
            .run_pending_migrations(MIGRATIONS)
            .map(|_| ())
            .map_err(|error| ShopError::internal("migrating the NAME tables", error)),
        DbConnection::Postgresql(_) => Err(ShopError::invalid(
            "the grown shop's components run on SQLite only",
        )),
    }
}

// The catalog's tables, copied from common/src/db/schema.rs, each under
// its `NAME_` name.
mod schema {
SCHEMA_TABLES
    diesel::allow_tables_to_appear_in_same_query!(reservations, reservation_lines);
}
"#;

/// The component's HTTP, the library of its service crate: the catalog's
/// product routes under `/NAME`, and the catalog's internal API on the
/// copied store.
pub(super) const SERVICE_LIB: &str = r#"//! NAME's HTTP: a generated copy of the catalog's product routes, under
//! `/NAME/products`, and of its internal API (`shoplab grow`).

use actix_web::{web, HttpResponse};
use shoplab_common::db::{write_transaction, DbConnection, Pool};
use shoplab_common::domain::{OrderItems, OrderRef, ProductId, StepKey};
use shoplab_common::ShopError;
use shoplab_http::routes::Routes;
use shoplab_http::wire::{CreateProduct, PageQuery};
use shoplab_http::{resource, with_conn, ApiError, ApiJson};
use shoplab_service::internal::{CatalogAudit, HeldUnits, OrderIdBody, ProductIds, Reserve};
use RULES::{check_stock, store};

/// The service's name, as it announces itself.
pub const SERVICE: &str = "shoplab-NAME";

/// Brings NAME's tables up to date on `pool`'s database.
pub fn migrate(pool: &Pool) -> Result<(), ShopError> {
    let mut conn = pool.get().map_err(|error| ShopError::internal("NAME", error))?;
    RULES::migrate(&mut conn)
}

pub fn configure(routes: &mut Routes<'_>) {
    routes
        .service(resource("/NAME/products").post(create).get(list))
        .service(resource("/NAME/products/{id}").get(get))
        .service(resource("/internal/NAME/products/lookup").post(lookup))
        .service(resource("/internal/NAME/reservations").post(reserve))
        .service(resource("/internal/NAME/reservations/{step_key}").get(held))
        .service(resource("/internal/NAME/reservations/{step_key}/release").post(release))
        .service(resource("/internal/audit/NAME").get(audit));
}

async fn create(pool: web::Data<Pool>, json: ApiJson<CreateProduct>) -> Result<HttpResponse, ApiError> {
    let product = json.body.parse()?;
    check_stock(product.stock.get())?;
    let created = with_conn(&pool, move |conn| store::create(conn, &product)).await?;
    Ok(HttpResponse::Created().json(created))
}

async fn list(pool: web::Data<Pool>, query: web::Query<PageQuery>) -> Result<HttpResponse, ApiError> {
    let page = query.parse()?;
    let products = with_conn(&pool, move |conn| store::list(conn, page)).await?;
    Ok(HttpResponse::Ok().json(products))
}

async fn get(pool: web::Data<Pool>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = ProductId::parse_segment(&id)?;
    let product = with_conn(&pool, move |conn| store::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(product))
}

async fn lookup(pool: web::Data<Pool>, json: ApiJson<ProductIds>) -> Result<HttpResponse, ApiError> {
    let ids = json
        .body
        .ids
        .iter()
        .map(|&id| ProductId::parse(id))
        .collect::<Result<Vec<_>, ShopError>>()?;
    let found = with_conn(&pool, move |conn| store::find_existing(conn, &ids)).await?;
    Ok(HttpResponse::Ok().json(found))
}

async fn reserve(pool: web::Data<Pool>, json: ApiJson<Reserve>) -> Result<HttpResponse, ApiError> {
    let order = OrderRef::parse(json.body.order_id, &json.body.step_key)?;
    let pairs: Vec<(i64, i64)> = json
        .body
        .items
        .iter()
        .map(|item| (item.product_id, item.quantity))
        .collect();
    let items = OrderItems::parse(&pairs)?;
    in_transaction(&pool, move |conn| store::reserve(conn, &order, items.lines())).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn release(
    pool: web::Data<Pool>,
    key: web::Path<String>,
    json: ApiJson<OrderIdBody>,
) -> Result<HttpResponse, ApiError> {
    let order = OrderRef::parse(json.body.order_id, &key)?;
    in_transaction(&pool, move |conn| store::release(conn, &order)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn in_transaction(
    pool: &Pool,
    work: impl FnOnce(&mut DbConnection) -> Result<(), ShopError> + Send + 'static,
) -> Result<(), ShopError> {
    with_conn(pool, move |conn| write_transaction(conn, work)).await
}

async fn held(pool: web::Data<Pool>, key: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = StepKey::parse(&key)?;
    let reserved_units = with_conn(&pool, move |conn| store::held_units(conn, &key)).await?;
    Ok(HttpResponse::Ok().json(HeldUnits { reserved_units }))
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let (products, stock_units) = with_conn(&pool, store::audit).await?;
    Ok(HttpResponse::Ok().json(CatalogAudit {
        products,
        stock_units,
    }))
}
"#;

/// The component as a service of its own: its own database, its own port,
/// and the flags every shop binary takes (`SettingsArgs`: deadline, fault
/// plan, logs, metrics, drain notice), so the lab starts it as any other.
pub(super) const SERVICE_MAIN: &str = r#"//! NAME as a service of its own (`shoplab grow`): its own database, its
//! own port, `/health` and its routes.

use actix_web::web;
use clap::Parser;
use shoplab_common::db::{self, DatabaseUrl};
use shoplab_http::routes::{health, Routes};
use shoplab_http::server::Application;
use shoplab_http::SettingsArgs;
use CRATE::{configure, migrate, SERVICE};

/// NAME, a generated copy of the catalog, as a service of its own.
#[derive(Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// The database: sqlite://PATH (created if missing).
    #[arg(long, value_parser = DatabaseUrl::parse)]
    database_url: DatabaseUrl,
    #[command(flatten)]
    settings: SettingsArgs,
}

fn main() {
    let args = Args::parse();
    let result = open(&args).and_then(shoplab_service::run);
    shoplab_service::exit_on_error(SERVICE, result);
}

fn open(args: &Args) -> anyhow::Result<Application> {
    let settings = args.settings.load(SERVICE)?;
    let pool = db::open(&args.database_url, &[])?;
    migrate(&pool)?;
    let pool = web::Data::new(pool);
    let application = Application::bind(SERVICE, &args.addr, move |app| {
        settings.register(app);
        health::configure(app, vec![pool.get_ref().clone()]);
        Routes::new(app, pool.clone()).configure(configure);
    })?;
    Ok(application)
}
"#;

/// The gateway's `grown.rs`: each generated component's public routes,
/// passed through to its service as they came (a plain pass-through: no
/// retry, no circuit, the gateway's own client and limits).
pub(super) const GATEWAY: &str = r#"//! The components `shoplab grow` generated, behind the gateway: their public
//! routes passed through to their services (`--grown-urls NAME=URL,...`).

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use shoplab_common::ShopError;
use shoplab_http::ApiError;

use crate::Upstreams;

static URLS: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// Where each generated component's service is, from the flag's `NAME=URL`s.
pub fn remember(urls: &[String]) {
    let urls = urls
        .iter()
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, url)| (name.to_owned(), url.to_owned()))
        .collect();
    let _ = URLS.set(urls);
}

struct Base(String);

pub fn configure(config: &mut web::ServiceConfig) {
    for (name, url) in URLS.get().into_iter().flatten() {
        let base = web::Data::new(Base(url.clone()));
        for path in [format!("/{name}/products"), format!("/{name}/products/{{id}}")] {
            config.service(web::resource(path).app_data(base.clone()).to(forward));
        }
    }
}

async fn forward(
    request: HttpRequest,
    body: web::Bytes,
    base: web::Data<Base>,
    upstreams: web::Data<Upstreams>,
) -> Result<HttpResponse, ApiError> {
    let path = request.uri().path_and_query().map_or("/", |path| path.as_str());
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|error| ShopError::invalid(format!("bad method: {error}")))?;
    let mut outgoing = upstreams
        .http
        .request(method, format!("{}{path}", base.0))
        .body(body.to_vec());
    if let Some(value) = request.headers().get("content-type") {
        outgoing = outgoing.header("content-type", value.as_bytes());
    }
    let unavailable = |error: reqwest::Error| ShopError::ServiceUnavailable(format!("{}: {error}", base.0));
    let response = outgoing.send().await.map_err(unavailable)?;
    let status = StatusCode::from_u16(response.status().as_u16())
        .map_err(|error| ShopError::internal("upstream status", error))?;
    let body = response.bytes().await.map_err(unavailable)?;
    Ok(HttpResponse::build(status).content_type("application/json").body(body))
}
"#;

/// The modular monolith's `grown.rs`, up to the generated components'
/// opening (one `let pool …` block each, then [`GROUP_CONFIGURE`]).
pub(super) const GROUP_OPEN: &str = r#"//! The components `shoplab grow` generated, in the modular monolith: each
//! on a database of its own, beside the group's first, their routes
//! beside the real ones.

use std::path::{Path, PathBuf};

use actix_web::web;
use shoplab_common::components::Component;
use shoplab_common::db::{self, DatabaseUrl, Pool};
use shoplab_http::routes::Routes;

pub type Configure = fn(&mut Routes<'_>);

pub fn open(databases: &[(Component, DatabaseUrl)]) -> anyhow::Result<Vec<(Configure, Pool)>> {
    let dir = databases
        .iter()
        .find_map(|(_, url)| match url {
            DatabaseUrl::Sqlite(path) => path.parent().map(Path::to_path_buf),
            _ => None,
        })
        .unwrap_or_else(|| PathBuf::from("data"));
    let mut grown = Vec::new();
"#;

pub(super) const GROUP_CONFIGURE: &str = r#"    Ok(grown)
}

pub fn configure(app: &mut web::ServiceConfig, grown: &[(Configure, Pool)]) {
    for (configure, pool) in grown {
        Routes::new(app, web::Data::new(pool.clone())).configure(*configure);
    }
}
"#;
