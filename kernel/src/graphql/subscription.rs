//! The subscription root, served over `graphql-transport-ws` at `/graphql/ws` (`ws`): what
//! happens to the signed-in caller, as it happens, from the domain's live updates. A
//! subscription ends with an error when its session ends (`invalid_token`) or when it fell too
//! far behind (`updates_missed`: subscribe again and read the current state).

use async_graphql::{ComplexObject, Context, SimpleObject, Subscription as GqlSubscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use uuid::Uuid;

use super::context::{app, signed_in};
use super::error::{GqlResult, IntoGql};
use crate::domain::bookings::BookingChange as Change;
use crate::domain::updates::Watch;
use crate::http::dto::bookings::Booking;
use crate::http::dto::notifications::InboxMessage;
use crate::model::BookingStatus;

/// The subscription root. (Its fields spell out `async_graphql::Result`: the macro knows a
/// fallible stream by that name, not by our alias.)
pub(crate) struct Subscription;

#[GqlSubscription]
impl Subscription {
    /// Each message put in the caller's inbox from now on.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = GqlResult<InboxMessage>>> {
        let who = signed_in(ctx)?;
        Ok(updates(app(ctx).updates.inbox(who)))
    }

    /// Each status a booking of the caller's (as guest or as host) reaches from now on; only
    /// booking `id`'s when given.
    async fn booking_changed(
        &self,
        ctx: &Context<'_>,
        id: Option<Uuid>,
    ) -> async_graphql::Result<impl Stream<Item = GqlResult<BookingChange>>> {
        let who = signed_in(ctx)?;
        Ok(updates(app(ctx).updates.bookings(who, id)))
    }
}

/// A watch as GraphQL items: each update, then its end as an error if it ended with one.
fn updates<T, U: From<T>>(watch: Watch<T>) -> impl Stream<Item = GqlResult<U>> {
    watch.map(|update| update.map(U::from)).map(IntoGql::gql)
}

/// A booking of the caller's reached a status.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub(crate) struct BookingChange {
    /// The booking.
    booking_id: Uuid,
    /// What happened, as the event's kind: `booking_confirmed`, `booking_cancelled`, …
    event: String,
    /// The status it reached.
    status: BookingStatus,
    /// When.
    occurred_at: DateTime<Utc>,
}

impl From<Change> for BookingChange {
    fn from(c: Change) -> Self {
        Self {
            booking_id: c.booking_id,
            event: c.event,
            status: c.status,
            occurred_at: c.occurred_at,
        }
    }
}

#[ComplexObject]
impl BookingChange {
    /// The booking as it is now, as the caller may see it.
    async fn booking(&self, ctx: &Context<'_>) -> GqlResult<Booking> {
        let who = signed_in(ctx)?;
        Ok(app(ctx)
            .bookings
            .get(who, self.booking_id)
            .await
            .gql()?
            .into())
    }
}
