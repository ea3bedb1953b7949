//! Confirmation: the host accepts a request (or an instant-book authorization succeeded), the
//! payment is captured, and the booking is confirmed by the provider's answer.

use uuid::Uuid;

use super::{to_booking, transitions, Booking, Bookings};
use crate::auth::Principal;
use crate::data::bookings::{self as store, BookingRecord};
use crate::data::payments::{self as ledger, PaymentRecord};
use crate::domain::idempotency::{self, Claim};
use crate::domain::payments::{Answer, Payments};
use crate::domain::{DomainError, Resource};
use crate::model::{BookingStatus, PaymentOperation, PaymentState};

impl Bookings {
    /// The host accepts a request: the payment is captured and the booking confirmed.
    /// Under an idempotency `claim`, the key is claimed with the capture's intent and its
    /// response saved with the capture's outcome.
    pub async fn accept(
        &self,
        who: &Principal,
        id: Uuid,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let b = self.visible(who, id).await?;
        Self::require_host(who, &b)?;
        Self::require_status(&b, BookingStatus::Requested, "booking_not_requested")?;
        self.confirm(id, claim).await
    }

    /// Captures the authorization and confirms the booking (host acceptance, or instant book).
    /// A `claim` not yet taken (acceptance) is taken with the capture's intent; one taken when
    /// the booking was created (instant book) is kept.
    pub(super) async fn confirm(
        &self,
        id: Uuid,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
        if let Some(claim) = claim.filter(|c| !c.is_claimed()) {
            claim.claim(tx.exec()).await?;
        }
        let booking = self
            .lock(
                &mut tx,
                id,
                &[BookingStatus::Requested, BookingStatus::PendingPayment],
            )
            .await?;
        let auth = ledger::live(tx.exec(), id, PaymentOperation::Authorize)
            .await?
            .filter(|a| a.status == PaymentState::Succeeded)
            .ok_or(DomainError::Conflict {
                code: "payment_not_authorized",
                detail: "the booking's payment is not authorized yet".into(),
            })?;
        let capture = Payments::intend(
            tx.exec(),
            &booking,
            PaymentOperation::Capture,
            booking.total_minor,
            auth.provider_ref.as_deref(),
            None,
        )
        .await?;
        tx.commit().await?;
        let answer = self.payments.perform(&capture).await;
        self.apply_capture(booking, &capture, answer, claim).await
    }

    /// [`Self::confirm`] for an authorization that just succeeded (instant book): if the booking
    /// cannot be confirmed because it ended meanwhile, the authorization is released at once
    /// rather than left holding the guest's money.
    pub(super) async fn confirm_or_release(
        &self,
        id: Uuid,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let confirmed = self.confirm(id, claim).await;
        if confirmed.is_err() {
            self.release(id).await?;
        }
        confirmed
    }

    /// A capture that succeeded on a booking that ended before it could be confirmed (expired or
    /// cancelled while the capture was in flight) is refunded in full, with its event; a
    /// booking that is still active (confirmed by another path) is left alone.
    pub(super) async fn refund_if_ended(
        &self,
        id: Uuid,
        capture: &PaymentRecord,
    ) -> Result<(), DomainError> {
        let mut tx = self.db.begin().await?;
        let Some(booking) = store::find(tx.exec(), id).await? else {
            return Ok(());
        };
        if booking.status.is_active() {
            return Ok(());
        }
        tracing::warn!(booking.id = %id, payment.id = %capture.id, "a capture landed on an ended booking; refunding it");
        self.give_back(
            tx,
            &booking,
            PaymentOperation::Refund,
            capture.amount_minor,
            capture.provider_ref.as_deref(),
        )
        .await
    }

    /// Records the answer to a capture: `confirmed` when captured; `cancelled` (and the
    /// authorization released) when refused; unchanged while pending or unknown. A keyed
    /// request's response is saved in the transaction that records the outcome.
    pub(super) async fn apply_capture(
        &self,
        booking: BookingRecord,
        capture: &PaymentRecord,
        answer: Answer,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
        Payments::settle(tx.exec(), capture, &answer).await?;
        let from = [BookingStatus::Requested, BookingStatus::PendingPayment];
        match &answer {
            Answer::Succeeded(_) | Answer::Collected(_) => {
                let moved =
                    transitions::confirmed(tx.exec(), &booking, capture.amount_minor).await?;
                let stray = moved.is_none();
                let outcome = match moved {
                    Some(moved) => to_booking(moved),
                    // Moved on meanwhile (confirmed by a webhook, or ended): answer with what
                    // it is now.
                    None => store::find(tx.exec(), booking.id)
                        .await?
                        .ok_or(DomainError::NotFound(Resource::Booking))
                        .and_then(to_booking),
                };
                idempotency::save(claim, tx.exec(), &outcome).await?;
                tx.commit().await?;
                if stray {
                    self.refund_if_ended(booking.id, capture).await?;
                }
                outcome
            }
            Answer::Pending(_) => {
                let outcome = to_booking(booking);
                idempotency::save(claim, tx.exec(), &outcome).await?;
                tx.commit().await?;
                outcome
            }
            Answer::Failed(code, _) => {
                transitions::payment_failed(
                    tx.exec(),
                    &booking,
                    &from,
                    "capture_failed",
                    capture.amount_minor,
                )
                .await?;
                let outcome = Err(DomainError::PaymentDeclined {
                    booking_id: booking.id,
                    code: *code,
                });
                idempotency::save(claim, tx.exec(), &outcome).await?;
                tx.commit().await?;
                self.listings.availability_changed(booking.listing_id).await;
                self.release(booking.id).await?;
                outcome
            }
            Answer::Unknown(_) => {
                // The reason is in the ledger's detail, for admins.
                let outcome = Err(DomainError::PaymentUnavailable(
                    "the payment provider gave no answer to the capture".into(),
                ));
                idempotency::save(claim, tx.exec(), &outcome).await?;
                tx.commit().await?;
                outcome
            }
        }
    }
}
