//! Bookings: the state machine, no double booking, and the payment steps that move a booking.
//!
//! ```text
//! pending_payment ──authorized──▶ requested ──accept (capture)──▶ confirmed ──check-out──▶ completed
//!       │  (instant book: authorized → capture → confirmed)   │                  │
//!       ├─ declined / error / hold expires ─▶ cancelled | expired                └─ cancel (refund per policy) ─▶ cancelled
//!       └─ cancel ─▶ cancelled            requested ─ decline ─▶ declined, ─ cancel ─▶ cancelled, ─ 24 h ─▶ expired
//! ```
//!
//! One file per command: `create` (book), `confirm` (accept, capture), `cancel` (decline,
//! cancel, release), the timers and the provider webhooks; every arrow above is one function of
//! `transitions`, which writes its event in the same transaction and names the statuses it may
//! leave, so two racing changes cannot both apply. Nights are held by active bookings
//! ([`BookingStatus::ACTIVE`]) through `data::bookings::hold_nights`, which refuses an overlap on
//! either backend. Money moves as described in [`super::payments`]: intent, provider call,
//! result, never a transaction held across the call.

mod cancel;
mod confirm;
mod create;
mod events;
mod timers;
mod transitions;
mod webhooks;

pub use events::BookingChange;
pub use timers::{CompleteStays, ExpireBookings, ReconcilePayments};
pub use webhooks::WebhookOutcome;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::cancellation::{CancelledBy, Refund};
use super::listings::Listings;
use super::payments::{PaymentView, Payments};
use super::quotes::{QuoteRequest, Quotes};
use super::{cursor, now, DomainError, PageRequest, Resource};
use crate::auth::{Principal, Role};
use crate::config::BookingsConfig;
use crate::data::bookings::{self as store, BookingRecord, Changes, Party};
use crate::data::payments as ledger;
use crate::data::{DataError, Database};
use crate::model::{
    BookingStatus, CancellationPolicy, Currency, GuestCount, ListingId, QuoteId, QuoteLine,
    StayRange,
};

/// A payment as `who` may see it: the provider's own words are for admins; the parties see
/// the failure's code.
fn shown(who: &Principal, payment: ledger::PaymentRecord) -> PaymentView {
    let admin = who.role == Role::Admin;
    let view = PaymentView::from(payment);
    PaymentView {
        detail: view.detail.filter(|_| admin),
        ..view
    }
}

/// A booking.
#[derive(Debug, Clone)]
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
    /// When check-in opens: the listing's local check-in time on `check_in` when it was booked.
    /// Cancellation deadlines count back from it.
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

fn to_booking(r: BookingRecord) -> Result<Booking, DomainError> {
    let corrupt = |what: &str| DataError::Corrupt(format!("booking {}: {what}", r.id));
    Ok(Booking {
        id: r.id,
        listing_id: r.listing_id,
        guest_id: r.guest_id,
        host_id: r.host_id,
        check_in: r.check_in,
        check_out: r.check_out,
        check_in_at: r.check_in_at,
        guests: u32::try_from(r.guests).map_err(|_| corrupt("guests"))?,
        status: r.status,
        currency: r.currency,
        total_minor: r.total_minor,
        line_items: r.line_items.0,
        quote_id: r.quote_id,
        cancellation_policy: r.cancellation_policy,
        instant_book: r.instant_book,
        payment_provider: r.provider,
        expires_at: r.expires_at,
        end_reason: r.end_reason,
        refund_minor: r.refund_minor,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// What a new booking is priced from.
#[derive(Debug, Clone)]
pub enum PriceFrom {
    /// A stored quote, at its price (before it expires).
    Quote(QuoteId),
    /// A stay at a listing, priced now.
    Stay(ListingId, QuoteRequest),
}

/// A booking to make. Status, prices and totals are the kernel's, never the caller's.
#[derive(Debug, Clone)]
pub struct NewBooking {
    /// Where the price comes from.
    pub price: PriceFrom,
    /// The payment method token for the provider (not blank).
    pub payment_method: String,
}

/// Whose bookings to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListAs {
    /// The caller's own stays.
    Guest,
    /// The bookings of the caller's listings.
    Host,
}

/// One page of bookings, newest first.
#[derive(Debug, Clone)]
pub struct BookingPage {
    /// Bookings.
    pub bookings: Vec<Booking>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// What cancelling now would refund.
#[derive(Debug, Clone)]
pub struct CancellationPreview {
    /// The booking.
    pub booking_id: Uuid,
    /// Who would be cancelling (the caller).
    pub cancelled_by: CancelledBy,
    /// The refund, by the booking's policy at this moment.
    pub refund: Refund,
    /// Currency.
    pub currency: Currency,
}

/// A stay with its price, from a quote or priced fresh.
struct Priced {
    listing_id: Uuid,
    stay: StayRange,
    guests: GuestCount,
    currency: Currency,
    total_minor: i64,
    line_items: Vec<QuoteLine>,
    quote: QuoteFrom,
}

/// Where a booking's price came from.
enum QuoteFrom {
    /// A quote the guest asked for earlier.
    Stored(Uuid),
    /// Priced for this booking: stored in the transaction that holds the nights.
    Fresh(crate::data::quotes::QuoteRecord),
}

impl Priced {
    /// The quote the booking keeps: every booking has one.
    fn quote_id(&self) -> Uuid {
        match &self.quote {
            QuoteFrom::Stored(id) => *id,
            QuoteFrom::Fresh(record) => record.id,
        }
    }
}

/// The bookings service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Bookings {
    db: Database,
    listings: Listings,
    quotes: Quotes,
    payments: Payments,
    config: BookingsConfig,
}

impl Bookings {
    /// The service.
    pub fn new(
        db: Database,
        listings: Listings,
        quotes: Quotes,
        payments: Payments,
        config: &BookingsConfig,
    ) -> Self {
        Self {
            db,
            listings,
            quotes,
            payments,
            config: config.clone(),
        }
    }

    pub(super) fn request_deadline(&self) -> DateTime<Utc> {
        now() + chrono::Duration::hours(i64::from(self.config.request_hours.get()))
    }

    pub(super) async fn lock(
        &self,
        tx: &mut crate::data::Tx,
        id: Uuid,
        states: &[BookingStatus],
    ) -> Result<BookingRecord, DomainError> {
        let current = store::find(tx.exec(), id)
            .await?
            .ok_or(DomainError::NotFound(Resource::Booking))?;
        let changes = Changes {
            expires_at: current.expires_at,
            ..Changes::default()
        };
        store::transition(tx.exec(), &current, states, current.status, &changes, now())
            .await?
            .ok_or_else(|| DomainError::Conflict {
                code: "booking_state_changed",
                detail: format!("the booking is {}", current.status),
            })
    }

    pub(super) async fn get_record(&self, id: Uuid) -> Result<BookingRecord, DomainError> {
        let mut conn = self.db.acquire().await?;
        store::find(conn.exec(), id)
            .await?
            .ok_or(DomainError::NotFound(Resource::Booking))
    }

    /// A booking the caller takes part in (guest, host, or admin); 404 for anyone else.
    pub(super) async fn visible(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<BookingRecord, DomainError> {
        let record = self.get_record(id).await?;
        let me = who.account_id.as_uuid();
        if record.guest_id == me || record.host_id == me || who.role == Role::Admin {
            Ok(record)
        } else {
            Err(DomainError::NotFound(Resource::Booking))
        }
    }

    /// One booking.
    pub async fn get(&self, who: &Principal, id: Uuid) -> Result<Booking, DomainError> {
        to_booking(self.visible(who, id).await?)
    }

    /// The booking's payments ledger.
    pub async fn payments(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<Vec<PaymentView>, DomainError> {
        self.visible(who, id).await?;
        let mut conn = self.db.acquire().await?;
        let ledger = ledger::of_booking(conn.exec(), id).await?;
        Ok(ledger.into_iter().map(|p| shown(who, p)).collect())
    }

    /// The payments ledgers of many bookings at once (GraphQL's loader), in two queries: the
    /// bookings, to keep only those the caller takes part in, and their payments. A booking
    /// the caller may not see, or that does not exist, is left out.
    pub async fn ledgers(
        &self,
        who: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Vec<PaymentView>)>, DomainError> {
        let me = who.account_id.as_uuid();
        let mut conn = self.db.acquire().await?;
        let mine: Vec<Uuid> = store::find_many(conn.exec(), ids)
            .await?
            .into_iter()
            .filter(|b| b.guest_id == me || b.host_id == me || who.role == Role::Admin)
            .map(|b| b.id)
            .collect();
        let mut ledgers: Vec<(Uuid, Vec<PaymentView>)> =
            mine.iter().map(|id| (*id, Vec::new())).collect();
        for payment in ledger::of_bookings(conn.exec(), &mine).await? {
            if let Some((_, views)) = ledgers.iter_mut().find(|(id, _)| *id == payment.booking_id) {
                views.push(shown(who, payment));
            }
        }
        Ok(ledgers)
    }

    /// The caller's bookings as guest, or of their listings as host; newest first.
    pub async fn list(
        &self,
        who: &Principal,
        side: ListAs,
        page: PageRequest,
    ) -> Result<BookingPage, DomainError> {
        let me = who.account_id.as_uuid();
        let party = match side {
            ListAs::Guest => Party::Guest(me),
            ListAs::Host => Party::Host(me),
        };
        let mut conn = self.db.acquire().await?;
        let rows = store::list(conn.exec(), party, page.after, page.limit + 1).await?;
        let (rows, next_cursor) = cursor::page(rows, page.limit, |r| Some((r.created_at, r.id)));
        Ok(BookingPage {
            bookings: rows.into_iter().map(to_booking).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }

    pub(super) fn require_host(who: &Principal, b: &BookingRecord) -> Result<(), DomainError> {
        if b.host_id == who.account_id.as_uuid() || who.role == Role::Admin {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    pub(super) fn require_status(
        b: &BookingRecord,
        status: BookingStatus,
        code: &'static str,
    ) -> Result<(), DomainError> {
        if b.status == status {
            Ok(())
        } else {
            Err(DomainError::Conflict {
                code,
                detail: format!("the booking is {}", b.status),
            })
        }
    }
}
