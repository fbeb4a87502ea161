//! The users service: API.md's users routes (the monolith's very handlers,
//! from `common/http/src/routes/users.rs`) plus its share of `/audit`.

use actix_web::{web, HttpResponse};
use shoplab_common::components::Component;
use shoplab_common::db::Pool;
use shoplab_common::users::store;
use shoplab_http::routes::{self, Routes};
use shoplab_http::server::Application;
use shoplab_http::{resource, with_conn, ApiError};
use shoplab_service::internal::{audit_path, UsersAudit};
use shoplab_service::ServiceArgs;

/// The service's name, as it announces itself and prefixes its errors.
pub const NAME: &str = "shoplab-users";

/// Opens the service's own database (the users table only) and binds its
/// address (port 0 picks a free port; [`Application::port`] says which).
/// Call it outside an async runtime or on a blocking thread: see
/// [`shoplab_service::build`].
pub fn build(service: ServiceArgs) -> anyhow::Result<Application> {
    shoplab_service::build(Component::Users, service, configure)
}

/// The users routes and the service's share of `/audit`, on the users
/// database; a group of components (`microservices/group`) mounts them too.
pub fn configure(routes: &mut Routes<'_>) {
    routes
        .configure(routes::users::configure)
        .service(resource(audit_path(Component::Users)).get(audit));
}

async fn audit(pool: web::Data<Pool>) -> Result<HttpResponse, ApiError> {
    let users = with_conn(&pool, store::count).await?;
    Ok(HttpResponse::Ok().json(UsersAudit { users }))
}
