//! The users table. Sync functions on a connection: call them on the blocking
//! pool (`web::block`), never on the async executor.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::db::schema::users;
use crate::db::DbConnection;
use crate::domain::{Entity, NewUser, User, UserId};
use crate::ShopError;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    name: String,
    email: String,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            name: row.name,
            email: row.email,
        }
    }
}

/// Registers a user; `EmailTaken` if the email is already registered in any
/// letter case. The unique index on `email_key` decides, so two racing
/// registrations cannot both win.
pub fn create(conn: &mut DbConnection, user: &NewUser) -> Result<User, ShopError> {
    let email_key = user.email.key();
    // Looking first is only a courtesy: PostgreSQL spends a sequence value on
    // an insert that then fails, so a refused registration would leave a gap
    // in the ids. The unique index below still decides any race.
    let taken: i64 = users::table
        .filter(users::email_key.eq(&email_key))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Err(ShopError::EmailTaken);
    }
    let row = (
        users::name.eq(user.name.as_str()),
        users::email.eq(user.email.as_str()),
        users::email_key.eq(&email_key),
    );
    let inserted: Result<UserRow, DieselError> = crate::on_backend!(conn, |inner| {
        diesel::insert_into(users::table)
            .values(row)
            .returning(UserRow::as_returning())
            .get_result(inner)
    });
    match inserted {
        Ok(row) => Ok(row.into()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(ShopError::EmailTaken)
        }
        Err(error) => Err(error.into()),
    }
}

pub fn find(conn: &mut DbConnection, id: UserId) -> Result<User, ShopError> {
    users::table
        .find(id.get())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::from)
        .ok_or(ShopError::NotFound(Entity::User(id)))
}

pub fn count(conn: &mut DbConnection) -> Result<i64, ShopError> {
    Ok(users::table.count().get_result(conn)?)
}
