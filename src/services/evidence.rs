//! Evidence: files attached to an application (audit reports, IP certificates, licences,
//! awards). A file is received into a spool on disk as it streams in — hashed (SHA-256), its
//! size bounded, its type decided by its content (PDF, PNG, JPEG, OFD) — and then stored in
//! the database, content-addressed (`blobs`, deduplicated by hash), in the same transaction as
//! its attachment row and the audit entry. Nothing is held in memory whole; a refused file
//! leaves nothing behind (the spool is removed when dropped).
//!
//! Who: the owner (or an admin) uploads and deletes while the application is `draft` or
//! `returned`; the owner, reviewers, officials and admins read; anyone else gets 404.

use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult, FieldError};
use crate::models::application::{self as app_rows, Application};
use crate::models::attachment::{self as rows, Attachment, CHUNK, NewAttachment};
use crate::models::now;
use crate::services::applications::{get_visible, wrong_state};
use crate::services::audit;
use crate::services::policy::{Action, Caller, Resource};
use diesel::Connection;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::PathBuf;

/// The kinds of evidence (API.md "Evidence").
pub const KINDS: [&str; 5] = [
    "audit_report",
    "ip_certificate",
    "license",
    "award",
    "other",
];
/// At most 20 MiB a file.
pub const MAX_FILE: u64 = 20 << 20;
/// At most 100 MiB of evidence an application.
pub const MAX_APPLICATION: u64 = 100 << 20;
/// How many leading bytes decide the type.
const HEAD: usize = 64 << 10;

/// The type of a file, decided by its content: PDF, PNG and JPEG by their signatures
/// (`infer`), OFD (GB/T 33190, a zip package whose entry `OFD.xml` is the document root) by a
/// local zip entry of that name. Anything else, whatever its name says, is `None`.
pub fn detect(head: &[u8]) -> Option<&'static str> {
    if let Some(t) = infer::get(head) {
        match t.mime_type() {
            "application/pdf" => return Some("application/pdf"),
            "image/png" => return Some("image/png"),
            "image/jpeg" => return Some("image/jpeg"),
            _ => {}
        }
    }
    is_ofd(head).then_some("application/ofd")
}

/// A zip (local file header `PK\3\4` at offset 0) with an entry named `OFD.xml` among the
/// local headers found in `head`.
fn is_ofd(head: &[u8]) -> bool {
    const SIG: &[u8] = b"PK\x03\x04";
    if !head.starts_with(SIG) {
        return false;
    }
    let mut at = 0;
    while let Some(found) = head[at..].windows(4).position(|w| w == SIG) {
        let i = at + found;
        if let (Some(len), Some(_)) = (head.get(i + 26..i + 28), head.get(i + 28..i + 30)) {
            let n = usize::from(u16::from_le_bytes([len[0], len[1]]));
            if let Some(name) = head.get(i + 30..i + 30 + n)
                && name.eq_ignore_ascii_case(b"OFD.xml")
            {
                return true;
            }
        }
        at = i + 4;
    }
    false
}

/// A path removed when dropped.
#[derive(Debug)]
struct TempPath(PathBuf);

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A file being received.
#[derive(Debug)]
pub struct Spool {
    path: TempPath,
    file: std::fs::File,
    hasher: Sha256,
    size: u64,
    limit: u64,
    head: Vec<u8>,
}

/// A file received whole: its spool, size, hash and type (`None`: not an accepted type).
#[derive(Debug)]
pub struct Received {
    path: TempPath,
    pub size: u64,
    pub sha256: String,
    pub content_type: Option<&'static str>,
}

fn too_large(limit: u64) -> AppError {
    AppError::TooLarge(format!(
        "the file exceeds what this upload may take ({} bytes: at most {} MiB a file and {} MiB an application)",
        limit,
        MAX_FILE >> 20,
        MAX_APPLICATION >> 20
    ))
}

impl Spool {
    /// A spool refusing more than `limit` bytes.
    pub fn new(limit: u64) -> AppResult<Spool> {
        let path = std::env::temp_dir().join(format!(
            "ladder-upload-{}.part",
            uuid::Uuid::new_v4().simple()
        ));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("creating the upload spool: {e}")))?;
        Ok(Spool {
            path: TempPath(path),
            file,
            hasher: Sha256::new(),
            size: 0,
            limit,
            head: Vec::new(),
        })
    }

    /// Takes the next piece; 413 as soon as the limit is passed.
    pub fn push(&mut self, bytes: &[u8]) -> AppResult<()> {
        self.size += bytes.len() as u64;
        if self.size > self.limit {
            return Err(too_large(self.limit));
        }
        if self.head.len() < HEAD {
            let take = (HEAD - self.head.len()).min(bytes.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        self.hasher.update(bytes);
        self.file
            .write_all(bytes)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("writing the upload spool: {e}")))
    }

    pub fn finish(mut self) -> AppResult<Received> {
        self.file
            .flush()
            .map_err(|e| AppError::Internal(anyhow::anyhow!("flushing the upload spool: {e}")))?;
        Ok(Received {
            content_type: detect(&self.head),
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            path: self.path,
        })
    }
}

fn require_changeable(caller: &Caller, app: &Application, action: &str) -> AppResult<()> {
    caller.may(
        Action::EditEnterprise,
        &Resource::Enterprise(app.enterprise_id),
    )?;
    if app.state != app_rows::DRAFT && app.state != app_rows::RETURNED {
        return Err(wrong_state(app.id, &app.state, action));
    }
    Ok(())
}

/// Before reading a body: may the caller add evidence now, and how many bytes may the file
/// take (the per-file limit, or what is left of the application's).
pub fn allowance(conn: &mut DbConnection, caller: &Caller, application_id: i32) -> AppResult<u64> {
    let app = get_visible(conn, caller, application_id)?;
    require_changeable(caller, &app, "given evidence")?;
    let used = u64::try_from(rows::total_size(conn, application_id)?).unwrap_or(0);
    let left = MAX_APPLICATION.saturating_sub(used);
    if left == 0 {
        return Err(too_large(0));
    }
    Ok(left.min(MAX_FILE))
}

/// The evidence form as read from a multipart body.
#[derive(Debug, Default)]
pub struct Upload {
    pub kind: Option<String>,
    pub filename: Option<String>,
    pub file: Option<Received>,
}

/// A file name as a person would read it: the last path segment, no control characters, at
/// most 255 characters; `attachment` when nothing is left.
fn clean_filename(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect::<String>();
    let base = base.trim();
    if base.is_empty() || base == "." || base == ".." {
        "attachment".into()
    } else {
        base.to_string()
    }
}

/// Stores a received file as evidence of the application: 422 naming `file` or `kind` for
/// bad input, 413 past the limits (checked again here, under the write lock), 409 outside
/// `draft`/`returned`. Content already stored is not stored twice.
pub fn store(
    conn: &mut DbConnection,
    caller: &Caller,
    application_id: i32,
    upload: Upload,
) -> AppResult<Attachment> {
    let mut errors = Vec::new();
    let kind = upload.kind.as_deref().map(str::trim).unwrap_or("");
    if !KINDS.contains(&kind) {
        errors.push(FieldError::new(
            "kind",
            if kind.is_empty() { "required" } else { "enum" },
            format!("one of {}", KINDS.join(", ")),
        ));
    }
    match &upload.file {
        None => errors.push(FieldError::new(
            "file",
            "required",
            "a multipart field `file` with the document is required",
        )),
        Some(f) if f.size == 0 => {
            errors.push(FieldError::new("file", "empty", "the file is empty"))
        }
        Some(f) if f.content_type.is_none() => errors.push(FieldError::new(
            "file",
            "unsupported_type",
            "the content is not a PDF, PNG, JPEG or OFD document (the type is judged by the content, not the name)",
        )),
        Some(_) => {}
    }
    let Some(file) = upload.file.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let content_type = file.content_type.unwrap_or("application/octet-stream");
    let filename = clean_filename(upload.filename.as_deref());
    let size = i64::try_from(file.size).map_err(|_| too_large(MAX_FILE))?;
    write_tx(conn, |conn| {
        let app = get_visible(conn, caller, application_id)?;
        require_changeable(caller, &app, "given evidence")?;
        let used = rows::total_size(conn, application_id)?;
        if file.size > MAX_FILE || used.saturating_add(size) > MAX_APPLICATION as i64 {
            return Err(too_large(MAX_FILE.min(
                MAX_APPLICATION.saturating_sub(u64::try_from(used).unwrap_or(0)),
            )));
        }
        if !rows::blob_exists(conn, &file.sha256)? {
            write_chunks(conn, &file)?;
        }
        let actor = caller.actor();
        let id = rows::insert(
            conn,
            &NewAttachment {
                application_id,
                kind,
                filename: &filename,
                size,
                sha256: &file.sha256,
                content_type,
                uploaded_by: &actor,
                uploaded_at: now(),
            },
        )?;
        let row = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        audit::record::<(), _>(
            conn,
            &actor,
            "attachment.upload",
            "attachment",
            id,
            None,
            Some(&row),
        )?;
        Ok(row)
    })
}

/// Copies the spool into `blobs`, chunk by chunk. Another upload of the same content may
/// store it first; then that copy stands (the savepoint keeps the transaction usable).
fn write_chunks(conn: &mut DbConnection, file: &Received) -> AppResult<()> {
    let written = conn.transaction::<_, AppError, _>(|conn| {
        let mut f = std::fs::File::open(&file.path.0)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("reading the upload spool: {e}")))?;
        let mut buf = vec![0u8; CHUNK];
        let mut seq = 0i32;
        loop {
            let mut filled = 0;
            while filled < CHUNK {
                let n = f.read(&mut buf[filled..]).map_err(|e| {
                    AppError::Internal(anyhow::anyhow!("reading the upload spool: {e}"))
                })?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            if filled == 0 {
                break;
            }
            rows::insert_chunk(conn, &file.sha256, seq, &buf[..filled])?;
            seq += 1;
            if filled < CHUNK {
                break;
            }
        }
        Ok(())
    });
    match written {
        Err(AppError::Conflict(_)) if rows::blob_exists(conn, &file.sha256)? => Ok(()),
        other => other,
    }
}

pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    application_id: i32,
) -> AppResult<Vec<Attachment>> {
    get_visible(conn, caller, application_id)?;
    Ok(rows::of_application(conn, application_id)?)
}

/// An attachment the caller may read (its application visible to it), else 404.
pub fn get(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<Attachment> {
    let row = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    get_visible(conn, caller, row.application_id)?;
    Ok(row)
}

/// One chunk of the attachment's content (`seq` from 0), `None` past the end.
pub fn chunk(conn: &mut DbConnection, sha256: &str, seq: i32) -> AppResult<Option<Vec<u8>>> {
    Ok(rows::chunk(conn, sha256, seq)?)
}

/// Removes an attachment (while `draft` or `returned`), and its content when no other
/// attachment names it.
pub fn delete(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<()> {
    write_tx(conn, |conn| {
        let row = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
        let app = get_visible(conn, caller, row.application_id)?;
        require_changeable(caller, &app, "changed (its evidence)")?;
        if rows::delete(conn, id)? == 0 {
            return Err(AppError::NotFound);
        }
        if rows::references(conn, &row.sha256)? == 0 {
            rows::delete_blob(conn, &row.sha256)?;
        }
        audit::record::<_, ()>(
            conn,
            &caller.actor(),
            "attachment.delete",
            "attachment",
            id,
            Some(&row),
            None,
        )?;
        Ok(())
    })
}

/// The evidence list kept with the pre-screen at submission.
pub fn frozen_list(conn: &mut DbConnection, application_id: i32) -> AppResult<serde_json::Value> {
    let rows = rows::of_application(conn, application_id)?;
    Ok(serde_json::Value::Array(
        rows.into_iter()
            .map(|a| {
                serde_json::json!({"id": a.id, "kind": a.kind, "filename": a.filename,
                    "size": a.size, "sha256": a.sha256, "content_type": a.content_type})
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_judged_by_content() {
        assert_eq!(detect(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(detect(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), Some("image/jpeg"));
        assert_eq!(detect(b"GIF89a...."), None);
        assert_eq!(detect(b"hello, world"), None);
        // A zip whose first entry is OFD.xml is OFD; any other zip is not.
        let mut ofd = b"PK\x03\x04".to_vec();
        ofd.extend_from_slice(&[
            20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        ofd.extend_from_slice(&7u16.to_le_bytes());
        ofd.extend_from_slice(&0u16.to_le_bytes());
        ofd.extend_from_slice(b"OFD.xml<ofd:OFD/>");
        assert_eq!(detect(&ofd), Some("application/ofd"));
        let other = [&ofd[..30], b"word/document.xml"].concat();
        let mut other = other;
        other[26..28].copy_from_slice(&17u16.to_le_bytes());
        assert_eq!(detect(&other), None);
    }

    #[test]
    fn file_names_are_cleaned() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_filename(Some("C:\\审计\\报告.pdf")), "报告.pdf");
        assert_eq!(clean_filename(Some("a\nb.pdf")), "ab.pdf");
        assert_eq!(clean_filename(None), "attachment");
    }
}
