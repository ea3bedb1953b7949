//! Bookings: the booking body, the list query, and bookings, their cancellation preview and
//! refunds as clients see them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::bookings::{self as domain, ListAs, PriceFrom};
use crate::domain::cancellation as refunds;
use crate::domain::quotes::QuoteRequest;
use crate::domain::PageRequest;
use crate::model::{
    BookingStatus, CancellationPolicy, Currency, GuestCount, Invalid, Problems, QuoteLine,
    StayRange,
};

/// A booking as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(complex)]
pub struct Booking {
    /// Id.
    pub id: Uuid,
    /// The listing.
    pub listing_id: Uuid,
    /// Who stays.
    pub guest_id: Uuid,
    /// Whose listing.
    pub host_id: Uuid,
    /// First night.
    pub check_in: NaiveDate,
    /// Departure day.
    pub check_out: NaiveDate,
    /// When check-in opens (UTC): the listing's local check-in time on `check_in`, as it was
    /// when the stay was booked. Cancellation deadlines count back from it.
    pub check_in_at: DateTime<Utc>,
    /// Guests.
    pub guests: u32,
    /// Status.
    pub status: BookingStatus,
    /// Currency of every amount.
    pub currency: Currency,
    /// What the guest pays, minor units.
    pub total_minor: i64,
    /// The priced lines.
    pub line_items: Vec<QuoteLine>,
    /// The quote it was booked from, if any.
    pub quote_id: Option<Uuid>,
    /// The listing's policy when booked.
    pub cancellation_policy: CancellationPolicy,
    /// Whether it skipped the host's approval.
    pub instant_book: bool,
    /// The payments plugin.
    pub payment_provider: String,
    /// When the current hold or request expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Why it ended (`payment_declined`, `cancelled_by_guest`, ...).
    pub end_reason: Option<String>,
    /// The refund decided at cancellation.
    pub refund_minor: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<domain::Booking> for Booking {
    fn from(b: domain::Booking) -> Self {
        Self {
            id: b.id,
            listing_id: b.listing_id,
            guest_id: b.guest_id,
            host_id: b.host_id,
            check_in: b.check_in,
            check_out: b.check_out,
            check_in_at: b.check_in_at,
            guests: b.guests,
            status: b.status,
            currency: b.currency,
            total_minor: b.total_minor,
            line_items: b.line_items,
            quote_id: b.quote_id,
            cancellation_policy: b.cancellation_policy,
            instant_book: b.instant_book,
            payment_provider: b.payment_provider,
            expires_at: b.expires_at,
            end_reason: b.end_reason,
            refund_minor: b.refund_minor,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

/// `POST /v1/bookings`: from a quote, or priced fresh from a listing and dates. Status, prices
/// and totals are the kernel's: a body naming them is refused.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBooking {
    /// Book at a quote's price (before it expires).
    pub quote_id: Option<Uuid>,
    /// Or price fresh: the listing ...
    pub listing_id: Option<Uuid>,
    /// ... first night, YYYY-MM-DD ...
    #[schema(format = Date)]
    pub check_in: Option<String>,
    /// ... departure day ...
    #[schema(format = Date)]
    pub check_out: Option<String>,
    /// ... and guests (default 1).
    #[schema(minimum = 1)]
    pub guests: Option<u32>,
    /// The payment method token for the provider (sandbox test cards: `4242424242424242`
    /// succeeds, `4000000000000002` is declined, `4000000000009995` has insufficient funds,
    /// `4000000000003220` is confirmed later by webhook; the invoice provider takes
    /// `bank_transfer`).
    #[schema(min_length = 1)]
    pub payment_method: String,
}

impl NewBooking {
    /// The booking command: a quote, or a listing with a stay, and a payment method. Every bad
    /// field is named at once.
    pub fn parse(&self) -> Result<domain::NewBooking, Vec<Invalid>> {
        let mut p = Problems::default();
        p.check(
            !self.payment_method.trim().is_empty(),
            "payment_method",
            "must not be empty",
        );
        let fresh = self.listing_id.is_some()
            || self.check_in.is_some()
            || self.check_out.is_some()
            || self.guests.is_some();
        let price = match self.quote_id {
            Some(quote_id) => {
                if fresh {
                    p.add(
                        "quote_id",
                        "give either a quote_id or a listing_id with dates, not both",
                    );
                }
                Some(PriceFrom::Quote(quote_id.into()))
            }
            None => {
                p.check(
                    self.listing_id.is_some(),
                    "listing_id",
                    "is required (or book a quote with quote_id)",
                );
                let stay =
                    match StayRange::parse(self.check_in.as_deref(), self.check_out.as_deref()) {
                        Ok(stay) => Some(stay),
                        Err(problems) => {
                            p.extend(problems);
                            None
                        }
                    };
                let guests = p.parsed("guests", GuestCount::new(self.guests.unwrap_or(1)));
                match (self.listing_id, stay, guests) {
                    (Some(listing_id), Some(stay), Some(guests)) => Some(PriceFrom::Stay(
                        listing_id.into(),
                        QuoteRequest { stay, guests },
                    )),
                    _ => None,
                }
            }
        };
        match price {
            Some(price) if p.is_empty() => Ok(domain::NewBooking {
                price,
                payment_method: self.payment_method.clone(),
            }),
            // Whatever kept `price` from being made was recorded in `p`.
            _ => Err(p.into_vec()),
        }
    }
}

/// `GET /v1/bookings` parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BookingListParams {
    /// `guest` (default: my stays) or `host` (bookings of my listings).
    #[param(pattern = "^(guest|host)$")]
    pub role: Option<String>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl BookingListParams {
    /// Whose bookings, and the page.
    pub fn parse(&self) -> Result<(ListAs, PageRequest), Vec<Invalid>> {
        let mut p = Problems::default();
        let side = match self.role.as_deref() {
            None | Some("guest") => ListAs::Guest,
            Some("host") => ListAs::Host,
            Some(_) => {
                p.add("role", "must be `guest` or `host`");
                ListAs::Guest
            }
        };
        let page = PageRequest::parse(&mut p, self.limit, self.cursor.as_deref());
        p.finish()?;
        Ok((side, page))
    }
}

/// One page of bookings, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingPage {
    /// Bookings.
    pub bookings: Vec<Booking>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<domain::BookingPage> for BookingPage {
    fn from(p: domain::BookingPage) -> Self {
        Self {
            bookings: p.bookings.into_iter().map(Booking::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// Who cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, async_graphql::Enum)]
#[serde(rename_all = "snake_case")]
#[graphql(rename_items = "snake_case")]
pub enum CancelledBy {
    /// The guest.
    Guest,
    /// The host.
    Host,
}

impl From<refunds::CancelledBy> for CancelledBy {
    fn from(by: refunds::CancelledBy) -> Self {
        match by {
            refunds::CancelledBy::Guest => CancelledBy::Guest,
            refunds::CancelledBy::Host => CancelledBy::Host,
        }
    }
}

/// The refund a cancellation would give now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct Refund {
    /// Percent of the total refunded.
    pub percent: u8,
    /// The amount, minor units (rounded down).
    pub refund_minor: i64,
    /// The rule that applies, in words.
    pub rule: String,
}

impl From<refunds::Refund> for Refund {
    fn from(r: refunds::Refund) -> Self {
        Self {
            percent: r.percent,
            refund_minor: r.refund_minor,
            rule: r.rule,
        }
    }
}

/// What cancelling now would refund.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct CancellationPreview {
    /// The booking.
    pub booking_id: Uuid,
    /// Who would be cancelling (the caller).
    pub cancelled_by: CancelledBy,
    /// The refund, by the booking's policy at this moment.
    #[serde(flatten)]
    pub refund: Refund,
    /// Currency.
    pub currency: Currency,
}

impl From<domain::CancellationPreview> for CancellationPreview {
    fn from(c: domain::CancellationPreview) -> Self {
        Self {
            booking_id: c.booking_id,
            cancelled_by: c.cancelled_by.into(),
            refund: c.refund.into(),
            currency: c.currency,
        }
    }
}
