//! Data: the database pools (SQLite or PostgreSQL, chosen by the URL's scheme), migrations, and
//! one module per aggregate holding all of its SQL.
//!
//! sqlx's checked macros bind a crate to one database and we serve two, so queries are runtime
//! `query_as` calls with `FromRow` rows that each module converts into kernel types. SQL that is
//! the same on both backends is written once and run through `dispatch!`; where dialects differ
//! a module says so beside the query.

pub mod accounts;
pub mod bookings;
pub mod calendar;
pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod listings;
pub mod notifications;
pub mod payments;
pub mod quotes;
pub mod reviews;
pub mod sessions;
mod writers;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::Notify;

use crate::config::{DatabaseBackend, DatabaseConfig};

pub use writers::{in_background, WriteTurn};

/// Migrations, embedded in the binary so `hearth migrate` needs no source tree.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The current time at the precision both databases store (microseconds), so what a write
/// returns is exactly what a later read returns.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// Errors from the data layer. Every query's error is classified on its way in
/// (`From<sqlx::Error>`), so a violated constraint is never a silent 500; the function that owns a
/// constraint maps it to what it means there (e.g. [`DataError::NightsTaken`]).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A unique constraint was violated.
    #[error("unique constraint violated")]
    UniqueViolation,
    /// An exclusion constraint was violated (PostgreSQL: overlapping bookings).
    #[error("exclusion constraint violated")]
    ExclusionViolation,
    /// A foreign key points nowhere (or a referenced row is still in use).
    #[error("foreign key violated")]
    ForeignKeyViolation,
    /// Some night of a stay is already booked or blocked: a booking cannot hold it.
    #[error("some nights are already booked or blocked")]
    NightsTaken,
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be turned into its kernel type: the data is corrupt.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for DataError {
    /// Classifies constraint violations the same way on both backends (SQLite reports no
    /// constraint names and has no exclusion constraints; PostgreSQL's SQLSTATE 23P01 is one).
    fn from(error: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match error.as_database_error() {
            Some(db) if db.code().as_deref() == Some("23P01") => DataError::ExclusionViolation,
            Some(db) => match db.kind() {
                ErrorKind::UniqueViolation => DataError::UniqueViolation,
                ErrorKind::ForeignKeyViolation => DataError::ForeignKeyViolation,
                _ => DataError::Database(error),
            },
            None => DataError::Database(error),
        }
    }
}

/// Pushes `(v1, v2, ...)` as bound parameters, for `IN` lists: values are never formatted into
/// SQL text. `values` must not be empty.
pub(crate) fn push_in<'a, DB, T>(qb: &mut sqlx::QueryBuilder<'a, DB>, values: &'a [T])
where
    DB: sqlx::Database,
    T: 'a + sqlx::Encode<'a, DB> + sqlx::Type<DB> + Copy + Send,
{
    debug_assert!(!values.is_empty(), "an empty IN list is not SQL");
    qb.push("(");
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(*v);
    }
    list.push_unseparated(")");
}

/// A database pool of whichever backend the configuration chose. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Database {
    pool: Pool,
    /// Signalled after every transaction this process commits (see [`Database::commits`]).
    commits: Arc<Notify>,
    /// SQLite's writers, in line (see the `writers` module); none on PostgreSQL.
    writers: Option<Arc<writers::Line>>,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A borrowed connection (pooled or inside a transaction) of either backend: what every data
/// function takes.
pub enum Exec<'c> {
    /// SQLite.
    Sqlite(&'c mut SqliteConnection),
    /// PostgreSQL.
    Postgres(&'c mut PgConnection),
}

impl Exec<'_> {
    /// Borrows again, for a function that runs several statements on one connection.
    pub fn reborrow(&mut self) -> Exec<'_> {
        match self {
            Exec::Sqlite(c) => Exec::Sqlite(c),
            Exec::Postgres(c) => Exec::Postgres(c),
        }
    }
}

/// Runs the same query code against whichever backend an [`Exec`] holds. `$c` is bound to the
/// backend's `&mut Connection`.
macro_rules! dispatch {
    ($exec:expr, $c:ident => $body:expr) => {
        match $exec {
            $crate::data::Exec::Sqlite($c) => $body,
            $crate::data::Exec::Postgres($c) => $body,
        }
    };
}
pub(crate) use dispatch;

/// A connection checked out of the pool: for reads ([`Database::acquire`]), or for writes
/// outside a transaction ([`Database::write`]), which on SQLite holds the writer's turn.
pub struct Conn {
    inner: ConnInner,
    _turn: WriteTurn,
}

enum ConnInner {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Conn {
    /// Borrows the connection for data functions.
    pub fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            ConnInner::Sqlite(c) => Exec::Sqlite(c),
            ConnInner::Postgres(c) => Exec::Postgres(c),
        }
    }
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx {
    inner: TxInner,
    commits: Arc<Notify>,
    /// This writer's turn, given up when the transaction ends.
    _turn: WriteTurn,
}

enum TxInner {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Tx {
    /// Borrows the transaction for data functions.
    pub fn exec(&mut self) -> Exec<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Exec::Sqlite(t),
            TxInner::Postgres(t) => Exec::Postgres(t),
        }
    }

    /// Commits, then signals [`Database::commits`].
    pub async fn commit(self) -> Result<(), DataError> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        self.commits.notify_one();
        Ok(())
    }
}

impl Database {
    /// Opens a pool for the configured URL. SQLite runs in WAL mode with foreign keys on and a
    /// busy timeout, and the file (and its folder) is created if missing.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self, DataError> {
        let url = config.url.expose();
        let pool = match config.url.backend() {
            DatabaseBackend::Sqlite => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_millis(config.busy_timeout_ms.get()));
                if let Some(dir) = options.get_filename().parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
                    }
                }
                Pool::Sqlite(
                    SqlitePoolOptions::new()
                        .max_connections(config.max_connections.get())
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_with(options)
                        .await?,
                )
            }
            DatabaseBackend::Postgres => Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(config.max_connections.get())
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(PgConnectOptions::from_str(url)?)
                    .await?,
            ),
        };
        let writers = matches!(pool, Pool::Sqlite(_))
            .then(|| writers::Line::new(Duration::from_millis(config.busy_timeout_ms.get())));
        Ok(Self {
            pool,
            commits: Arc::new(Notify::new()),
            writers,
        })
    }

    /// Which backend this is.
    pub fn backend(&self) -> DatabaseBackend {
        match self.pool {
            Pool::Sqlite(_) => DatabaseBackend::Sqlite,
            Pool::Postgres(_) => DatabaseBackend::Postgres,
        }
    }

    /// Applies pending migrations for this backend.
    pub async fn migrate(&self) -> Result<(), DataError> {
        match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await?,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await?,
        }
        Ok(())
    }

    /// Checks out a connection for reading.
    pub async fn acquire(&self) -> Result<Conn, DataError> {
        self.connection(WriteTurn::none()).await
    }

    /// Checks out a connection for writes outside a transaction (single statements, each its
    /// own commit). On SQLite it first waits for its turn like [`Database::begin`], so such a
    /// write queues behind the transaction before it instead of sleeping in SQLite's busy
    /// handler, and holds the turn until the connection is dropped: write, then let it go.
    pub async fn write(&self) -> Result<Conn, DataError> {
        let turn = self.turn().await?;
        self.connection(turn).await
    }

    async fn connection(&self, turn: WriteTurn) -> Result<Conn, DataError> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => ConnInner::Sqlite(p.acquire().await?),
            Pool::Postgres(p) => ConnInner::Postgres(p.acquire().await?),
        };
        Ok(Conn { inner, _turn: turn })
    }

    /// Waits for this process's turn to write to SQLite (at once on PostgreSQL): for a writer
    /// that keeps its own connection (the outbox relay) and writes on it now and then. Code
    /// that also waits for a pooled connection takes the turn first, as [`Database::begin`]
    /// and [`Database::write`] do, so no turn is held while waiting for the pool.
    pub async fn turn(&self) -> Result<WriteTurn, DataError> {
        match &self.writers {
            Some(line) => line
                .take(writers::Lane::current())
                .await
                .map_err(|writers::TimedOut| DataError::Database(sqlx::Error::PoolTimedOut)),
            None => Ok(WriteTurn::none()),
        }
    }

    /// Starts a transaction. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`):
    /// every transaction here writes, and a deferred one that read first cannot upgrade once
    /// another connection has written meanwhile (`SQLITE_BUSY`, which the busy timeout does not
    /// cover). Waiting for the lock at the start is covered, and in this process writers wait
    /// in line rather than in SQLite's busy handler, requests before background work (see
    /// [`in_background`]); a transaction that waited longer than `database.busy_timeout_ms`
    /// for its turn fails as a timeout.
    pub async fn begin(&self) -> Result<Tx, DataError> {
        let turn = self.turn().await?;
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(p) => TxInner::Postgres(p.begin().await?),
        };
        Ok(Tx {
            inner,
            commits: self.commits.clone(),
            _turn: turn,
        })
    }

    /// Signalled (one stored permit, as [`Notify::notify_one`]) after any transaction this
    /// process commits: what the outbox relay waits on between polls, since every event is
    /// written in such a transaction. Writes of other processes are seen at the next poll.
    pub fn commits(&self) -> &Notify {
        &self.commits
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), DataError> {
        let mut conn = self.acquire().await?;
        dispatch!(conn.exec(), c => sqlx::query("SELECT 1").execute(&mut *c).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes every connection (on shutdown).
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
