//! The audit trail: an append-only, hash-chained log of every write. Each entry's hash is an
//! HMAC-SHA256, under a key that is not in the database, over the previous entry's hash and a
//! canonical encoding of its own fields: editing, removing or re-hashing any row (with plain
//! SHA-256, or an HMAC under another key) breaks the chain from there on. A removed *tail* is
//! caught against a checkpoint `{id, hash, at, signature}` signed with Ed25519
//! (`ladder audit head`, `ladder audit verify --head FILE`).
//!
//! Chains written before the key existed: those entries were hashed with plain SHA-256
//! ("legacy", `ladder-audit-v1`). On the first start with a key, one keyed entry
//! `audit.keyed` is appended that names how many legacy entries precede it; from then on
//! legacy entries are accepted only before that seal, and everything after it must be keyed.
//! The legacy part is as strong as it always was (anyone with database access could have
//! rewritten it before the upgrade); the seal fixes it as of the upgrade.

use crate::db::{DbConnection, schema};
use crate::models::audit::{self as rows, AuditEntry, NewAuditEntry};
use anyhow::Context;
use diesel::RunQueryDsl;
use ed25519_dalek::{Signer, Verifier};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The action of the entry that seals the legacy (unkeyed) part of a chain.
pub const SEAL_ACTION: &str = "audit.keyed";

/// The secret behind the chain: the HMAC key, and the Ed25519 key derived from it that signs
/// checkpoints. Neither is ever stored in the database.
pub struct AuditKey {
    mac: Hmac<Sha256>,
    signing: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey(public {})", self.public_key_hex())
    }
}

impl AuditKey {
    /// At least 32 bytes of secret. The signing key is derived from it (an HMAC of a fixed
    /// label), so one secret is all an operator keeps.
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<AuditKey> {
        anyhow::ensure!(
            secret.len() >= 32,
            "the audit key must be at least 32 bytes (256 bits)"
        );
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .map_err(|e| anyhow::anyhow!("audit key: {e}"))?;
        let mut derive = mac.clone();
        derive.update(b"ladder-audit-ed25519-v1");
        let seed: [u8; 32] = derive.finalize().into_bytes().into();
        Ok(AuditKey {
            mac,
            signing: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }

    fn hmac_hex(&self, bytes: &[u8]) -> String {
        let mut m = self.mac.clone();
        m.update(bytes);
        hex::encode(m.finalize().into_bytes())
    }

    /// The Ed25519 public key, hex (what `GET /audit/key` serves).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.signing.verifying_key().as_bytes())
    }

    fn sign_hex(&self, bytes: &[u8]) -> String {
        hex::encode(self.signing.sign(bytes).to_bytes())
    }

    fn signature_holds(&self, bytes: &[u8], signature_hex: &str) -> bool {
        let Ok(raw) = hex::decode(signature_hex) else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(&raw) else {
            return false;
        };
        self.signing.verifying_key().verify(bytes, &sig).is_ok()
    }
}

/// The process's audit key. A global (not `web::Data`) because `record` is called inside
/// every service's transaction, from handlers, the CLI and the batch alike; it is installed
/// by `Application::prepare` before anything is written. One process serves one database,
/// so one key; tests share one fixed key (`Config::for_tests`).
static KEY: RwLock<Option<Arc<AuditKey>>> = RwLock::new(None);

pub fn install(key: AuditKey) {
    if let Ok(mut k) = KEY.write() {
        *k = Some(Arc::new(key));
    }
}

pub fn current() -> Option<Arc<AuditKey>> {
    KEY.read().ok().and_then(|k| k.clone())
}

fn key_or_error() -> diesel::QueryResult<Arc<AuditKey>> {
    current().ok_or_else(|| {
        diesel::result::Error::QueryBuilderError("the audit key is not loaded".into())
    })
}

/// Where the key came from (so the first start can tell a new key from an old one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `LADDER_AUDIT_KEY`.
    Environment,
    /// A key file beside the SQLite database that this start created.
    CreatedFile(PathBuf),
    /// A key file beside the SQLite database that was already there.
    ExistingFile(PathBuf),
    /// An in-memory SQLite database: a key for this process only.
    Ephemeral,
}

/// The key file for a SQLite database path: `ladder.db` → `ladder.db.audit-key`.
pub fn key_file_for(sqlite_path: &str) -> Option<PathBuf> {
    let path = sqlite_path.strip_prefix("sqlite://").unwrap_or(sqlite_path);
    let path = path.strip_prefix("file:").unwrap_or(path);
    if path.contains("mode=memory") {
        return None;
    }
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let mut name = Path::new(path).file_name()?.to_os_string();
    name.push(".audit-key");
    Some(Path::new(path).with_file_name(name))
}

/// Reads the key file, or creates it (mode 0600, 32 random bytes as hex) when absent. Two
/// processes starting at once: one creates, the other waits for the content and reads it.
pub fn load_or_create_key_file(path: &Path) -> anyhow::Result<(AuditKey, KeySource)> {
    use rand::RngCore;
    use std::io::Write;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(mut f) => {
            let mut secret = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut secret);
            let text = hex::encode(secret);
            f.write_all(format!("{text}\n").as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("writing the audit key file {}", path.display()))?;
            tracing::info!(path = %path.display(), "created the audit key file (keep a copy: without it the trail cannot be verified)");
            Ok((
                AuditKey::from_secret(text.as_bytes())?,
                KeySource::CreatedFile(path.to_path_buf()),
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            for _ in 0..50 {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the audit key file {}", path.display()))?;
                let text = text.trim();
                if !text.is_empty() {
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        let mode = std::fs::metadata(path)?.permissions().mode();
                        if mode & 0o077 != 0 {
                            tracing::warn!(path = %path.display(), mode = format!("{mode:o}"), "the audit key file is readable by others; chmod 600 it");
                        }
                    }
                    return Ok((
                        AuditKey::from_secret(text.as_bytes())
                            .with_context(|| format!("in {}", path.display()))?,
                        KeySource::ExistingFile(path.to_path_buf()),
                    ));
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            anyhow::bail!("the audit key file {} is empty", path.display())
        }
        Err(e) => Err(e).with_context(|| format!("creating the audit key file {}", path.display())),
    }
}

/// The key for a deployment: `LADDER_AUDIT_KEY` when given; else, for SQLite, the key file
/// beside the database (an in-memory database gets a key for the process). PostgreSQL
/// deployments must pass the key (several processes, maybe on several machines, share one
/// chain, and the database is the one place the key must not be): starting without it is
/// refused.
pub fn resolve_key(
    database_url: &str,
    configured: Option<&[u8]>,
) -> anyhow::Result<(AuditKey, KeySource)> {
    if let Some(secret) = configured {
        return Ok((
            AuditKey::from_secret(secret).context("LADDER_AUDIT_KEY")?,
            KeySource::Environment,
        ));
    }
    match crate::db::Backend::of_url(database_url) {
        crate::db::Backend::Postgres => anyhow::bail!(
            "LADDER_AUDIT_KEY is required with PostgreSQL: the audit chain's key must not live in the database; set the same value (at least 32 bytes) on every process"
        ),
        crate::db::Backend::Sqlite => match key_file_for(database_url) {
            Some(path) => load_or_create_key_file(&path),
            None => {
                use rand::RngCore;
                let mut secret = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut secret);
                Ok((
                    AuditKey::from_secret(hex::encode(secret).as_bytes())?,
                    KeySource::Ephemeral,
                ))
            }
        },
    }
}

/// The hashed fields of an entry.
struct Fields<'a> {
    prev_hash: &'a str,
    at: &'a chrono::NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

impl Fields<'_> {
    /// The canonical bytes: a JSON array of strings in fixed order, version-tagged.
    fn canonical(&self, version: &str) -> String {
        let at = self.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        serde_json::json!([
            version,
            self.prev_hash,
            at,
            self.actor,
            self.action,
            self.entity,
            self.entity_id,
            self.before,
            self.after
        ])
        .to_string()
    }

    /// HMAC-SHA256 under the audit key: what every entry carries from the key era on.
    fn keyed_hash(&self, key: &AuditKey) -> String {
        key.hmac_hex(self.canonical("ladder-audit-v2").as_bytes())
    }

    /// Plain SHA-256: entries written before the chain was keyed.
    fn legacy_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical("ladder-audit-v1").as_bytes()))
    }
}

fn fields(e: &AuditEntry) -> Fields<'_> {
    Fields {
        prev_hash: &e.prev_hash,
        at: &e.at,
        actor: &e.actor,
        action: &e.action,
        entity: &e.entity,
        entity_id: &e.entity_id,
        before: e.before_json.as_deref(),
        after: e.after_json.as_deref(),
    }
}

/// Serialises appends across processes: SQLite writers already hold the write lock
/// (`BEGIN IMMEDIATE`); on PostgreSQL a transaction-scoped advisory lock orders them.
fn lock_chain(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    if let DbConnection::Postgres(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7211)").execute(conn)?;
    }
    Ok(())
}

/// Appends one entry. Call inside the write transaction that makes the change.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<&B>,
    after: Option<&A>,
) -> diesel::QueryResult<()> {
    let before = before.map(|b| serde_json::to_string(b).unwrap_or_default());
    let after = after.map(|a| serde_json::to_string(a).unwrap_or_default());
    // API.md and the OpenAPI schema give `before`/`after` as objects (or null).
    debug_assert!(
        [&before, &after]
            .iter()
            .all(|v| v.as_deref().is_none_or(|t| t.starts_with('{'))),
        "audit {action}: before/after must be JSON objects"
    );
    let key = key_or_error()?;
    let entity_id = entity_id.to_string();
    lock_chain(conn)?;
    let prev = rows::head(conn)?
        .map(|(_, h)| h)
        .unwrap_or_else(|| GENESIS.to_string());
    let at = crate::models::now();
    let hash = Fields {
        prev_hash: &prev,
        at: &at,
        actor,
        action,
        entity,
        entity_id: &entity_id,
        before: before.as_deref(),
        after: after.as_deref(),
    }
    .keyed_hash(&key);
    rows::insert(
        conn,
        &NewAuditEntry {
            at,
            actor,
            action,
            entity,
            entity_id: &entity_id,
            before_json: before.as_deref(),
            after_json: after.as_deref(),
            prev_hash: &prev,
            hash: &hash,
        },
    )?;
    Ok(())
}

/// The outcome of walking the chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    pub entries: u64,
    /// Entries from before the chain was keyed (plain SHA-256), sealed by the `audit.keyed` entry.
    pub legacy_entries: u64,
    pub head: String,
    /// The id of the first entry whose link or hash does not hold (or the checkpoint's id
    /// when the chain is shorter than the checkpoint).
    pub first_broken_id: Option<i32>,
    pub reason: Option<String>,
}

/// A signed statement of the chain's head: keep it outside the database, and a later
/// `verify --head` proves that no entry up to it was removed or changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub id: i32,
    pub hash: String,
    /// The head entry's time (UTC, RFC 3339).
    pub at: String,
    /// Ed25519 over `["ladder-audit-checkpoint-v1", id, hash, at]` (compact JSON), hex.
    pub signature: String,
}

fn checkpoint_bytes(id: i32, hash: &str, at: &str) -> Vec<u8> {
    serde_json::json!(["ladder-audit-checkpoint-v1", id, hash, at])
        .to_string()
        .into_bytes()
}

fn rfc3339(at: &chrono::NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Signs the current head. `None` while the chain is empty.
pub fn checkpoint(conn: &mut DbConnection) -> anyhow::Result<Option<Checkpoint>> {
    let key = key_or_error()?;
    let Some(e) = rows::last(conn)? else {
        return Ok(None);
    };
    let at = rfc3339(&e.at);
    let signature = key.sign_hex(&checkpoint_bytes(e.id, &e.hash, &at));
    Ok(Some(Checkpoint {
        id: e.id,
        hash: e.hash,
        at,
        signature,
    }))
}

/// Walks the whole chain in id order, in pages, and names the first broken link.
pub fn verify(conn: &mut DbConnection) -> anyhow::Result<Verification> {
    verify_against(conn, None)
}

/// Like [`verify`], and also holds the chain to a checkpoint: its signature must be ours, and
/// its entry must still be there with the same hash and time.
pub fn verify_against(
    conn: &mut DbConnection,
    head: Option<&Checkpoint>,
) -> anyhow::Result<Verification> {
    let key = key_or_error()?;
    let mut w = Walk {
        prev: GENESIS.to_string(),
        entries: 0,
        legacy: 0,
        first_legacy: None,
        keyed_seen: false,
    };
    if let Some(cp) = head
        && !key.signature_holds(&checkpoint_bytes(cp.id, &cp.hash, &cp.at), &cp.signature)
    {
        return Ok(w.broken(
            cp.id,
            "the checkpoint's signature does not hold under this service's audit key",
        ));
    }
    let mut seen_checkpoint = false;
    let mut after = 0;
    loop {
        let page = rows::page(conn, after, 5000)?;
        if page.is_empty() {
            break;
        }
        for e in &page {
            w.entries += 1;
            if e.prev_hash != w.prev {
                return Ok(w.broken(
                    e.id,
                    "prev_hash does not match the previous entry's hash (an entry was removed or changed)",
                ));
            }
            let f = fields(e);
            if f.keyed_hash(&key) == e.hash {
                if !w.keyed_seen && w.legacy > 0 && !seals(e, w.legacy) {
                    return Ok(w.broken(
                        e.id,
                        "legacy (unkeyed) entries precede it without an audit.keyed seal",
                    ));
                }
                w.keyed_seen = true;
            } else if !w.keyed_seen && f.legacy_hash() == e.hash {
                w.legacy += 1;
                w.first_legacy.get_or_insert(e.id);
            } else if f.legacy_hash() == e.hash {
                return Ok(w.broken(
                    e.id,
                    "entry hash is plain SHA-256, not keyed: re-hashed without the audit key",
                ));
            } else {
                return Ok(w.broken(
                    e.id,
                    "entry content does not match its keyed hash (altered, or hashed under another key)",
                ));
            }
            if let Some(cp) = head
                && cp.id == e.id
            {
                seen_checkpoint = true;
                if cp.hash != e.hash || cp.at != rfc3339(&e.at) {
                    return Ok(w.broken(e.id, "entry differs from the signed checkpoint"));
                }
            }
            w.prev = e.hash.clone();
            after = e.id;
        }
    }
    if w.legacy > 0 && !w.keyed_seen {
        let id = w.first_legacy.unwrap_or_default();
        return Ok(w.broken(
            id,
            "no keyed entry: the whole chain is plain SHA-256 and not sealed under the audit key",
        ));
    }
    if let Some(cp) = head
        && !seen_checkpoint
    {
        return Ok(w.broken(
            cp.id,
            &format!(
                "the chain is shorter than the checkpoint: entry {} is missing",
                cp.id
            ),
        ));
    }
    Ok(Verification {
        ok: true,
        entries: w.entries,
        legacy_entries: w.legacy,
        head: w.prev,
        first_broken_id: None,
        reason: None,
    })
}

struct Walk {
    prev: String,
    entries: u64,
    legacy: u64,
    first_legacy: Option<i32>,
    keyed_seen: bool,
}

impl Walk {
    fn broken(&self, id: i32, reason: &str) -> Verification {
        Verification {
            ok: false,
            entries: self.entries,
            legacy_entries: self.legacy,
            head: self.prev.clone(),
            first_broken_id: Some(id),
            reason: Some(reason.into()),
        }
    }
}

/// Is `e` the seal of exactly `legacy` legacy entries?
fn seals(e: &AuditEntry, legacy: u64) -> bool {
    e.action == SEAL_ACTION
        && e.after_json
            .as_deref()
            .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
            .and_then(|v| v["legacy_entries"].as_u64())
            == Some(legacy)
}

/// On start: a chain that holds legacy (plain SHA-256) entries and no keyed entry yet gets
/// its seal, so the legacy part is fixed under the key from now on. A key file that was
/// already there while the chain is still unsealed means the chain was rewritten (or a key
/// file copied in): that is left for `verify` to report, never sealed over.
pub fn seal_legacy(conn: &mut DbConnection, source: &KeySource) -> anyhow::Result<()> {
    let key = key_or_error()?;
    crate::db::write_tx(conn, |c| -> anyhow::Result<()> {
        lock_chain(c)?;
        let mut legacy = 0u64;
        let mut after = 0;
        loop {
            let page = rows::page(c, after, 5000)?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                if fields(e).keyed_hash(&key) == e.hash {
                    return Ok(());
                }
                legacy += 1;
                after = e.id;
            }
        }
        if legacy == 0 {
            return Ok(());
        }
        if let KeySource::ExistingFile(path) = source {
            tracing::error!(path = %path.display(), legacy, "the audit chain has no keyed entry although its key file already existed; not sealing (run `ladder audit verify`)");
            return Ok(());
        }
        tracing::warn!(
            legacy,
            "sealing {legacy} legacy (plain SHA-256) audit entries under the audit key"
        );
        record::<(), _>(
            c,
            "system",
            SEAL_ACTION,
            "audit",
            after,
            None,
            Some(&serde_json::json!({"legacy_entries": legacy, "legacy_head_id": after})),
        )?;
        Ok(())
    })
}

pub fn head(conn: &mut DbConnection) -> diesel::QueryResult<(i64, String)> {
    use diesel::prelude::*;
    let count: i64 = schema::audit_log::table.count().get_result(conn)?;
    let head = rows::head(conn)?
        .map(|(_, h)| h)
        .unwrap_or_else(|| GENESIS.to_string());
    Ok((count, head))
}

/// `GET /audit` (admins): entries for an entity (and id), oldest first, a page at a time.
pub fn list(
    conn: &mut DbConnection,
    caller: &crate::services::policy::Caller,
    entity: Option<&str>,
    id: Option<&str>,
    after: i32,
    limit: i64,
) -> crate::error::AppResult<Vec<AuditEntry>> {
    use crate::services::policy::{Action, Resource};
    caller.may(Action::ReadAudit, &Resource::Any)?;
    Ok(rows::for_entity(conn, entity, id, after, limit)?)
}

/// `GET /audit/verify` (admins): [`verify`] for a caller who may read the trail.
pub fn verify_for(
    conn: &mut DbConnection,
    caller: &crate::services::policy::Caller,
) -> crate::error::AppResult<Verification> {
    use crate::services::policy::{Action, Resource};
    caller.may(Action::ReadAudit, &Resource::Any)?;
    Ok(verify(conn)?)
}
