//! Bookings: the state machine, no double booking, and the payment steps that move a booking.
//!
//! ```text
//! pending_payment ──authorized──▶ requested ──accept (capture)──▶ confirmed ──check-out──▶ completed
//!       │  (instant book: authorized → capture → confirmed)   │                  │
//!       ├─ declined / error / hold expires ─▶ cancelled | expired                └─ cancel (refund per policy) ─▶ cancelled
//!       └─ cancel ─▶ cancelled            requested ─ decline ─▶ declined, ─ cancel ─▶ cancelled, ─ 24 h ─▶ expired
//! ```
//!
//! Every transition writes its event in the same transaction and names the statuses it may
//! leave, so two racing changes cannot both apply. Nights are held by active bookings
//! (`pending_payment`, `requested`, `confirmed`, `completed`): PostgreSQL refuses overlaps with
//! an exclusion constraint; on SQLite the check and the insert share one write-locked
//! transaction. Money moves as described in [`super::payments`]: intent, provider call, result,
//! never a transaction held across the call.

mod events;
mod steps;
mod timers;
mod webhooks;

pub use timers::{CompleteStays, ExpireBookings, ReconcilePayments};
pub use webhooks::WebhookOutcome;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::cancellation::{self, CancelledBy, Refund};
use super::listings::{CancellationPolicy, Listings};
use super::payments::{Answer, Operation, PaymentView, Payments};
use super::quotes::{QuoteLine, QuoteParams, Quotes};
use super::{cursor, now, DomainError, Problems};
use crate::auth::{Principal, Role};
use crate::config::{BookingsConfig, DatabaseBackend};
use crate::data::bookings::{self as store, BookingRecord, Changes, Party};
use crate::data::payments::{self as ledger, PaymentRecord};
use crate::data::{calendar, quotes as quote_store, DataError, Database};

string_enum!(
    /// Where a booking is in its life.
    BookingStatus {
        /// Waiting for the payment authorization (held for `bookings.hold_minutes`).
        PendingPayment = "pending_payment",
        /// Paid (authorized); waiting for the host (for `bookings.request_hours`).
        Requested = "requested",
        /// Accepted and captured.
        Confirmed = "confirmed",
        /// The stay is over.
        Completed = "completed",
        /// The host said no.
        Declined = "declined",
        /// The guest or host cancelled, or the payment failed.
        Cancelled = "cancelled",
        /// Nobody acted in time.
        Expired = "expired",
    }
);

/// A booking as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
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
    /// Guests.
    pub guests: u32,
    /// Status.
    pub status: BookingStatus,
    /// Currency of every amount.
    pub currency: String,
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
        guests: u32::try_from(r.guests).map_err(|_| corrupt("guests"))?,
        status: BookingStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
        currency: r.currency,
        total_minor: r.total_minor,
        line_items: serde_json::from_str(&r.line_items).map_err(|_| corrupt("line_items"))?,
        quote_id: r.quote_id,
        cancellation_policy: CancellationPolicy::parse(&r.cancellation_policy)
            .ok_or_else(|| corrupt("cancellation_policy"))?,
        instant_book: r.instant_book,
        payment_provider: r.provider,
        expires_at: r.expires_at,
        end_reason: r.end_reason,
        refund_minor: r.refund_minor,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
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

/// One page of bookings, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingPage {
    /// Bookings.
    pub bookings: Vec<Booking>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// What cancelling now would refund.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CancellationPreview {
    /// The booking.
    pub booking_id: Uuid,
    /// Who would be cancelling (the caller).
    pub cancelled_by: CancelledBy,
    /// The refund, by the booking's policy at this moment.
    #[serde(flatten)]
    pub refund: Refund,
    /// Currency.
    pub currency: String,
}

/// A stay with its price, from a quote or priced fresh.
struct Priced {
    listing_id: Uuid,
    check_in: NaiveDate,
    check_out: NaiveDate,
    guests: u32,
    currency: String,
    total_minor: i64,
    line_items: String,
    quote_id: Option<Uuid>,
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

    fn request_deadline(&self) -> DateTime<Utc> {
        now() + chrono::Duration::hours(i64::from(self.config.request_hours))
    }

    /// Books a stay for the caller: holds the nights, authorizes the payment, and moves to
    /// `requested` (or, for instant-book listings, captures and confirms).
    pub async fn create(&self, who: &Principal, req: NewBooking) -> Result<Booking, DomainError> {
        let priced = self.price(who, &req).await?;
        let listing = self.listings.get(Some(who), priced.listing_id).await?;
        if listing.host_id == who.account_id.as_uuid() {
            return Err(DomainError::OwnListing);
        }
        let provider = self.payments.provider_for(&priced.currency)?;
        let now = now();
        let record = BookingRecord {
            id: Uuid::now_v7(),
            listing_id: listing.id,
            guest_id: who.account_id.as_uuid(),
            host_id: listing.host_id,
            check_in: priced.check_in,
            check_out: priced.check_out,
            guests: i32::try_from(priced.guests).unwrap_or(i32::MAX),
            status: BookingStatus::PendingPayment.as_str().into(),
            currency: priced.currency,
            total_minor: priced.total_minor,
            line_items: priced.line_items,
            quote_id: priced.quote_id,
            cancellation_policy: listing.cancellation_policy.as_str().into(),
            instant_book: listing.instant_book,
            provider,
            expires_at: Some(now + chrono::Duration::minutes(i64::from(self.config.hold_minutes))),
            end_reason: None,
            refund_minor: None,
            created_at: now,
            updated_at: now,
        };
        let mut tx = self.db.begin().await?;
        store::lock_listing(tx.exec(), record.listing_id).await?;
        let days = calendar::range(
            tx.exec(),
            record.listing_id,
            record.check_in,
            record.check_out,
        )
        .await?;
        let taken = days.iter().any(|d| d.blocked)
            || (self.db.backend() == DatabaseBackend::Sqlite
                && store::overlaps(
                    tx.exec(),
                    record.listing_id,
                    record.check_in,
                    record.check_out,
                )
                .await?);
        if taken {
            return Err(dates_unavailable());
        }
        match store::insert(tx.exec(), &record).await {
            Err(DataError::ExclusionViolation) => return Err(dates_unavailable()),
            other => other?,
        }
        let auth = Payments::intend(
            tx.exec(),
            &record,
            Operation::Authorize,
            record.total_minor,
            None,
            Some(&req.payment_method),
        )
        .await?;
        tx.commit().await?;
        self.listings.invalidate(record.listing_id).await;
        let answer = self.payments.perform(&auth).await;
        self.apply_authorization(record, &auth, answer).await
    }

    async fn price(&self, who: &Principal, req: &NewBooking) -> Result<Priced, DomainError> {
        let mut p = Problems::default();
        p.check(
            !req.payment_method.trim().is_empty(),
            "payment_method",
            "must not be empty",
        );
        let fresh = req.listing_id.is_some()
            || req.check_in.is_some()
            || req.check_out.is_some()
            || req.guests.is_some();
        let Some(quote_id) = req.quote_id else {
            p.check(
                req.listing_id.is_some(),
                "listing_id",
                "is required (or book a quote with quote_id)",
            );
            p.finish()?;
            let params = QuoteParams {
                check_in: req.check_in.clone(),
                check_out: req.check_out.clone(),
                guests: req.guests,
            };
            let quote = self
                .quotes
                .quote(Some(who), req.listing_id.unwrap_or_default(), &params)
                .await?;
            return Ok(Priced {
                listing_id: quote.listing_id,
                check_in: quote.check_in,
                check_out: quote.check_out,
                guests: quote.guests,
                currency: quote.currency,
                total_minor: quote.total_minor,
                line_items: serde_json::to_string(&quote.line_items).unwrap_or_default(),
                quote_id: Some(quote.quote_id),
            });
        };
        if fresh {
            p.add(
                "quote_id",
                "give either a quote_id or a listing_id with dates, not both",
            );
        }
        p.finish()?;
        let mut conn = self.db.acquire().await?;
        let quote = quote_store::find(conn.exec(), quote_id)
            .await?
            .filter(|q| q.account_id.is_none_or(|a| a == who.account_id.as_uuid()));
        let Some(quote) = quote else {
            return Err(DomainError::Invalid(vec![super::Invalid::new(
                "quote_id",
                "no such quote",
            )]));
        };
        if quote.expires_at < now() {
            return Err(DomainError::Invalid(vec![super::Invalid::new(
                "quote_id",
                "has expired; ask for a new quote",
            )]));
        }
        Ok(Priced {
            listing_id: quote.listing_id,
            check_in: quote.check_in,
            check_out: quote.check_out,
            guests: u32::try_from(quote.guests).unwrap_or(1),
            currency: quote.currency,
            total_minor: quote.total_minor,
            line_items: quote.line_items,
            quote_id: Some(quote.id),
        })
    }

    /// Records the answer to a booking's authorization and moves the booking on: `requested`
    /// (or on to capture for instant book) when authorized, nothing yet while pending,
    /// `cancelled` when declined or when the provider gave no answer (reconciliation then
    /// voids whatever the provider did).
    async fn apply_authorization(
        &self,
        booking: BookingRecord,
        auth: &PaymentRecord,
        answer: Answer,
    ) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
        Payments::settle(tx.exec(), auth, &answer).await?;
        let from = [BookingStatus::PendingPayment.as_str()];
        match &answer {
            Answer::Succeeded(_) if booking.instant_book => {
                events::payment(tx.exec(), "payment_authorized", &booking, auth.amount_minor)
                    .await?;
                tx.commit().await?;
                self.confirm(booking.id).await
            }
            Answer::Succeeded(_) => {
                let moved = steps::requested(
                    tx.exec(),
                    &booking,
                    auth.amount_minor,
                    self.request_deadline(),
                )
                .await?;
                let Some(moved) = moved else {
                    // The hold ran out meanwhile: release what the provider authorized.
                    tx.commit().await?;
                    self.release(booking.id).await?;
                    return Err(DomainError::Conflict {
                        code: "booking_expired",
                        detail: "the booking expired before its payment was authorized".into(),
                    });
                };
                tx.commit().await?;
                to_booking(moved)
            }
            Answer::Pending(_) => {
                tx.commit().await?;
                to_booking(booking)
            }
            Answer::Failed(reason) | Answer::Unknown(reason) => {
                let declined = matches!(answer, Answer::Failed(_));
                let end = if declined {
                    "payment_declined"
                } else {
                    "payment_error"
                };
                let ended =
                    steps::payment_failed(tx.exec(), &booking, &from, end, auth.amount_minor)
                        .await?;
                tx.commit().await?;
                if ended.is_some() {
                    self.listings.invalidate(booking.listing_id).await;
                }
                Err(if declined {
                    DomainError::PaymentDeclined {
                        booking_id: booking.id,
                        reason: reason.clone(),
                    }
                } else {
                    DomainError::PaymentUnavailable(reason.clone())
                })
            }
        }
    }

    /// Captures the authorization and confirms the booking (host acceptance, or instant book).
    async fn confirm(&self, id: Uuid) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
        let booking = self
            .lock(
                &mut tx,
                id,
                &[BookingStatus::Requested, BookingStatus::PendingPayment],
            )
            .await?;
        let auth = ledger::live(tx.exec(), id, Operation::Authorize.as_str())
            .await?
            .filter(|a| a.status == "succeeded")
            .ok_or(DomainError::Conflict {
                code: "payment_not_authorized",
                detail: "the booking's payment is not authorized yet".into(),
            })?;
        let capture = Payments::intend(
            tx.exec(),
            &booking,
            Operation::Capture,
            booking.total_minor,
            auth.provider_ref.as_deref(),
            None,
        )
        .await?;
        tx.commit().await?;
        let answer = self.payments.perform(&capture).await;
        self.apply_capture(booking, &capture, answer).await
    }

    /// Records the answer to a capture: `confirmed` when captured; `cancelled` (and the
    /// authorization released) when refused; unchanged while pending or unknown.
    async fn apply_capture(
        &self,
        booking: BookingRecord,
        capture: &PaymentRecord,
        answer: Answer,
    ) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
        Payments::settle(tx.exec(), capture, &answer).await?;
        let from = [
            BookingStatus::Requested.as_str(),
            BookingStatus::PendingPayment.as_str(),
        ];
        match &answer {
            Answer::Succeeded(_) => {
                let moved = steps::confirmed(tx.exec(), &booking, capture.amount_minor).await?;
                let Some(moved) = moved else {
                    tx.commit().await?;
                    return self.get_record(booking.id).await.and_then(to_booking);
                };
                tx.commit().await?;
                to_booking(moved)
            }
            Answer::Pending(_) => {
                tx.commit().await?;
                to_booking(booking)
            }
            Answer::Failed(reason) => {
                steps::payment_failed(
                    tx.exec(),
                    &booking,
                    &from,
                    "capture_failed",
                    capture.amount_minor,
                )
                .await?;
                tx.commit().await?;
                self.listings.invalidate(booking.listing_id).await;
                self.release(booking.id).await?;
                Err(DomainError::PaymentDeclined {
                    booking_id: booking.id,
                    reason: reason.clone(),
                })
            }
            Answer::Unknown(reason) => {
                tx.commit().await?;
                Err(DomainError::PaymentUnavailable(reason.clone()))
            }
        }
    }

    /// Releases the booking's authorization (a void), if one is held or pending. Idempotent.
    async fn release(&self, id: Uuid) -> Result<(), DomainError> {
        let mut tx = self.db.begin().await?;
        let Some(booking) = store::find(tx.exec(), id).await? else {
            return Ok(());
        };
        let auth = ledger::live(tx.exec(), id, Operation::Authorize.as_str()).await?;
        let Some(auth) = auth.filter(|a| a.status == "succeeded" || a.status == "pending") else {
            // None, or still an intent: reconciliation learns the outcome and voids it then.
            return Ok(());
        };
        if ledger::live(tx.exec(), id, Operation::Capture.as_str())
            .await?
            .is_some()
        {
            // Captured money is returned by a refund, not a void.
            return Ok(());
        }
        let void = match Payments::intend(
            tx.exec(),
            &booking,
            Operation::Void,
            auth.amount_minor,
            auth.provider_ref.as_deref(),
            None,
        )
        .await
        {
            Ok(v) => v,
            Err(DomainError::Conflict { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        let answer = self.payments.perform(&void).await;
        let mut conn = self.db.acquire().await?;
        Payments::settle(conn.exec(), &void, &answer).await?;
        Ok(())
    }

    /// Locks the booking's row for the rest of `tx` if it is in one of `states` (a no-op
    /// transition), so a racing change waits and then finds it changed.
    async fn lock(
        &self,
        tx: &mut crate::data::Tx,
        id: Uuid,
        states: &[BookingStatus],
    ) -> Result<BookingRecord, DomainError> {
        let current = store::find(tx.exec(), id)
            .await?
            .ok_or(DomainError::NotFound("booking"))?;
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        let changes = Changes {
            expires_at: current.expires_at,
            ..Changes::default()
        };
        store::transition(tx.exec(), id, &names, &current.status, &changes, now())
            .await?
            .ok_or_else(|| DomainError::Conflict {
                code: "booking_state_changed",
                detail: format!("the booking is {}", current.status),
            })
    }

    async fn get_record(&self, id: Uuid) -> Result<BookingRecord, DomainError> {
        let mut conn = self.db.acquire().await?;
        store::find(conn.exec(), id)
            .await?
            .ok_or(DomainError::NotFound("booking"))
    }

    /// A booking the caller takes part in (guest, host, or admin); 404 for anyone else.
    async fn visible(&self, who: &Principal, id: Uuid) -> Result<BookingRecord, DomainError> {
        let record = self.get_record(id).await?;
        let me = who.account_id.as_uuid();
        if record.guest_id == me || record.host_id == me || who.role == Role::Admin {
            Ok(record)
        } else {
            Err(DomainError::NotFound("booking"))
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
        Ok(ledger::of_booking(conn.exec(), id)
            .await?
            .into_iter()
            .map(PaymentView::from)
            .collect())
    }

    /// The caller's bookings as guest, or of their listings as host; newest first.
    pub async fn list(
        &self,
        who: &Principal,
        params: &BookingListParams,
    ) -> Result<BookingPage, DomainError> {
        let mut p = Problems::default();
        let me = who.account_id.as_uuid();
        let party = match params.role.as_deref() {
            None | Some("guest") => Party::Guest(me),
            Some("host") => Party::Host(me),
            Some(_) => {
                p.add("role", "must be `guest` or `host`");
                Party::Guest(me)
            }
        };
        let page = cursor::page_request(&mut p, params.limit, params.cursor.as_deref());
        p.finish()?;
        let mut conn = self.db.acquire().await?;
        let rows = store::list(conn.exec(), party, page.after, page.limit + 1).await?;
        let (rows, next_cursor) = cursor::page(rows, page.limit, |r| Some((r.created_at, r.id)));
        Ok(BookingPage {
            bookings: rows.into_iter().map(to_booking).collect::<Result<_, _>>()?,
            next_cursor,
        })
    }

    fn require_host(who: &Principal, b: &BookingRecord) -> Result<(), DomainError> {
        if b.host_id == who.account_id.as_uuid() || who.role == Role::Admin {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    fn require_status(
        b: &BookingRecord,
        status: BookingStatus,
        code: &'static str,
    ) -> Result<(), DomainError> {
        if b.status == status.as_str() {
            Ok(())
        } else {
            Err(DomainError::Conflict {
                code,
                detail: format!("the booking is {}", b.status),
            })
        }
    }

    /// The host accepts a request: the payment is captured and the booking confirmed.
    pub async fn accept(&self, who: &Principal, id: Uuid) -> Result<Booking, DomainError> {
        let b = self.visible(who, id).await?;
        Self::require_host(who, &b)?;
        Self::require_status(&b, BookingStatus::Requested, "booking_not_requested")?;
        self.confirm(id).await
    }

    /// The host declines a request: the authorization is released.
    pub async fn decline(&self, who: &Principal, id: Uuid) -> Result<Booking, DomainError> {
        let b = self.visible(who, id).await?;
        Self::require_host(who, &b)?;
        Self::require_status(&b, BookingStatus::Requested, "booking_not_requested")?;
        let mut tx = self.db.begin().await?;
        let changes = Changes {
            end_reason: Some("declined_by_host"),
            ..Changes::default()
        };
        let ended = store::transition(
            tx.exec(),
            id,
            &[BookingStatus::Requested.as_str()],
            BookingStatus::Declined.as_str(),
            &changes,
            now(),
        )
        .await?
        .ok_or_else(|| DomainError::Conflict {
            code: "booking_not_requested",
            detail: "the booking changed meanwhile".into(),
        })?;
        if ledger::live(tx.exec(), id, Operation::Capture.as_str())
            .await?
            .is_some()
        {
            return Err(DomainError::Conflict {
                code: "payment_in_progress",
                detail: "the booking is being accepted".into(),
            });
        }
        events::booking(tx.exec(), "booking_declined", &ended).await?;
        tx.commit().await?;
        self.listings.invalidate(ended.listing_id).await;
        self.release(id).await?;
        to_booking(ended)
    }

    fn cancelled_by(who: &Principal, b: &BookingRecord) -> CancelledBy {
        if b.guest_id == who.account_id.as_uuid() {
            CancelledBy::Guest
        } else {
            CancelledBy::Host
        }
    }

    /// What cancelling now would refund (before the caller confirms with `cancel`).
    pub async fn cancellation(
        &self,
        who: &Principal,
        id: Uuid,
    ) -> Result<CancellationPreview, DomainError> {
        let b = self.visible(who, id).await?;
        let by = Self::cancelled_by(who, &b);
        Ok(CancellationPreview {
            booking_id: b.id,
            cancelled_by: by,
            refund: self.refund_for(&b, by)?,
            currency: b.currency,
        })
    }

    /// Nothing was captured before confirmation; after it, the policy decides.
    fn refund_for(&self, b: &BookingRecord, by: CancelledBy) -> Result<Refund, DomainError> {
        let booking = to_booking(b.clone())?;
        Ok(match booking.status {
            BookingStatus::Confirmed => cancellation::refund(
                booking.cancellation_policy,
                by,
                b.total_minor,
                b.check_in,
                b.created_at,
                now(),
            ),
            _ => Refund {
                percent: 0,
                refund_minor: 0,
                rule: "nothing was charged yet: the authorization is released".into(),
            },
        })
    }

    /// The guest or host cancels: an authorization is released; a confirmed stay is refunded
    /// per the booking's policy (in full when the host cancels).
    pub async fn cancel(&self, who: &Principal, id: Uuid) -> Result<Booking, DomainError> {
        let b = self.visible(who, id).await?;
        let by = Self::cancelled_by(who, &b);
        let cancellable = [
            BookingStatus::PendingPayment.as_str(),
            BookingStatus::Requested.as_str(),
            BookingStatus::Confirmed.as_str(),
        ];
        if !cancellable.contains(&b.status.as_str()) {
            return Err(DomainError::Conflict {
                code: "booking_not_cancellable",
                detail: format!("a {} booking cannot be cancelled", b.status),
            });
        }
        let refund = self.refund_for(&b, by)?;
        let confirmed = b.status == BookingStatus::Confirmed.as_str();
        let reason = match by {
            CancelledBy::Guest => "cancelled_by_guest",
            CancelledBy::Host => "cancelled_by_host",
        };
        let mut tx = self.db.begin().await?;
        let changes = Changes {
            end_reason: Some(reason),
            refund_minor: Some(refund.refund_minor),
            ..Changes::default()
        };
        let ended = store::transition(
            tx.exec(),
            id,
            &[b.status.as_str()],
            BookingStatus::Cancelled.as_str(),
            &changes,
            now(),
        )
        .await?
        .ok_or_else(|| DomainError::Conflict {
            code: "booking_state_changed",
            detail: "the booking changed meanwhile; look again".into(),
        })?;
        let capture = ledger::live(tx.exec(), id, Operation::Capture.as_str()).await?;
        if !confirmed && capture.is_some() {
            return Err(DomainError::Conflict {
                code: "payment_in_progress",
                detail: "the booking is being accepted".into(),
            });
        }
        events::booking(tx.exec(), "booking_cancelled", &ended).await?;
        let refund_op = match capture.filter(|c| c.status == "succeeded") {
            Some(c) if refund.refund_minor > 0 => Some(
                Payments::intend(
                    tx.exec(),
                    &ended,
                    Operation::Refund,
                    refund.refund_minor,
                    c.provider_ref.as_deref(),
                    None,
                )
                .await?,
            ),
            _ => None,
        };
        tx.commit().await?;
        self.listings.invalidate(ended.listing_id).await;
        match refund_op {
            Some(op) => {
                let answer = self.payments.perform(&op).await;
                self.apply_refund(&ended, &op, &answer).await?;
            }
            None if !confirmed => self.release(id).await?,
            None => {}
        }
        to_booking(ended)
    }

    async fn apply_refund(
        &self,
        booking: &BookingRecord,
        op: &PaymentRecord,
        answer: &Answer,
    ) -> Result<(), DomainError> {
        let mut tx = self.db.begin().await?;
        let settled = Payments::settle(tx.exec(), op, answer).await?;
        if let (Some(_), Answer::Succeeded(_)) = (&settled, answer) {
            events::payment(tx.exec(), "payment_refunded", booking, op.amount_minor).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn dates_unavailable() -> DomainError {
    DomainError::DatesUnavailable(vec![super::Invalid::new(
        "check_in",
        "some nights of the stay are already booked or blocked",
    )])
}
