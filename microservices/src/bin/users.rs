//! The users service: registration, with its own database.

use clap::Parser;
use shoplab_common::components::Component;
use shoplab_microservices::service::{exit_on_error, serve, ServiceArgs};
use shoplab_microservices::users;

/// The users component as its own service (owns the users table only).
#[derive(Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    service: ServiceArgs,
}

fn main() {
    let args = Args::parse();
    let result = serve(Component::Users, args.service, users::configure);
    exit_on_error("shoplab-users", result);
}
