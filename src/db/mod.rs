//! The database: one connection type over SQLite and PostgreSQL, the pool, migrations and
//! the write-transaction helper every service uses.

pub mod schema;

use anyhow::Context;
use diesel::Connection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::pg::PgConnection;
use diesel::r2d2::{self, CustomizeConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

/// One code path over both backends.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type DbPool = Pool<Manager>;
pub type PooledConn = PooledConnection<Manager>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Which backend a URL names. Chosen from the scheme; never a silent fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Establishes a connection for the backend the URL names (the derived `establish` tries
/// SQLite first and hides the PostgreSQL error, so we choose ourselves).
fn establish(url: &str) -> diesel::ConnectionResult<DbConnection> {
    match Backend::of_url(url) {
        Backend::Postgres => PgConnection::establish(url).map(DbConnection::Postgres),
        Backend::Sqlite => {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            SqliteConnection::establish(path).map(DbConnection::Sqlite)
        }
    }
}

/// r2d2 manager that uses our scheme-based `establish`.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        establish(&self.url).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    /// As diesel's own `ConnectionManager`: a connection dropped while its thread panics, or
    /// handed back inside a transaction (or with its transaction manager in an error state),
    /// is closed instead of pooled. Otherwise a panicking request would return a SQLite
    /// connection mid-`BEGIN IMMEDIATE`, still holding the write lock, and the next request to
    /// draw it would write inside that stale transaction.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        std::thread::panicking() || diesel::r2d2::R2D2Connection::is_broken(conn)
    }
}

/// Per-connection settings: SQLite pragmas for durability and concurrency.
#[derive(Debug)]
struct Pragmas {
    file: bool,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for Pragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Sqlite(c) = conn {
            let mut sql = String::from("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;");
            if self.file {
                sql.push_str(" PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
            }
            c.batch_execute(&sql).map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Builds the pool; fails fast (short timeout) when the database cannot be reached.
pub fn connect(url: &str, size: u32) -> anyhow::Result<DbPool> {
    let backend = Backend::of_url(url);
    let file = backend == Backend::Sqlite && url != ":memory:";
    let size = if url == ":memory:" { 1 } else { size.max(1) };
    Pool::builder()
        .max_size(size)
        .connection_timeout(Duration::from_secs(10))
        // A check-out test runs `SELECT 1` (parsed afresh each time) on every check-out. A
        // PostgreSQL connection can drop with the server, so its pool keeps the test; a
        // SQLite connection is a file handle that cannot, so its pool skips it.
        .test_on_check_out(backend == Backend::Postgres)
        .connection_customizer(Box::new(Pragmas { file }))
        .build(Manager {
            url: url.to_string(),
        })
        .with_context(|| format!("connecting to the {backend:?} database"))
}

/// Whether a short read may run on the calling thread with a connection from this pool:
/// SQLite's, whose pool skips the check-out test (see [`connect`]); a PostgreSQL check-out
/// is a network round trip (the test) before any read.
pub fn reads_inline(pool: &DbPool) -> bool {
    !pool.test_on_check_out()
}

/// Runs the migrations of the connection's backend.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<()> {
    let result = match conn {
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|_| ()),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ()),
    };
    result.map_err(|e| anyhow::anyhow!("running migrations: {e}"))
}

/// The key of the set-up lock ("ladder" in ASCII).
const SETUP_LOCK: i64 = 0x6c61_6464_6572;

/// Runs `f` (migrations, seeding, the first-start secrets) holding the set-up lock, so that
/// processes starting at once on one database set it up one after another: on PostgreSQL a
/// session advisory lock (without it, two first starts collide in `CREATE TABLE` and one
/// dies); on SQLite, a single file's writers are serialised by the database itself.
pub fn with_setup_lock<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    use diesel::RunQueryDsl;
    let postgres = matches!(conn, DbConnection::Postgres(_));
    if postgres {
        diesel::sql_query(format!("SELECT pg_advisory_lock({SETUP_LOCK})"))
            .execute(conn)
            .map_err(|e| anyhow::anyhow!("taking the set-up lock: {e}"))?;
    }
    let result = f(conn);
    if postgres {
        let unlocked = diesel::sql_query(format!("SELECT pg_advisory_unlock({SETUP_LOCK})"))
            .execute(conn)
            .map_err(|e| anyhow::anyhow!("releasing the set-up lock: {e}"));
        if result.is_ok() {
            unlocked?;
        }
    }
    result
}

/// A write transaction. On SQLite it is `BEGIN IMMEDIATE`, so a writer takes the write lock
/// up front and waits on `busy_timeout` instead of failing mid-way on a lock upgrade; on
/// PostgreSQL a plain transaction. Nested calls become savepoints.
pub fn write_tx<T, E>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let outermost = match conn {
        DbConnection::Sqlite(c) => {
            let depth = AnsiTransactionManager::transaction_manager_status_mut(c)
                .transaction_depth()
                .map_err(E::from)?;
            depth.is_none()
        }
        DbConnection::Postgres(_) => false,
    };
    if !outermost {
        return conn.transaction(f);
    }
    // SQLite has one writer at a time: inside this process, writers queue (a mutex; see
    // `WRITE_QUEUE`) instead of each polling SQLite's busy handler, whose back-off sleeps
    // (up to 100 ms a try) let late arrivals overtake and made the slowest write ~1 s under
    // 8 concurrent writers. Other processes on the same file still meet `busy_timeout`.
    let _turn = match conn {
        DbConnection::Sqlite(_) => write_turn().map_err(E::from)?,
        DbConnection::Postgres(_) => None,
    };
    if let DbConnection::Sqlite(c) = conn {
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE").map_err(E::from)?;
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)
                .map_err(E::from)?;
            Ok(value)
        }
        Err(e) => {
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// The queue of SQLite write transactions in this process (one for every database the
/// process opens: in production that is one; tests, with many databases, only queue a little).
/// parking_lot's mutex is eventually fair: a releasing writer may take it again at once (no
/// wake-up of a parked thread on every hand-off, which under load cost more than the write),
/// but a writer parked for 0.5 ms gets it next. `LADDER_SQLITE_WRITE_QUEUE=fair` hands it over
/// strictly in arrival order instead (`bench/writes` measures both).
static WRITE_QUEUE: parking_lot::Mutex<()> = parking_lot::const_mutex(());
static WRITE_QUEUE_FAIR: parking_lot::FairMutex<()> = parking_lot::const_fair_mutex(());

/// How long a writer waits for its turn: SQLite's own `busy_timeout`.
const WRITE_WAIT: Duration = Duration::from_secs(10);

thread_local! {
    /// Whether this thread holds its turn already (a write transaction on a second connection
    /// inside a first one must not wait for itself).
    static HOLDS_TURN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueueMode {
    /// Every writer polls SQLite's busy handler (the behaviour before the queue).
    Off,
    Eventual,
    Fair,
}

/// `LADDER_SQLITE_WRITE_QUEUE`: `off` restores the old behaviour, `fair` strict arrival
/// order, anything else (the default) the eventually fair queue. Read once.
fn write_queue_mode() -> QueueMode {
    static MODE: std::sync::OnceLock<QueueMode> = std::sync::OnceLock::new();
    *MODE.get_or_init(
        || match std::env::var("LADDER_SQLITE_WRITE_QUEUE").as_deref() {
            Ok("off") | Ok("0") => QueueMode::Off,
            Ok("fair") => QueueMode::Fair,
            _ => QueueMode::Eventual,
        },
    )
}

/// This thread's turn to write; released (and handed to a waiting writer) on drop.
pub struct WriteTurn {
    _guard: Guard,
}

enum Guard {
    Eventual(#[allow(dead_code)] parking_lot::MutexGuard<'static, ()>),
    Fair(#[allow(dead_code)] parking_lot::FairMutexGuard<'static, ()>),
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        HOLDS_TURN.with(|h| h.set(false));
    }
}

/// Waits for this thread's turn to write (None when it holds it already or the queue is off);
/// after [`WRITE_WAIT`] fails as SQLite would: "database is locked".
fn write_turn() -> Result<Option<WriteTurn>, diesel::result::Error> {
    let mode = write_queue_mode();
    if mode == QueueMode::Off || HOLDS_TURN.with(|h| h.get()) {
        return Ok(None);
    }
    let guard = match mode {
        QueueMode::Fair => WRITE_QUEUE_FAIR.try_lock_for(WRITE_WAIT).map(Guard::Fair),
        _ => WRITE_QUEUE.try_lock_for(WRITE_WAIT).map(Guard::Eventual),
    };
    let guard = guard.ok_or_else(|| {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::Unknown,
            Box::new(String::from("database is locked")),
        )
    })?;
    HOLDS_TURN.with(|h| h.set(true));
    Ok(Some(WriteTurn { _guard: guard }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write transaction on a second database inside a first one's (same thread) must not
    /// wait for its own turn in the write queue (it would wait out `WRITE_WAIT` and fail).
    #[test]
    fn a_write_inside_a_write_on_another_database_does_not_wait_for_itself() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
        let (a, b) = (
            connect(&url("a.db"), 2).unwrap_or_else(|e| panic!("{e}")),
            connect(&url("b.db"), 2).unwrap_or_else(|e| panic!("{e}")),
        );
        let (mut ca, mut cb) = (
            a.get().unwrap_or_else(|e| panic!("{e}")),
            b.get().unwrap_or_else(|e| panic!("{e}")),
        );
        let started = std::time::Instant::now();
        let done: Result<(), diesel::result::Error> = write_tx(&mut ca, |ca| {
            ca.batch_execute("CREATE TABLE t (x INTEGER)")?;
            write_tx(&mut cb, |cb| cb.batch_execute("CREATE TABLE u (x INTEGER)"))
        });
        assert!(done.is_ok(), "{done:?} after {:?}", started.elapsed());
    }
}
