//! Confirmation: the host accepts a request (or an instant-book authorization succeeded), the
//! payment is captured, and the booking is confirmed by the provider's answer.

use uuid::Uuid;

use super::{to_booking, transitions, Booking, Bookings};
use crate::auth::Principal;
use crate::data::bookings::BookingRecord;
use crate::data::payments::{self as ledger, PaymentRecord};
use crate::domain::payments::{Answer, Payments};
use crate::domain::DomainError;
use crate::model::{BookingStatus, PaymentOperation, PaymentState};

impl Bookings {
    /// The host accepts a request: the payment is captured and the booking confirmed.
    pub async fn accept(&self, who: &Principal, id: Uuid) -> Result<Booking, DomainError> {
        let b = self.visible(who, id).await?;
        Self::require_host(who, &b)?;
        Self::require_status(&b, BookingStatus::Requested, "booking_not_requested")?;
        self.confirm(id).await
    }

    /// Captures the authorization and confirms the booking (host acceptance, or instant book).
    pub(super) async fn confirm(&self, id: Uuid) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
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
        self.apply_capture(booking, &capture, answer).await
    }

    /// Records the answer to a capture: `confirmed` when captured; `cancelled` (and the
    /// authorization released) when refused; unchanged while pending or unknown.
    pub(super) async fn apply_capture(
        &self,
        booking: BookingRecord,
        capture: &PaymentRecord,
        answer: Answer,
    ) -> Result<Booking, DomainError> {
        let mut tx = self.db.begin().await?;
        Payments::settle(tx.exec(), capture, &answer).await?;
        let from = [BookingStatus::Requested, BookingStatus::PendingPayment];
        match &answer {
            Answer::Succeeded(_) => {
                let moved =
                    transitions::confirmed(tx.exec(), &booking, capture.amount_minor).await?;
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
                transitions::payment_failed(
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
}
