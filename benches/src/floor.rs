//! The floor: the least a server on this stack can do, to judge the
//! deployments' figures against.
//!
//! - `GET /products/{id}`: the monolith's product read with nothing around
//!   it: the same diesel query (`common`'s `catalog::store::find`), the same
//!   pool, the same blocking thread pool, in a bare actix-web app with no
//!   request ids, no contract checks, no other routes. How close the
//!   monolith's read comes to this is what its own layers cost.
//! - `GET /hello`: a constant answer, no database: the load generator's
//!   ceiling is measured against it.
//! - `POST /echo`: a small JSON body sent back: the round trip B that a hop
//!   between services is compared with.
//! - `GET /relay/{port}/{path}`: `GET http://127.0.0.1:{port}/{path}` sent on
//!   with one shared reqwest client, its status and body passed back: the
//!   least a gateway on this stack can add (an HTTP server and an HTTP client
//!   in one process, nothing else). The gateway's own hop is judged against
//!   it, so that what the gateway adds beyond the stack shows apart from what
//!   any second process in the path costs.
//!
//! It runs as its own process (`shoplab-floor`), pinned like the
//! deployments, so it is measured under the same conditions.

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context;
use shoplab_common::catalog::store;
use shoplab_common::components::Component;
use shoplab_common::db::{self, DatabaseUrl, Pool};
use shoplab_common::domain::ProductId;
use shoplab_common::ShopError;
use shoplab_http::server::{announce, SERVER_KEEP_ALIVE};
use shoplab_http::wire::CreateProduct;
use shoplab_http::with_conn;

/// Opens (and migrates) the catalog tables at `url` and makes sure at least
/// `products` products exist, created straight through the store. Call it
/// outside an async runtime: diesel blocks.
pub fn open(url: &DatabaseUrl, products: usize) -> anyhow::Result<Pool> {
    let pool = db::open(url, &[Component::Catalog])?;
    let mut conn = pool.get().context("cannot take a connection")?;
    let existing = store::list(
        &mut conn,
        shoplab_http::wire::PageQuery {
            limit: Some(500),
            offset: Some(0),
        }
        .parse()?,
    )?
    .len();
    for index in existing..products {
        let product = CreateProduct {
            name: format!("Floor product {index}"),
            price_cents: 100 + index as i64,
            stock: 1_000_000_000,
        }
        .parse()?;
        store::create(&mut conn, &product)?;
    }
    Ok(pool)
}

/// The floor's routes.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/hello", web::get().to(hello))
        .route("/echo", web::post().to(echo))
        .route("/products/{id}", web::get().to(read))
        .route("/relay/{port}/{path:.*}", web::get().to(relay));
}

async fn hello() -> HttpResponse {
    HttpResponse::Ok().body("hello")
}

async fn echo(body: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(body.into_inner())
}

async fn read(pool: web::Data<Pool>, id: web::Path<String>) -> HttpResponse {
    let Ok(id) = ProductId::parse_segment(&id) else {
        return HttpResponse::BadRequest().finish();
    };
    match with_conn(&pool, move |conn| store::find(conn, id)).await {
        Ok(product) => HttpResponse::Ok().json(product),
        Err(ShopError::NotFound(_)) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

/// The bare relay: no request id, deadline, guard, metric or log; only the
/// path and the status and body back.
async fn relay(http: web::Data<reqwest::Client>, target: web::Path<(u16, String)>) -> HttpResponse {
    let (port, path) = target.into_inner();
    let answered = match http
        .get(format!("http://127.0.0.1:{port}/{path}"))
        .send()
        .await
    {
        Ok(response) => response,
        Err(_) => return HttpResponse::BadGateway().finish(),
    };
    let status = answered.status().as_u16();
    match (
        actix_web::http::StatusCode::from_u16(status),
        answered.bytes().await,
    ) {
        (Ok(status), Ok(body)) => HttpResponse::build(status)
            .content_type("application/json")
            .body(body),
        _ => HttpResponse::BadGateway().finish(),
    }
}

/// Serves the floor on `addr` until the process is stopped.
pub fn serve(addr: &str, pool: Pool) -> anyhow::Result<()> {
    let pool = web::Data::new(pool);
    let http = web::Data::new(
        reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the relay's client")?,
    );
    actix_web::rt::System::new().block_on(async move {
        let server = HttpServer::new(move || {
            App::new()
                .app_data(pool.clone())
                .app_data(http.clone())
                .configure(configure)
        })
        .keep_alive(SERVER_KEEP_ALIVE)
        .bind(addr)
        .with_context(|| format!("cannot listen on {addr}"))?;
        announce("shoplab-floor", &server.addrs());
        server.run().await.context("the server stopped")
    })
}
