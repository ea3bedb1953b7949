//! `Query`: every read a client screen needs, each parsed by the same DTO parser and answered
//! by the same domain call as its REST twin (noted on each field).

use async_graphql::connection::Edge;
use async_graphql::{Context, InputObject, Json, Object};
use uuid::Uuid;

use super::context::{admin, app, signed_in, spend, viewer};
use super::error::{GqlResult, IntoGql};
use super::types::{page, review_page, review_request, Page, Profile};
use crate::domain::after_item;
use crate::domain::listings::SearchCursor;
use crate::http::dto::bookings::{Booking, BookingListParams, CancellationPreview};
use crate::http::dto::listings::Listing;
use crate::http::dto::notifications::{InboxMessage, InboxParams};
use crate::http::dto::quotes::{Quote, QuoteParams};
use crate::http::dto::reviews::{HeldReview, Review};
use crate::http::dto::search::SearchParams;
use crate::http::limits::RouteBudget;
use crate::http::routes::accounts::AccountView;
use crate::http::routes::plugins::{PluginList, PluginView};

/// The search filters of `GET /v1/listings`, with the same names and rules.
#[derive(Debug, Default, InputObject)]
pub(crate) struct ListingFilter {
    /// City, case-insensitive.
    city: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    country: Option<String>,
    /// A bounding box `min_lat,min_lng,max_lat,max_lng`.
    bbox: Option<String>,
    /// Centre latitude for a radius search (with `lng` and `radiusKm`).
    lat: Option<f64>,
    /// Centre longitude for a radius search.
    lng: Option<f64>,
    /// Radius in km (at most 500).
    radius_km: Option<f64>,
    /// Lowest nightly price, minor units.
    min_price: Option<i64>,
    /// Highest nightly price, minor units.
    max_price: Option<i64>,
    /// Only listings priced in this currency.
    currency: Option<String>,
    /// Guests who must fit.
    guests: Option<u32>,
    /// Amenities the listing must all have.
    amenities: Option<Vec<String>>,
    /// With `checkOut`: only listings free for every night of the stay (YYYY-MM-DD).
    check_in: Option<String>,
    /// Departure day (YYYY-MM-DD).
    check_out: Option<String>,
    /// `price` (default), `price_desc`, `rating`, `newest`.
    sort: Option<String>,
}

/// The root of every read.
pub(crate) struct Query;

#[Object]
impl Query {
    /// The caller's own account (`GET /v1/me`).
    async fn me(&self, ctx: &Context<'_>) -> GqlResult<AccountView> {
        let who = signed_in(ctx)?;
        Ok(app(ctx).auth.account(who.account_id).await.gql()?.into())
    }

    /// A listing (`GET /v1/listings/{id}`): drafts only for their host and admins; the exact
    /// address only for the host, admins and guests with a confirmed booking.
    async fn listing(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Listing> {
        let listing = app(ctx).listings.shown_to(viewer(ctx), id).await.gql()?;
        Ok(listing.into())
    }

    /// Published listings matching `filter` (`GET /v1/listings`), one page at a time.
    #[graphql(complexity = "u64::from(first.unwrap_or(20)) as usize * child_complexity")]
    async fn listings(
        &self,
        ctx: &Context<'_>,
        filter: Option<ListingFilter>,
        first: Option<u32>,
        after: Option<String>,
    ) -> GqlResult<Page<Listing>> {
        let f = filter.unwrap_or_default();
        let has_after = after.is_some();
        let params = SearchParams {
            city: f.city,
            country: f.country,
            bbox: f.bbox,
            lat: f.lat,
            lng: f.lng,
            radius_km: f.radius_km,
            min_price: f.min_price,
            max_price: f.max_price,
            currency: f.currency,
            guests: f.guests,
            amenities: f.amenities.map(|a| a.join(",")),
            check_in: f.check_in,
            check_out: f.check_out,
            sort: f.sort,
            limit: first,
            cursor: after,
        };
        let query = params.parse().gql()?;
        let sort = query.sort;
        let found = app(ctx).listings.search(&query).await.gql()?;
        let mut connection = Page::new(has_after, found.next_cursor.is_some());
        connection.edges.extend(
            found
                .listings
                .into_iter()
                .map(|l| Edge::new(SearchCursor::of(sort, &l), Listing::from(l))),
        );
        Ok(connection)
    }

    /// Prices a stay (`GET /v1/listings/{id}/quote`, under the same `quotes` budget). A
    /// signed-in caller's quote is stored and can be booked by its `quoteId`.
    async fn quote(
        &self,
        ctx: &Context<'_>,
        listing_id: Uuid,
        check_in: String,
        check_out: String,
        guests: Option<u32>,
    ) -> GqlResult<Quote> {
        spend(ctx, RouteBudget::Quotes).await?;
        let request = QuoteParams {
            check_in: Some(check_in),
            check_out: Some(check_out),
            guests,
        }
        .parse()
        .gql()?;
        let quote = app(ctx)
            .quotes
            .quote(viewer(ctx), listing_id.into(), &request)
            .await
            .gql()?;
        Ok(quote.into())
    }

    /// A booking the caller takes part in (`GET /v1/bookings/{id}`); not found for anyone
    /// else.
    async fn booking(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Booking> {
        let who = signed_in(ctx)?;
        Ok(app(ctx).bookings.get(who, id).await.gql()?.into())
    }

    /// The caller's bookings as `guest` (default) or of their listings as `host`, newest first
    /// (`GET /v1/bookings`).
    #[graphql(complexity = "u64::from(first.unwrap_or(20)) as usize * child_complexity")]
    async fn bookings(
        &self,
        ctx: &Context<'_>,
        role: Option<String>,
        first: Option<u32>,
        after: Option<String>,
    ) -> GqlResult<Page<Booking>> {
        let who = signed_in(ctx)?;
        let has_after = after.is_some();
        let (side, request) = BookingListParams {
            role,
            limit: first,
            cursor: after,
        }
        .parse()
        .gql()?;
        let found = app(ctx).bookings.list(who, side, request).await.gql()?;
        let more = found.next_cursor.is_some();
        let items = found.bookings.into_iter().map(Booking::from).collect();
        Ok(page(items, has_after, more, |b: &Booking| {
            after_item(b.created_at, b.id)
        }))
    }

    /// What cancelling a booking now would refund (`GET /v1/bookings/{id}/cancellation`).
    async fn cancellation_preview(
        &self,
        ctx: &Context<'_>,
        booking_id: Uuid,
    ) -> GqlResult<CancellationPreview> {
        let who = signed_in(ctx)?;
        let preview = app(ctx)
            .bookings
            .cancellation(who, booking_id)
            .await
            .gql()?;
        Ok(preview.into())
    }

    /// A listing's published guest reviews, newest first (`GET /v1/listings/{id}/reviews`).
    #[graphql(complexity = "u64::from(first.unwrap_or(20)) as usize * child_complexity")]
    async fn listing_reviews(
        &self,
        ctx: &Context<'_>,
        listing_id: Uuid,
        first: Option<u32>,
        after: Option<String>,
    ) -> GqlResult<Page<Review>> {
        let (request, has_after) = review_request(first, after)?;
        let reviews = app(ctx)
            .reviews
            .of_listing(viewer(ctx), listing_id, request)
            .await
            .gql()?;
        Ok(review_page(reviews.into(), has_after))
    }

    /// A person's public profile, with the reviews about them.
    async fn user(&self, ctx: &Context<'_>, id: Uuid) -> GqlResult<Option<Profile>> {
        let found = app(ctx).auth.profiles(&[id.into()]).await.gql()?;
        Ok(found.into_iter().next().map(Profile::from))
    }

    /// The caller's inbox, newest first (`GET /v1/notifications`).
    #[graphql(complexity = "u64::from(first.unwrap_or(20)) as usize * child_complexity")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        unread: Option<bool>,
        first: Option<u32>,
        after: Option<String>,
    ) -> GqlResult<Page<InboxMessage>> {
        let who = signed_in(ctx)?;
        let has_after = after.is_some();
        let (unread, request) = InboxParams {
            unread: unread.unwrap_or(false),
            limit: first,
            cursor: after,
        }
        .parse()
        .gql()?;
        let found = app(ctx)
            .notifications
            .inbox(who, unread, request)
            .await
            .gql()?;
        let more = found.next_cursor.is_some();
        let items = found.items.into_iter().map(InboxMessage::from).collect();
        Ok(page(items, has_after, more, |m: &InboxMessage| {
            after_item(m.created_at, m.id)
        }))
    }

    /// Reviews held for moderation, oldest first (admins; `GET /v1/admin/reviews`).
    async fn held_reviews(&self, ctx: &Context<'_>) -> GqlResult<Vec<HeldReview>> {
        admin(ctx)?;
        let held = app(ctx).reviews.held().await.gql()?;
        Ok(held.into_iter().map(HeldReview::from).collect())
    }

    /// The loaded plugins with their pins, limits and counters (admins; the body of
    /// `GET /v1/admin/plugins`).
    async fn plugins(&self, ctx: &Context<'_>) -> GqlResult<Json<PluginList>> {
        admin(ctx)?;
        let set = app(ctx).plugins.current();
        Ok(Json(PluginList {
            plugins: set.iter().map(|p| PluginView::from(p.as_ref())).collect(),
        }))
    }

    /// Job counts by state and the latest dead letters (admins; the body of
    /// `GET /v1/admin/jobs`). `deadLimit` is 1 to 500 (default 50).
    async fn jobs(
        &self,
        ctx: &Context<'_>,
        dead_limit: Option<u32>,
    ) -> GqlResult<Json<crate::jobs::Overview>> {
        admin(ctx)?;
        let limit = dead_limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            let problem = crate::model::Invalid::new("dead_limit", "must be 1 to 500");
            return Err::<Json<crate::jobs::Overview>, _>(vec![problem]).gql();
        }
        Ok(Json(app(ctx).jobs.overview(limit).await.gql()?))
    }
}
