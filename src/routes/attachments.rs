//! `/applications/{id}/attachments` and `/attachments/{id}`: evidence, uploaded as
//! `multipart/form-data` (`file`, `kind`) and streamed both ways. The body is read piece by
//! piece into the service's spool; nothing is buffered whole, and the limits are enforced
//! while it streams.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};
use crate::models::attachment::Attachment;
use crate::routes::db;
use crate::services::evidence::{self as svc, Spool, Upload};
use actix_multipart::Multipart;
use actix_web::http::header::{
    ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentResponse {
    pub id: i32,
    pub application_id: i32,
    /// audit_report, ip_certificate, license, award or other
    pub kind: String,
    pub filename: String,
    /// Bytes.
    pub size: i64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Decided by the content: application/pdf, image/png, image/jpeg or application/ofd.
    pub content_type: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

impl From<Attachment> for AttachmentResponse {
    fn from(a: Attachment) -> Self {
        AttachmentResponse {
            id: a.id,
            application_id: a.application_id,
            kind: a.kind,
            filename: a.filename,
            size: a.size,
            sha256: a.sha256,
            content_type: a.content_type,
            uploaded_by: a.uploaded_by,
            uploaded_at: a.uploaded_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    pub items: Vec<AttachmentResponse>,
}

/// The multipart form, for the OpenAPI document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The document: PDF, PNG, JPEG or OFD (judged by content), at most 20 MiB.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// audit_report, ip_certificate, license, award or other
    pub kind: String,
}

fn bad_multipart(e: actix_multipart::MultipartError) -> AppError {
    AppError::BadRequest(format!("malformed multipart/form-data body: {e}"))
}

/// How much of a refused body is still read (and thrown away) so that the client gets the
/// answer instead of a reset connection.
const DRAIN_LIMIT: u64 = 256 << 20;

/// Reads the form: `kind` (a short text) and `file` (streamed into a spool bounded by
/// `limit`). Other fields are read and ignored. A limit passed ends in 413, after the rest of
/// the body is drained.
async fn read_form(mut payload: Multipart, limit: u64) -> AppResult<Upload> {
    let mut form = Upload::default();
    let mut failure: Option<AppError> = None;
    let mut drained = 0u64;
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(bad_multipart)?;
        let name = field.name().unwrap_or("").to_string();
        if name == "file" && form.file.is_none() && failure.is_none() {
            form.filename = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .map(str::to_string);
            let mut spool = Spool::new(limit)?;
            while let Some(piece) = field.next().await {
                let piece = piece.map_err(bad_multipart)?;
                if failure.is_some() {
                    drained += piece.len() as u64;
                    if drained > DRAIN_LIMIT {
                        break;
                    }
                } else if let Err(e) = spool.push(&piece) {
                    failure = Some(e);
                }
            }
            if failure.is_none() {
                form.file = Some(spool.finish()?);
            }
        } else if name == "kind" && form.kind.is_none() {
            let mut text = Vec::new();
            while let Some(piece) = field.next().await {
                let piece = piece.map_err(bad_multipart)?;
                if text.len() < 256 {
                    text.extend_from_slice(&piece[..piece.len().min(256 - text.len())]);
                }
            }
            form.kind = Some(String::from_utf8_lossy(&text).into_owned());
        } else {
            while let Some(piece) = field.next().await {
                drained += piece.map_err(bad_multipart)?.len() as u64;
                if drained > DRAIN_LIMIT {
                    break;
                }
            }
        }
        if drained > DRAIN_LIMIT {
            break;
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(form),
    }
}

/// Upload evidence.
///
/// `multipart/form-data` with `file` and `kind` (audit_report, ip_certificate, license, award,
/// other). The type is decided by the content (PDF, PNG, JPEG, OFD), whatever the name says;
/// at most 20 MiB a file and 100 MiB an application, enforced while the body streams (413,
/// nothing kept). Stored content-addressed by SHA-256 in the database with the attachment row
/// in one transaction, and audited with the hash. The owner (or an admin) may upload while the
/// application is `draft` or `returned`. No `Idempotency-Key`: the same content is stored once.
#[utoipa::path(post, path = "/api/v1/applications/{id}/attachments", tag = "evidence",
    params(("id" = i32, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentResponse), (status = 400, description = "not a multipart body"),
        (status = 403), (status = 404), (status = 409, description = "the application is not draft or returned"),
        (status = 413, description = "over 20 MiB a file or 100 MiB an application"),
        (status = 422, description = "no `file`, an unknown `kind`, or content that is not PDF, PNG, JPEG or OFD")),
    security(("bearer" = [])))]
pub async fn upload(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
    payload: Multipart,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let who = caller.clone();
    let limit = db(&pool, move |c| svc::allowance(c, &who, id)).await?;
    let form = read_form(payload, limit).await?;
    let row = db(&pool, move |c| svc::store(c, &caller, id, form)).await?;
    Ok(HttpResponse::Created().json(AttachmentResponse::from(row)))
}

/// List an application's evidence.
///
/// Every attachment of the application, oldest first: kind, name, size, SHA-256 and the type
/// decided by its content. Readable by the owner, reviewers, officials and admins.
#[utoipa::path(get, path = "/api/v1/applications/{id}/attachments", tag = "evidence",
    params(("id" = i32, Path)),
    responses((status = 200, body = AttachmentList), (status = 404)), security(("bearer" = [])))]
pub async fn list(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let rows = db(&pool, move |c| svc::list(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(AttachmentList {
        items: rows.into_iter().map(AttachmentResponse::from).collect(),
    }))
}

/// Download evidence.
///
/// Streams the file (`Content-Disposition: attachment`, its content type, `nosniff`). The
/// owner, reviewers, officials and admins may read; anyone else gets 404.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "evidence",
    params(("id" = i32, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream"), (status = 404)),
    security(("bearer" = [])))]
pub async fn download(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let row = db(&pool, move |c| svc::get(c, &caller, id)).await?;
    let sha = row.sha256.clone();
    let body = futures_util::stream::unfold(Some(0i32), move |seq| {
        let (pool, sha) = (pool.clone(), sha.clone());
        async move {
            let seq = seq?;
            let sha2 = sha.clone();
            match db(&pool, move |c| svc::chunk(c, &sha2, seq)).await {
                Ok(Some(bytes)) => Some((Ok(web::Bytes::from(bytes)), Some(seq + 1))),
                Ok(None) => None,
                Err(e) => Some((Err(actix_web::Error::from(e)), None)),
            }
        }
    });
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(
                row.filename
                    .chars()
                    .map(|c| if c.is_ascii() && c != '"' { c } else { '_' })
                    .collect(),
            ),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: actix_web::http::header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: row.filename.clone().into_bytes(),
            }),
        ],
    };
    Ok(HttpResponse::Ok()
        .content_type(row.content_type.as_str())
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .no_chunking(u64::try_from(row.size).unwrap_or(0))
        .streaming(body))
}

/// Delete evidence.
///
/// The owner (or an admin) removes an attachment while the application is `draft` or
/// `returned`; audited with the hash.
#[utoipa::path(delete, path = "/api/v1/attachments/{id}", tag = "evidence",
    params(("id" = i32, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409, description = "the application is not draft or returned")),
    security(("bearer" = [])))]
pub async fn remove(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    db(&pool, move |c| svc::delete(c, &caller, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/applications/{id}/attachments")
            .route(web::post().to(upload))
            .route(web::get().to(list)),
    );
    cfg.service(
        web::resource("/attachments/{id}")
            .route(web::get().to(download))
            .route(web::delete().to(remove)),
    );
}
