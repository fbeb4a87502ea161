//! PostgreSQL databases for a deployment: the microservices need one database
//! per service, so `--database-url postgres://HOST/NAME` stands for `NAME`
//! (the monolith) or `NAME_users`, `NAME_catalog`, ... (the services), each
//! created if missing.

use anyhow::{bail, Context};
use diesel::pg::PgConnection;
use diesel::{sql_query, Connection, RunQueryDsl};

/// The same server, another database name.
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (server, rest) = split(url)?;
    let query = rest.split_once('?').map(|(_, query)| query);
    Ok(match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    })
}

/// The database name in a URL.
pub fn database_name(url: &str) -> anyhow::Result<String> {
    let (_, rest) = split(url)?;
    let name = rest.split('?').next().unwrap_or_default();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("{url}: the database name must be letters, digits and underscores");
    }
    Ok(name.to_owned())
}

fn split(url: &str) -> anyhow::Result<(&str, &str)> {
    let scheme_end = url.find("://").map(|at| at + 3).unwrap_or(0);
    match url[scheme_end..].find('/') {
        Some(slash) => Ok((&url[..scheme_end + slash], &url[scheme_end + slash + 1..])),
        None => bail!("{url}: a PostgreSQL URL must name a database (postgres://HOST/NAME)"),
    }
}

/// The server's maintenance database, from which others are created.
fn maintenance(url: &str) -> anyhow::Result<PgConnection> {
    let admin = with_database(url, "postgres")?;
    PgConnection::establish(&admin).with_context(|| format!("cannot connect to {admin}"))
}

/// Creates the database `url` names unless it exists.
pub fn ensure_database(url: &str) -> anyhow::Result<()> {
    let name = database_name(url)?;
    if PgConnection::establish(url).is_ok() {
        return Ok(());
    }
    let mut admin = maintenance(url)?;
    sql_query(format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .with_context(|| format!("cannot create database {name}"))?;
    Ok(())
}

/// Drops the database `url` names, if it exists (tests clean up with this).
pub fn drop_database(url: &str) -> anyhow::Result<()> {
    let name = database_name(url)?;
    let mut admin = maintenance(url)?;
    sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .with_context(|| format!("cannot drop database {name}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_database_is_the_same_server_with_a_suffixed_name() {
        let url = "postgres://postgres@127.0.0.1:5432/shop?sslmode=disable";
        assert_eq!(database_name(url).expect("named"), "shop");
        assert_eq!(
            with_database(url, "shop_users").expect("valid"),
            "postgres://postgres@127.0.0.1:5432/shop_users?sslmode=disable"
        );
        assert!(database_name("postgres://127.0.0.1:5432").is_err());
    }
}
