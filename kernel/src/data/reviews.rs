//! SQL for `reviews`, and the listing rating aggregate they feed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use sqlx::QueryBuilder;

use super::{dispatch, DataError, Exec};
use crate::model::{AuthorRole, ReviewStatus};

/// A review as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
#[allow(missing_docs)]
pub struct ReviewRecord {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub listing_id: Uuid,
    pub author_id: Uuid,
    /// Who is reviewed: the host for a guest's review, the guest for a host's.
    pub subject_id: Uuid,
    /// `guest` or `host`.
    pub author_role: AuthorRole,
    pub rating: i32,
    pub text: String,
    /// JSON object of sub-ratings (guest reviews).
    pub sub_ratings: Option<String>,
    /// `held`, `hidden`, `published` or `rejected`.
    pub status: ReviewStatus,
    /// Why it was held or rejected (for moderators).
    pub note: Option<String>,
    pub response: Option<String>,
    pub responded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, booking_id, listing_id, author_id, subject_id, author_role, rating, \
    text, sub_ratings, status, note, response, responded_at, created_at, updated_at, published_at";

/// Stores a review; [`DataError::UniqueViolation`] if the author already reviewed the booking.
pub async fn insert(exec: Exec<'_>, r: &ReviewRecord) -> Result<(), DataError> {
    let sql = format!(
        "INSERT INTO reviews ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, $14, $15, $16)"
    );
    dispatch!(exec, c => sqlx::query(&sql)
        .bind(r.id)
        .bind(r.booking_id)
        .bind(r.listing_id)
        .bind(r.author_id)
        .bind(r.subject_id)
        .bind(r.author_role)
        .bind(r.rating)
        .bind(&r.text)
        .bind(&r.sub_ratings)
        .bind(r.status)
        .bind(&r.note)
        .bind(&r.response)
        .bind(r.responded_at)
        .bind(r.created_at)
        .bind(r.updated_at)
        .bind(r.published_at)
        .execute(&mut *c)
        .await
        .map(|_| ()))
    .map_err(DataError::from)
}

/// A review by id.
pub async fn find(exec: Exec<'_>, id: Uuid) -> Result<Option<ReviewRecord>, DataError> {
    let sql = format!("SELECT {COLUMNS} FROM reviews WHERE id = $1");
    Ok(dispatch!(exec, c => sqlx::query_as::<_, ReviewRecord>(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Both reviews of a booking (at most one per role).
pub async fn of_booking(exec: Exec<'_>, booking: Uuid) -> Result<Vec<ReviewRecord>, DataError> {
    let sql = format!("SELECT {COLUMNS} FROM reviews WHERE booking_id = $1 ORDER BY author_role");
    Ok(dispatch!(exec, c => sqlx::query_as::<_, ReviewRecord>(&sql)
        .bind(booking)
        .fetch_all(&mut *c)
        .await)?)
}

/// Moves a review from `from` to `to`; the review as changed, or none if it was not in `from`.
pub async fn set_status(
    exec: Exec<'_>,
    id: Uuid,
    from: ReviewStatus,
    to: ReviewStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<ReviewRecord>, DataError> {
    let published = if to == ReviewStatus::Published {
        "$3"
    } else {
        "published_at"
    };
    let sql = format!(
        "UPDATE reviews SET status = $1, note = COALESCE($2, note), updated_at = $3, \
         published_at = {published} WHERE id = $4 AND status = $5 RETURNING {COLUMNS}"
    );
    Ok(dispatch!(exec, c => sqlx::query_as::<_, ReviewRecord>(&sql)
        .bind(to)
        .bind(note)
        .bind(now)
        .bind(id)
        .bind(from)
        .fetch_optional(&mut *c)
        .await)?)
}

/// Sets the host's one response; false if it already had one.
pub async fn respond(
    exec: Exec<'_>,
    id: Uuid,
    response: &str,
    now: DateTime<Utc>,
) -> Result<bool, DataError> {
    let sql = "UPDATE reviews SET response = $1, responded_at = $2, updated_at = $2 \
               WHERE id = $3 AND response IS NULL";
    let n = dispatch!(exec, c => sqlx::query(sql)
        .bind(response)
        .bind(now)
        .bind(id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Whose published reviews a page shows.
#[derive(Debug, Clone, Copy)]
pub enum About {
    /// Guests' reviews of a listing.
    Listing(Uuid),
    /// Reviews of a person (as host or as guest).
    Person(Uuid),
}

/// One page of published reviews, newest first, after the `(published_at, id)` cursor.
pub async fn published(
    exec: Exec<'_>,
    about: About,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> Result<Vec<ReviewRecord>, DataError> {
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(COLUMNS).push(" FROM reviews WHERE status = ");
        qb.push_bind(ReviewStatus::Published);
        match about {
            About::Listing(id) => {
                qb.push(" AND listing_id = ").push_bind(id);
                qb.push(" AND author_role = ").push_bind(AuthorRole::Guest);
            }
            About::Person(id) => {
                qb.push(" AND subject_id = ").push_bind(id);
            }
        }
        if let Some((at, last)) = after {
            qb.push(" AND (published_at < ").push_bind(at);
            qb.push(" OR (published_at = ").push_bind(at);
            qb.push(" AND id < ").push_bind(last).push("))");
        }
        qb.push(" ORDER BY published_at DESC, id DESC LIMIT ");
        qb.push_bind(i64::from(limit));
        qb.build_query_as::<ReviewRecord>().fetch_all(&mut *c).await
    })?)
}

/// The newest `per_listing` published guest reviews of each of `listings`, in one query (a
/// window per listing), newest first within each listing.
pub async fn newest_of_listings(
    exec: Exec<'_>,
    listings: &[Uuid],
    per_listing: u32,
) -> Result<Vec<ReviewRecord>, DataError> {
    if listings.is_empty() {
        return Ok(Vec::new());
    }
    Ok(dispatch!(exec, c => {
        let mut qb = QueryBuilder::new("SELECT ");
        qb.push(COLUMNS).push(" FROM (SELECT ").push(COLUMNS);
        qb.push(", ROW_NUMBER() OVER (PARTITION BY listing_id ORDER BY published_at DESC, id DESC) AS n");
        qb.push(" FROM reviews WHERE status = ").push_bind(ReviewStatus::Published);
        qb.push(" AND author_role = ").push_bind(AuthorRole::Guest);
        qb.push(" AND listing_id IN ");
        super::push_in(&mut qb, listings);
        qb.push(") ranked WHERE n <= ").push_bind(i64::from(per_listing));
        qb.push(" ORDER BY listing_id, published_at DESC, id DESC");
        qb.build_query_as::<ReviewRecord>().fetch_all(&mut *c).await
    })?)
}

/// Reviews in `status`, oldest first (moderation queue, reveal sweep).
pub async fn in_status(
    exec: Exec<'_>,
    status: ReviewStatus,
    limit: u32,
) -> Result<Vec<ReviewRecord>, DataError> {
    let sql =
        format!("SELECT {COLUMNS} FROM reviews WHERE status = $1 ORDER BY created_at, id LIMIT $2");
    Ok(dispatch!(exec, c => sqlx::query_as::<_, ReviewRecord>(&sql)
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&mut *c)
        .await)?)
}

/// Recomputes a listing's rating from its published guest reviews.
pub async fn refresh_rating(exec: Exec<'_>, listing: Uuid) -> Result<(), DataError> {
    let sql = "UPDATE listings SET \
        rating_avg = (SELECT AVG(CAST(rating AS DOUBLE PRECISION)) FROM reviews \
            WHERE listing_id = $1 AND author_role = $2 AND status = $3), \
        rating_count = (SELECT COUNT(*) FROM reviews \
            WHERE listing_id = $1 AND author_role = $2 AND status = $3) \
        WHERE id = $1";
    dispatch!(exec, c => sqlx::query(sql)
        .bind(listing)
        .bind(AuthorRole::Guest)
        .bind(ReviewStatus::Published)
        .execute(&mut *c)
        .await
        .map(|_| ()))?;
    Ok(())
}
