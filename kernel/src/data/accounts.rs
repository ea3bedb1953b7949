//! SQL for the `accounts` table. Emails are compared by `lower(email)`, matching the
//! `accounts_email_key` unique index on both backends.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{dispatch, DataError, Exec};

/// An account as stored. `auth` parses it into its typed `Account`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRecord {
    /// UUIDv7.
    pub id: Uuid,
    /// As the user typed it.
    pub email: String,
    /// Shown to other users.
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// `guest`, `host` or `admin`.
    pub role: String,
    /// Creation time (UTC).
    pub created_at: DateTime<Utc>,
    /// Last change (UTC).
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, email, display_name, password_hash, role, created_at, updated_at";

/// Inserts a new account; [`DataError::UniqueViolation`] if the email is taken in any case.
#[tracing::instrument(skip_all, fields(account.id = %account.id))]
pub async fn insert(exec: Exec<'_>, account: &AccountRecord) -> Result<(), DataError> {
    let sql = "INSERT INTO accounts (id, email, display_name, password_hash, role, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(account.id)
        .bind(&account.email)
        .bind(&account.display_name)
        .bind(&account.password_hash)
        .bind(&account.role)
        .bind(account.created_at)
        .bind(account.updated_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Finds an account by email, ignoring case.
#[tracing::instrument(skip_all)]
pub async fn find_by_email(
    exec: Exec<'_>,
    email: &str,
) -> Result<Option<AccountRecord>, DataError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE lower(email) = lower($1)");
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, AccountRecord>(&sql)
        .bind(email)
        .fetch_optional(&mut *c)
        .await)?,
    )
}

/// Finds an account by id.
#[tracing::instrument(skip_all, fields(account.id = %id))]
pub async fn find_by_id(exec: Exec<'_>, id: Uuid) -> Result<Option<AccountRecord>, DataError> {
    let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, AccountRecord>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?,
    )
}

/// The accounts among `ids` (any order; missing ids are left out).
#[tracing::instrument(skip_all, fields(accounts = ids.len()))]
pub async fn find_many(exec: Exec<'_>, ids: &[Uuid]) -> Result<Vec<AccountRecord>, DataError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dispatch!(exec, c => {
        let mut qb = sqlx::QueryBuilder::new(format!("SELECT {COLUMNS} FROM accounts WHERE id IN "));
        super::push_in(&mut qb, ids);
        qb.build_query_as::<AccountRecord>().fetch_all(&mut *c).await
    })?)
}

/// Writes the mutable profile fields (email, display name, password hash) of an account and
/// returns the stored row; `None` if there is no such account.
#[tracing::instrument(skip_all, fields(account.id = %id))]
pub async fn update_profile(
    exec: Exec<'_>,
    id: Uuid,
    email: &str,
    display_name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<AccountRecord>, DataError> {
    let sql = format!(
        "UPDATE accounts SET email = $2, display_name = $3, password_hash = $4, updated_at = $5 \
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    dispatch!(exec, c => sqlx::query_as::<_, AccountRecord>(&sql)
        .bind(id)
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(now)
        .fetch_optional(&mut *c)
        .await)
    .map_err(DataError::from)
}

/// Sets an account's role and returns the stored row; `None` if there is no such account.
#[tracing::instrument(skip_all, fields(account.id = %id, account.role = role))]
pub async fn set_role(
    exec: Exec<'_>,
    id: Uuid,
    role: &str,
    now: DateTime<Utc>,
) -> Result<Option<AccountRecord>, DataError> {
    let sql =
        format!("UPDATE accounts SET role = $2, updated_at = $3 WHERE id = $1 RETURNING {COLUMNS}");
    Ok(
        dispatch!(exec, c => sqlx::query_as::<_, AccountRecord>(&sql)
        .bind(id)
        .bind(role)
        .bind(now)
        .fetch_optional(&mut *c)
        .await)?,
    )
}
