//! Embedded migrations, one set per component and backend.
//!
//! The monolith runs all four sets on its one database; each service runs only
//! its own component's, so no service ever has another's tables to read.

use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConnection;
use crate::components::Component;
use crate::ShopError;

const SQLITE_USERS: EmbeddedMigrations = embed_migrations!("migrations/sqlite/users");
const SQLITE_CATALOG: EmbeddedMigrations = embed_migrations!("migrations/sqlite/catalog");
const SQLITE_PAYMENTS: EmbeddedMigrations = embed_migrations!("migrations/sqlite/payments");
const SQLITE_ORDERS: EmbeddedMigrations = embed_migrations!("migrations/sqlite/orders");
const POSTGRES_USERS: EmbeddedMigrations = embed_migrations!("migrations/postgres/users");
const POSTGRES_CATALOG: EmbeddedMigrations = embed_migrations!("migrations/postgres/catalog");
const POSTGRES_PAYMENTS: EmbeddedMigrations = embed_migrations!("migrations/postgres/payments");
const POSTGRES_ORDERS: EmbeddedMigrations = embed_migrations!("migrations/postgres/orders");

impl Component {
    fn migrations(self, conn: &DbConnection) -> EmbeddedMigrations {
        let sqlite = matches!(conn, DbConnection::Sqlite(_));
        match (self, sqlite) {
            (Component::Users, true) => SQLITE_USERS,
            (Component::Catalog, true) => SQLITE_CATALOG,
            (Component::Payments, true) => SQLITE_PAYMENTS,
            (Component::Orders, true) => SQLITE_ORDERS,
            (Component::Users, false) => POSTGRES_USERS,
            (Component::Catalog, false) => POSTGRES_CATALOG,
            (Component::Payments, false) => POSTGRES_PAYMENTS,
            (Component::Orders, false) => POSTGRES_ORDERS,
        }
    }
}

/// Brings the tables of `components` up to date.
pub fn run_migrations(conn: &mut DbConnection, components: &[Component]) -> Result<(), ShopError> {
    for &component in components {
        let migrations = component.migrations(conn);
        crate::on_backend!(conn, |inner| inner.run_pending_migrations(migrations)).map_err(
            |error| {
                ShopError::internal(&format!("migrating the {} tables", component.name()), error)
            },
        )?;
    }
    Ok(())
}
