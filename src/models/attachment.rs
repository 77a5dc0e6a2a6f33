//! `attachments` (an application's evidence) and `blobs` (file contents, content-addressed:
//! ordered chunks under the file's SHA-256, shared by every attachment with that content).

use crate::db::DbConnection;
use crate::db::schema::{attachments, blobs};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The size of one stored chunk: no row is larger, and nothing is read whole.
pub const CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = attachments, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Attachment {
    pub id: i32,
    pub application_id: i32,
    pub kind: String,
    pub filename: String,
    pub size: i64,
    pub sha256: String,
    pub content_type: String,
    pub uploaded_by: String,
    pub uploaded_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment<'a> {
    pub application_id: i32,
    pub kind: &'a str,
    pub filename: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub uploaded_by: &'a str,
    pub uploaded_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewAttachment) -> QueryResult<i32> {
    diesel::insert_into(attachments::table)
        .values(new)
        .returning(attachments::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Attachment>> {
    attachments::table
        .find(id)
        .select(Attachment::as_select())
        .first(conn)
        .optional()
}

pub fn of_application(
    conn: &mut DbConnection,
    application_id: i32,
) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::application_id.eq(application_id))
        .order(attachments::id)
        .select(Attachment::as_select())
        .load(conn)
}

/// The bytes an application's evidence takes (each attachment counted, shared content too).
pub fn total_size(conn: &mut DbConnection, application_id: i32) -> QueryResult<i64> {
    let sizes: Vec<i64> = attachments::table
        .filter(attachments::application_id.eq(application_id))
        .select(attachments::size)
        .load(conn)?;
    Ok(sizes.iter().sum())
}

pub fn delete(conn: &mut DbConnection, id: i32) -> QueryResult<usize> {
    diesel::delete(attachments::table.find(id)).execute(conn)
}

/// How many attachments name this content.
pub fn references(conn: &mut DbConnection, sha256: &str) -> QueryResult<i64> {
    attachments::table
        .filter(attachments::sha256.eq(sha256))
        .count()
        .get_result(conn)
}

/// Whether the content is stored (its first chunk exists; chunks are written in one
/// transaction, so a first chunk means all of them).
pub fn blob_exists(conn: &mut DbConnection, sha256: &str) -> QueryResult<bool> {
    let n: i64 = blobs::table
        .filter(blobs::sha256.eq(sha256))
        .filter(blobs::seq.eq(0))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn insert_chunk(
    conn: &mut DbConnection,
    sha256: &str,
    seq: i32,
    data: &[u8],
) -> QueryResult<usize> {
    diesel::insert_into(blobs::table)
        .values((
            blobs::sha256.eq(sha256),
            blobs::seq.eq(seq),
            blobs::data.eq(data),
        ))
        .execute(conn)
}

/// One chunk of stored content, or `None` past the last.
pub fn chunk(conn: &mut DbConnection, sha256: &str, seq: i32) -> QueryResult<Option<Vec<u8>>> {
    blobs::table
        .filter(blobs::sha256.eq(sha256))
        .filter(blobs::seq.eq(seq))
        .select(blobs::data)
        .first(conn)
        .optional()
}

pub fn delete_blob(conn: &mut DbConnection, sha256: &str) -> QueryResult<usize> {
    diesel::delete(blobs::table.filter(blobs::sha256.eq(sha256))).execute(conn)
}
