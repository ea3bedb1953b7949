//! GraphQL's object types. The resources are REST's own response DTOs (`http::dto`, which
//! derive `SimpleObject`), so a field holds exactly what the REST body holds; here are the
//! relations between them (resolved through the request's DataLoaders), the public profile,
//! the line item, and the Relay connections every list is paged with.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{ComplexObject, Context, Object, OutputType, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::context::{app, viewer};
use super::error::{GqlResult, IntoGql};
use super::loaders::Loaders;
use crate::auth::PublicProfile;
use crate::domain::{after_item, PageRequest};
use crate::http::dto::bookings::Booking;
use crate::http::dto::calendar::{Calendar, CalendarRange};
use crate::http::dto::listings::Listing;
use crate::http::dto::payments::PaymentView;
use crate::http::dto::reviews::{Review, ReviewListParams, ReviewPage};
use crate::model::QuoteLine;

/// A page of a list, Relay-style: edges with cursors, and whether more follow.
pub(crate) type Page<T> = Connection<String, T>;

/// Builds a page: each item's edge cursor from `cursor`, `has_next` when a next page exists.
pub(crate) fn page<T: OutputType>(
    items: Vec<T>,
    has_previous: bool,
    has_next: bool,
    cursor: impl Fn(&T) -> String,
) -> Page<T> {
    let mut connection = Connection::new(has_previous, has_next);
    connection
        .edges
        .extend(items.into_iter().map(|item| Edge::new(cursor(&item), item)));
    connection
}

/// The cursor of a review's edge (reviews are ordered by publication).
pub(crate) fn review_cursor(r: &Review) -> String {
    after_item(r.published_at.unwrap_or(r.created_at), r.id)
}

/// A page request of reviews from GraphQL's `first` and `after`, checked exactly as REST checks
/// `limit` and `cursor`; and whether `after` was given.
pub(crate) fn review_request(
    first: Option<u32>,
    after: Option<String>,
) -> GqlResult<(PageRequest, bool)> {
    let has_after = after.is_some();
    let request = ReviewListParams {
        limit: first,
        cursor: after,
    }
    .parse()
    .gql()?;
    Ok((request, has_after))
}

/// A page of reviews from the domain's page.
pub(crate) fn review_page(p: ReviewPage, after: bool) -> Page<Review> {
    page(p.reviews, after, p.next_cursor.is_some(), review_cursor)
}

/// The loaders of this request.
fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

/// What anyone may see of an account: not its email, and not its role (who is an admin is
/// nobody else's business).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct Profile {
    /// Account id.
    pub(crate) id: Uuid,
    /// The name shown to others.
    pub(crate) display_name: String,
    /// When the account was created.
    pub(crate) joined_at: DateTime<Utc>,
}

impl From<PublicProfile> for Profile {
    fn from(p: PublicProfile) -> Self {
        Self {
            id: p.id.as_uuid(),
            display_name: p.display_name.as_str().to_owned(),
            joined_at: p.joined_at,
        }
    }
}

#[ComplexObject]
impl Profile {
    /// Published reviews about this person (as host or as guest), newest first.
    #[graphql(complexity = "u64::from(first.unwrap_or(20)) as usize * child_complexity")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
    ) -> GqlResult<Page<Review>> {
        let (request, has_after) = review_request(first, after)?;
        let reviews = app(ctx).reviews.of_person(self.id, request).await.gql()?;
        Ok(review_page(reviews.into(), has_after))
    }
}

/// A priced line of a quote or booking.
#[Object(name = "LineItem")]
impl QuoteLine {
    /// Machine code (`nightly`, `cleaning_fee`, …).
    async fn code(&self) -> &str {
        &self.code
    }

    /// Shown to the guest.
    async fn description(&self) -> &str {
        &self.description
    }

    /// Minor units of the quote's currency (negative for discounts).
    async fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    /// The night it prices, for nightly lines.
    async fn night(&self) -> Option<NaiveDate> {
        self.night
    }

    /// Who added it: `kernel` or a plugin id.
    async fn source(&self) -> &str {
        &self.source
    }
}

#[ComplexObject]
impl Listing {
    /// The host's public profile.
    async fn host(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        loaders(ctx).profiles.load_one(self.host_id).await
    }

    /// Published guest reviews, newest first. The first page of every listing in a result is
    /// loaded together.
    #[graphql(complexity = "u64::from(first.unwrap_or(20)) as usize * child_complexity")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        first: Option<u32>,
        after: Option<String>,
    ) -> GqlResult<Page<Review>> {
        let (parsed, has_after) = review_request(first, after)?;
        if !has_after {
            let size = first.unwrap_or(20);
            let found = loaders(ctx).reviews.load_one((self.id, size)).await?;
            let (reviews, more) = found.map_or((Vec::new(), false), |p| (p.reviews, p.more));
            return Ok(page(reviews, false, more, review_cursor));
        }
        let reviews = app(ctx)
            .reviews
            .of_listing(viewer(ctx), self.id, parsed)
            .await
            .gql()?;
        Ok(review_page(reviews.into(), has_after))
    }

    /// Per-night status and price of `[from, to)` (at most a year of nights).
    #[graphql(complexity = "10 * child_complexity")]
    async fn calendar(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> GqlResult<Calendar> {
        let nights = CalendarRange { from, to }.parse().gql()?;
        let calendar = app(ctx)
            .listings
            .calendar(viewer(ctx), self.id, nights)
            .await
            .gql()?;
        Ok(calendar.into())
    }
}

#[ComplexObject]
impl Booking {
    /// The listing booked, as the caller may see it.
    async fn listing(&self, ctx: &Context<'_>) -> GqlResult<Option<Listing>> {
        loaders(ctx).listings.load_one(self.listing_id).await
    }

    /// The guest's public profile.
    async fn guest(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        loaders(ctx).profiles.load_one(self.guest_id).await
    }

    /// The host's public profile.
    async fn host(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        loaders(ctx).profiles.load_one(self.host_id).await
    }

    /// The payments ledger, oldest first (failure details only for admins).
    async fn payments(&self, ctx: &Context<'_>) -> GqlResult<Vec<PaymentView>> {
        Ok(loaders(ctx)
            .ledgers
            .load_one(self.id)
            .await?
            .unwrap_or_default())
    }
}

#[ComplexObject]
impl Review {
    /// The author's public profile.
    async fn author(&self, ctx: &Context<'_>) -> GqlResult<Option<Profile>> {
        loaders(ctx).profiles.load_one(self.author_id).await
    }
}
