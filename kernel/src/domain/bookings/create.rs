//! `POST /v1/bookings`: price the stay (from a quote, or fresh), hold its nights, authorize the
//! payment, and move the booking on by the provider's answer.

use uuid::Uuid;

use super::{
    events, to_booking, transitions, Booking, Bookings, NewBooking, PriceFrom, Priced, QuoteFrom,
};
use crate::auth::Principal;
use crate::data::bookings::{self as store, BookingRecord};
use crate::data::payments::PaymentRecord;
use crate::data::quotes as quote_store;
use crate::data::DataError;
use crate::domain::idempotency::{self, Claim};
use crate::domain::listings::Listing;
use crate::domain::payments::{Answer, Payments};
use crate::domain::{now, DomainError, Invalid};
use crate::model::{BookingStatus, GuestCount, PaymentOperation, StayRange};

impl Bookings {
    /// Books a stay for the caller: holds the nights, authorizes the payment, and moves to
    /// `requested` (or, for instant-book listings, captures and confirms). Under an
    /// idempotency `claim`, the key is claimed in the transaction that holds the nights and
    /// its response saved in the one that records the payment's outcome.
    pub async fn create(
        &self,
        who: &Principal,
        req: NewBooking,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let (priced, listing) = self.price(who, &req).await?;
        let listing = match listing {
            Some(listing) => listing,
            None => self.listings.get(Some(who), priced.listing_id).await?,
        };
        if listing.host_id == who.account_id.as_uuid() {
            return Err(DomainError::OwnListing);
        }
        let now = now();
        // Time has passed since a stored quote was priced: its stay is checked again.
        let rules = listing.stay_rules();
        rules.check(&priced.stay, now)?;
        let provider = self.payments.provider_for(priced.currency)?;
        let quote_id = Some(priced.quote_id());
        let record = BookingRecord {
            id: Uuid::now_v7(),
            listing_id: listing.id,
            guest_id: who.account_id.as_uuid(),
            host_id: listing.host_id,
            check_in: priced.stay.check_in(),
            check_out: priced.stay.check_out(),
            guests: i32::from(priced.guests),
            status: BookingStatus::PendingPayment,
            currency: priced.currency,
            total_minor: priced.total_minor,
            line_items: sqlx::types::Json(priced.line_items),
            quote_id,
            cancellation_policy: listing.cancellation_policy,
            instant_book: listing.instant_book,
            provider,
            expires_at: Some(
                now + chrono::Duration::minutes(i64::from(self.config.hold_minutes.get())),
            ),
            end_reason: None,
            refund_minor: None,
            created_at: now,
            updated_at: now,
            check_in_at: rules.arrival(priced.stay.check_in()),
        };
        let mut tx = self.db.begin().await?;
        idempotency::claim(claim, tx.exec()).await?;
        match store::hold_nights(tx.exec(), &record, listing.preparation_nights).await {
            Err(DataError::NightsTaken) => return Err(dates_unavailable()),
            other => other?,
        }
        // A stay priced for this booking keeps its quote, committed with the hold. Written
        // after the hold: its foreign key share-locks the listing row, and taking that before
        // the hold's `FOR UPDATE` of the same row deadlocks two bookings of one listing.
        if let QuoteFrom::Fresh(quote) = &priced.quote {
            quote_store::insert(tx.exec(), quote).await?;
        }
        // Holds are not free: one unconfirmed booking per listing, a few in all (by default).
        // Counted after the nights are held, so the requests that lose the nights never wait
        // for the guest's lock; the count includes this booking, and refusing rolls it back.
        let held =
            store::unconfirmed_of_guest(tx.exec(), record.guest_id, record.listing_id).await?;
        if held.of_listing > i64::from(self.config.max_unconfirmed_per_listing.get()) {
            return Err(DomainError::Conflict {
                code: "unconfirmed_booking_exists",
                detail: "You already have a booking of this listing waiting for payment or for \
                         the host's answer."
                    .into(),
            });
        }
        let limit = self.config.max_unconfirmed_per_guest.get();
        if held.total > i64::from(limit) {
            return Err(DomainError::TooManyUnconfirmed { limit });
        }
        let auth = Payments::intend(
            tx.exec(),
            &record,
            PaymentOperation::Authorize,
            record.total_minor,
            None,
            Some(&req.payment_method),
        )
        .await?;
        tx.commit().await?;
        self.listings.availability_changed(record.listing_id).await;
        let answer = self.payments.perform(&auth).await;
        self.apply_authorization(record, &auth, answer, claim).await
    }

    /// The price of the booking: a stored quote's, or a fresh one (with the listing it read).
    async fn price(
        &self,
        who: &Principal,
        req: &NewBooking,
    ) -> Result<(Priced, Option<Listing>), DomainError> {
        let quote_id = match &req.price {
            PriceFrom::Quote(id) => id.as_uuid(),
            PriceFrom::Stay(listing_id, stay) => {
                let (quote, listing) = self.quotes.price(Some(who), *listing_id, stay).await?;
                let record = quote.to_record(who);
                let priced = Priced {
                    listing_id: quote.listing_id,
                    stay: stay.stay,
                    guests: quote.guests,
                    currency: quote.currency,
                    total_minor: quote.total_minor,
                    line_items: quote.line_items,
                    quote: QuoteFrom::Fresh(record),
                };
                return Ok((priced, Some(listing)));
            }
        };
        let mut conn = self.db.acquire().await?;
        let quote = quote_store::find(conn.exec(), quote_id)
            .await?
            .filter(|q| q.account_id.is_none_or(|a| a == who.account_id.as_uuid()));
        let Some(quote) = quote else {
            return Err(DomainError::Invalid(vec![Invalid::new(
                "quote_id",
                "no such quote",
            )]));
        };
        if quote.expires_at < now() {
            return Err(DomainError::Invalid(vec![Invalid::new(
                "quote_id",
                "has expired; ask for a new quote",
            )]));
        }
        let corrupt = |what: &str| DataError::Corrupt(format!("quote {}: {what}", quote.id));
        Ok((
            Priced {
                listing_id: quote.listing_id,
                stay: StayRange::new(quote.check_in, quote.check_out)
                    .map_err(|_| corrupt("stay"))?,
                guests: u32::try_from(quote.guests)
                    .ok()
                    .and_then(|g| GuestCount::new(g).ok())
                    .ok_or_else(|| corrupt("guests"))?,
                currency: quote.currency,
                total_minor: quote.total_minor,
                line_items: quote.line_items.0,
                quote: QuoteFrom::Stored(quote.id),
            },
            None,
        ))
    }

    /// Records the answer to a booking's authorization and moves the booking on: `requested`
    /// (or on to capture for instant book) when authorized, nothing yet while pending,
    /// `cancelled` when declined or when the provider gave no answer (reconciliation then
    /// voids whatever the provider did). A keyed request's response is saved in the
    /// transaction that records the outcome it describes (for instant book, in the capture's).
    pub(super) async fn apply_authorization(
        &self,
        booking: BookingRecord,
        auth: &PaymentRecord,
        answer: Answer,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
        Payments::settle(tx.exec(), auth, &answer).await?;
        let from = [BookingStatus::PendingPayment];
        match &answer {
            Answer::Succeeded(_) | Answer::Collected(_) if booking.instant_book => {
                events::payment(tx.exec(), "payment_authorized", &booking, auth.amount_minor)
                    .await?;
                tx.commit().await?;
                self.confirm_or_release(booking.id, claim).await
            }
            Answer::Succeeded(_) | Answer::Collected(_) => {
                let moved = transitions::requested(
                    tx.exec(),
                    &booking,
                    auth.amount_minor,
                    self.request_deadline(),
                )
                .await?;
                let Some(moved) = moved else {
                    // The hold ran out meanwhile: release what the provider authorized.
                    let outcome = Err(DomainError::Conflict {
                        code: "booking_expired",
                        detail: "the booking expired before its payment was authorized".into(),
                    });
                    idempotency::save(claim, tx.exec(), &outcome).await?;
                    tx.commit().await?;
                    self.release(booking.id).await?;
                    return outcome;
                };
                let outcome = to_booking(moved);
                idempotency::save(claim, tx.exec(), &outcome).await?;
                tx.commit().await?;
                outcome
            }
            Answer::Pending(_) => {
                let outcome = to_booking(booking);
                idempotency::save(claim, tx.exec(), &outcome).await?;
                tx.commit().await?;
                outcome
            }
            Answer::Failed(..) | Answer::Unknown(_) => {
                let (end, error) = match answer {
                    Answer::Failed(code, _) => (
                        "payment_declined",
                        DomainError::PaymentDeclined {
                            booking_id: booking.id,
                            code,
                        },
                    ),
                    _ => (
                        "payment_error",
                        DomainError::PaymentUnavailable(
                            "the payment provider could not be reached".into(),
                        ),
                    ),
                };
                let ended =
                    transitions::payment_failed(tx.exec(), &booking, &from, end, auth.amount_minor)
                        .await?;
                let outcome = Err(error);
                idempotency::save(claim, tx.exec(), &outcome).await?;
                tx.commit().await?;
                if ended.is_some() {
                    self.listings.availability_changed(booking.listing_id).await;
                }
                outcome
            }
        }
    }
}

fn dates_unavailable() -> DomainError {
    DomainError::DatesUnavailable(vec![Invalid::new(
        "check_in",
        "some nights of the stay are already booked or blocked",
    )])
}
