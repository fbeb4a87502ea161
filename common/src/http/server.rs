//! What every HTTP process of the lab does alike: the app's shared frame and
//! the one line it prints when it is ready.

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App};

use super::{contract, request_id};

/// An app with API.md's frame (request ids, 404/405 bodies, query errors)
/// around the routes `configure` adds.
pub fn shop_app(
    configure: impl FnOnce(&mut web::ServiceConfig),
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The last `wrap` runs first: the request id is set before anything can
    // refuse the request, so every answer carries it.
    App::new()
        .wrap(from_fn(contract::refuse_oversized))
        .wrap(from_fn(request_id::propagate))
        .configure(contract)
        .configure(configure)
}

/// How long a server keeps an idle connection open. The lab's HTTP clients
/// drop idle connections sooner ([`CLIENT_IDLE`]), so a client never sends a
/// request on a connection the server is just closing: that race would look
/// like an answer lost on the way, which a saga must treat as "maybe done".
pub const SERVER_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// How long the lab's HTTP clients keep an idle pooled connection.
pub const CLIENT_IDLE: Duration = Duration::from_secs(10);

/// Prints `listening on http://ADDR` on stdout: the line `shoplab up` and the
/// tests wait for, so that a process started on port 0 can say which port it
/// got.
pub fn announce(name: &str, addrs: &[SocketAddr]) {
    for addr in addrs {
        println!("{name} listening on http://{addr}");
    }
}
