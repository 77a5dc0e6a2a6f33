//! The record of seeding steps that have run (`data_migrations`).

use crate::db::DbConnection;
use crate::db::schema::data_migrations;
use diesel::prelude::*;

/// Whether the step `id` has run on this database.
pub fn applied(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    let found: Option<String> = data_migrations::table
        .filter(data_migrations::id.eq(id))
        .select(data_migrations::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Records that the step `id` has run.
pub fn mark(conn: &mut DbConnection, id: &str, at: chrono::NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(data_migrations::table)
        .values((
            data_migrations::id.eq(id),
            data_migrations::applied_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Every recorded step, in id order.
pub fn all(conn: &mut DbConnection) -> QueryResult<Vec<String>> {
    data_migrations::table
        .order(data_migrations::id)
        .select(data_migrations::id)
        .load(conn)
}
