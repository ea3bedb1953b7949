//! Ending a booking early: the host declines, the guest or host cancels (with the refund the
//! policy decides, previewed first), and the authorization is released.

use uuid::Uuid;

use super::{events, to_booking, transitions, Booking, Bookings, CancellationPreview};
use crate::auth::Principal;
use crate::data::bookings::{self as store, BookingRecord};
use crate::data::payments::{self as ledger, PaymentRecord};
use crate::data::Tx;
use crate::domain::cancellation::{self, CancelledBy, Refund};
use crate::domain::idempotency::{self, Claim};
use crate::domain::payments::{Answer, Payments};
use crate::domain::{now, DomainError};
use crate::model::{BookingStatus, PaymentOperation, PaymentState};

impl Bookings {
    /// The host declines a request: the authorization is released. Under an idempotency
    /// `claim`, the key is claimed and its response saved with the transition.
    pub async fn decline(
        &self,
        who: &Principal,
        id: Uuid,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let b = self.visible(who, id).await?;
        Self::require_host(who, &b)?;
        Self::require_status(&b, BookingStatus::Requested, "booking_not_requested")?;
        let mut tx = self.db.begin().await?;
        idempotency::claim(claim, tx.exec()).await?;
        let ended =
            transitions::declined(tx.exec(), &b)
                .await?
                .ok_or_else(|| DomainError::Conflict {
                    code: "booking_not_requested",
                    detail: "the booking changed meanwhile".into(),
                })?;
        if ledger::live(tx.exec(), id, PaymentOperation::Capture)
            .await?
            .is_some()
        {
            // Dropping `tx` rolls the transition and its event back.
            return Err(DomainError::Conflict {
                code: "payment_in_progress",
                detail: "the booking is being accepted".into(),
            });
        }
        let outcome = to_booking(ended.clone());
        idempotency::save(claim, tx.exec(), &outcome).await?;
        tx.commit().await?;
        self.listings.availability_changed(ended.listing_id).await;
        self.release(id).await?;
        outcome
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
                b.check_in_at,
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
    /// per the booking's policy (in full when the host cancels). Under an idempotency `claim`,
    /// the key is claimed and its response saved with the transition (and the refund's intent).
    pub async fn cancel(
        &self,
        who: &Principal,
        id: Uuid,
        claim: Option<&Claim<Booking>>,
    ) -> Result<Booking, DomainError> {
        let b = self.visible(who, id).await?;
        let by = Self::cancelled_by(who, &b);
        let cancellable = [
            BookingStatus::PendingPayment,
            BookingStatus::Requested,
            BookingStatus::Confirmed,
        ];
        if !cancellable.contains(&b.status) {
            return Err(DomainError::Conflict {
                code: "booking_not_cancellable",
                detail: format!("a {} booking cannot be cancelled", b.status),
            });
        }
        let refund = self.refund_for(&b, by)?;
        let confirmed = b.status == BookingStatus::Confirmed;
        let reason = match by {
            CancelledBy::Guest => "cancelled_by_guest",
            CancelledBy::Host => "cancelled_by_host",
        };
        let mut tx = self.db.begin().await?;
        idempotency::claim(claim, tx.exec()).await?;
        let ended = transitions::cancelled(tx.exec(), &b, reason, refund.refund_minor)
            .await?
            .ok_or_else(|| DomainError::Conflict {
                code: "booking_state_changed",
                detail: "the booking changed meanwhile; look again".into(),
            })?;
        let capture = ledger::live(tx.exec(), id, PaymentOperation::Capture).await?;
        if !confirmed && capture.is_some() {
            // Dropping `tx` rolls the transition and its event back.
            return Err(DomainError::Conflict {
                code: "payment_in_progress",
                detail: "the booking is being accepted".into(),
            });
        }
        let refund_op = match capture.filter(|c| c.status == PaymentState::Succeeded) {
            Some(c) if refund.refund_minor > 0 => Some(
                Payments::intend(
                    tx.exec(),
                    &ended,
                    PaymentOperation::Refund,
                    refund.refund_minor,
                    c.provider_ref.as_deref(),
                    None,
                )
                .await?,
            ),
            _ => None,
        };
        let outcome = to_booking(ended.clone());
        idempotency::save(claim, tx.exec(), &outcome).await?;
        tx.commit().await?;
        self.listings.availability_changed(ended.listing_id).await;
        match refund_op {
            Some(op) => {
                let answer = self.payments.perform(&op).await;
                self.apply_refund(&ended, &op, &answer).await?;
            }
            None if !confirmed => self.release(id).await?,
            None => {}
        }
        outcome
    }

    /// Records the answer to a refund, with its event when it succeeded.
    pub(super) async fn apply_refund(
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

    /// Returns what an ended booking's authorization holds, if it holds anything: a void, or a
    /// refund when the money was already collected (a transfer that arrived). Idempotent; does
    /// nothing for a booking that is still active or whose payment was captured (captured money
    /// is returned by the cancellation's refund).
    pub(super) async fn release(&self, id: Uuid) -> Result<(), DomainError> {
        let mut tx = self.db.begin().await?;
        let Some(booking) = store::find(tx.exec(), id).await? else {
            return Ok(());
        };
        if booking.status.is_active() {
            return Ok(());
        }
        let auth = ledger::live(tx.exec(), id, PaymentOperation::Authorize).await?;
        let held = [PaymentState::Succeeded, PaymentState::Pending];
        let Some(auth) = auth.filter(|a| held.contains(&a.status)) else {
            // None, or still an intent: reconciliation learns the outcome and releases it then.
            return Ok(());
        };
        if ledger::live(tx.exec(), id, PaymentOperation::Capture)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let operation = if auth.collected {
            PaymentOperation::Refund
        } else {
            PaymentOperation::Void
        };
        self.give_back(
            tx,
            &booking,
            operation,
            auth.amount_minor,
            auth.provider_ref.as_deref(),
        )
        .await
    }

    /// Returns a guest's money on `provider_ref` (a void or a refund of `amount_minor`), in
    /// `tx`, the transaction that decided it: the operation's intent commits with it, then the
    /// provider is asked and the answer recorded (a refund with its event). Nothing happens if
    /// such an operation is already live.
    pub(super) async fn give_back(
        &self,
        mut tx: Tx,
        booking: &BookingRecord,
        operation: PaymentOperation,
        amount_minor: i64,
        provider_ref: Option<&str>,
    ) -> Result<(), DomainError> {
        let op = match Payments::intend(
            tx.exec(),
            booking,
            operation,
            amount_minor,
            provider_ref,
            None,
        )
        .await
        {
            Ok(op) => op,
            Err(DomainError::Conflict { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        tx.commit().await?;
        let answer = self.payments.perform(&op).await;
        match operation {
            PaymentOperation::Refund => self.apply_refund(booking, &op, &answer).await,
            _ => {
                let mut conn = self.db.write().await?;
                Payments::settle(conn.exec(), &op, &answer).await?;
                Ok(())
            }
        }
    }
}
