//! `users` and `api_clients`.

use crate::db::DbConnection;
use crate::db::schema::{api_clients, users};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    pub id: i32,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub enterprise_id: Option<i32>,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub enterprise_id: Option<i32>,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub role: Option<String>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    pub enterprise_id: Option<Option<i32>>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

pub fn insert(conn: &mut DbConnection, new: &NewUser) -> QueryResult<i32> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::username.eq(username))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConnection,
    after: i32,
    limit: i64,
    role: Option<&str>,
) -> QueryResult<Vec<User>> {
    let mut q = users::table.filter(users::id.gt(after)).into_boxed();
    if let Some(r) = role {
        q = q.filter(users::role.eq(r.to_string()));
    }
    q.order(users::id)
        .limit(limit)
        .select(User::as_select())
        .load(conn)
}

pub fn update(conn: &mut DbConnection, id: i32, changes: &UserChanges) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)
}

pub fn owners_of(conn: &mut DbConnection, enterprise_id: i32) -> QueryResult<Vec<(i32, String)>> {
    users::table
        .filter(users::enterprise_id.eq(enterprise_id))
        .order(users::id)
        .select((users::id, users::username))
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_clients, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ApiClient {
    pub id: i32,
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub role: String,
    pub enterprise_id: Option<i32>,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_clients)]
pub struct NewApiClient<'a> {
    pub client_id: &'a str,
    pub secret_hash: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub enterprise_id: Option<i32>,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
}

pub fn insert_client(conn: &mut DbConnection, new: &NewApiClient) -> QueryResult<i32> {
    diesel::insert_into(api_clients::table)
        .values(new)
        .returning(api_clients::id)
        .get_result(conn)
}

pub fn find_client(conn: &mut DbConnection, id: i32) -> QueryResult<Option<ApiClient>> {
    api_clients::table
        .find(id)
        .select(ApiClient::as_select())
        .first(conn)
        .optional()
}

pub fn client_by_client_id(
    conn: &mut DbConnection,
    client_id: &str,
) -> QueryResult<Option<ApiClient>> {
    api_clients::table
        .filter(api_clients::client_id.eq(client_id))
        .select(ApiClient::as_select())
        .first(conn)
        .optional()
}

pub fn list_clients(
    conn: &mut DbConnection,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<ApiClient>> {
    api_clients::table
        .filter(api_clients::id.gt(after))
        .order(api_clients::id)
        .limit(limit)
        .select(ApiClient::as_select())
        .load(conn)
}

pub fn set_client_disabled(conn: &mut DbConnection, id: i32, disabled: bool) -> QueryResult<usize> {
    diesel::update(api_clients::table.find(id))
        .set(api_clients::disabled.eq(disabled))
        .execute(conn)
}
