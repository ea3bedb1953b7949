//! The booking timers, run as scheduled jobs: unpaid holds and unanswered requests expire,
//! confirmed stays complete after check-out, and payment operations whose outcome was lost are
//! settled by asking the provider again.

use futures_util::future::BoxFuture;

use super::{transitions, Bookings};
use crate::data::bookings as store;
use crate::data::now;
use crate::data::payments as ledger;
use crate::domain::payments::{Answer, Payments};
use crate::domain::DomainError;
use crate::jobs::{JobError, JobHandler, JobRun};
use crate::model::{BookingStatus, PaymentOperation};

/// Rows one timer run handles; the next run takes the rest.
const BATCH: u32 = 200;

impl From<DomainError> for JobError {
    fn from(e: DomainError) -> Self {
        JobError::Failed(e.to_string())
    }
}

impl Bookings {
    /// Expires holds whose payment never completed and requests the host never answered,
    /// releasing their authorizations. A booking whose capture is in flight is left for the
    /// capture's answer to decide.
    pub async fn expire_due(&self) -> Result<usize, DomainError> {
        let mut expired = 0;
        for (status, reason) in [
            (BookingStatus::PendingPayment, "payment_not_completed"),
            (BookingStatus::Requested, "host_did_not_answer"),
        ] {
            let due = {
                let mut conn = self.db.acquire().await?;
                store::expired(conn.exec(), status, now(), BATCH).await?
            };
            for b in due {
                let mut tx = self.db.begin().await?;
                let Some(ended) = transitions::expired(tx.exec(), &b, reason).await? else {
                    continue;
                };
                // A capture in flight decides this booking: expiring it now could leave the
                // guest charged for a stay that no longer exists. Checked after the transition,
                // in its transaction, so a capture recorded meanwhile is seen (the booking row
                // is locked by both); dropping `tx` rolls the expiry back.
                if ledger::live(tx.exec(), b.id, PaymentOperation::Capture)
                    .await?
                    .is_some()
                {
                    continue;
                }
                tx.commit().await?;
                self.listings.availability_changed(ended.listing_id).await;
                self.release(ended.id).await?;
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Completes confirmed stays whose check-out day has come.
    pub async fn complete_due(&self) -> Result<usize, DomainError> {
        let today = now().date_naive();
        let due = {
            let mut conn = self.db.acquire().await?;
            store::stays_over(conn.exec(), today, BATCH).await?
        };
        let mut completed = 0;
        for b in due {
            let mut tx = self.db.begin().await?;
            if transitions::completed(tx.exec(), &b).await?.is_some() {
                completed += 1;
            }
            tx.commit().await?;
        }
        Ok(completed)
    }

    /// Asks the provider again about every operation left `intent` (a crash between the call
    /// and its record, or a provider that gave no answer), and finishes what it started: an
    /// authorization moves its booking on, or is voided if the booking ended meanwhile; a
    /// capture confirms; voids and refunds are recorded. Then it releases what ended bookings
    /// still hold (an authorization whose release was lost to a crash or a failed confirmation).
    pub async fn reconcile(&self) -> Result<usize, DomainError> {
        let answered = self.reconcile_intents().await?;
        let unreleased = {
            let mut conn = self.db.acquire().await?;
            ledger::unreleased(conn.exec(), now() - self.payments.reconcile_after(), BATCH).await?
        };
        for &id in &unreleased {
            self.release(id).await?;
        }
        Ok(answered + unreleased.len())
    }

    async fn reconcile_intents(&self) -> Result<usize, DomainError> {
        let stale = {
            let mut conn = self.db.acquire().await?;
            ledger::stale_intents(conn.exec(), now() - self.payments.reconcile_after(), BATCH)
                .await?
        };
        let mut settled = 0;
        for op in stale {
            let Some(booking) = ({
                let mut conn = self.db.acquire().await?;
                store::find(conn.exec(), op.booking_id).await?
            }) else {
                continue;
            };
            let answer = self.payments.perform(&op).await;
            if let Answer::Unknown(_) = &answer {
                // Why is in the ledger's detail, for admins: it may be the provider's own words.
                tracing::warn!(payment.id = %op.id, "reconciliation: still no answer");
            }
            let result = match op.operation {
                PaymentOperation::Authorize if booking.status == BookingStatus::PendingPayment => {
                    self.apply_authorization(booking, &op, answer, None)
                        .await
                        .map(|_| ())
                }
                PaymentOperation::Authorize => {
                    // The booking ended without this authorization: record it, then void it.
                    let mut conn = self.db.write().await?;
                    Payments::settle(conn.exec(), &op, &answer).await?;
                    drop(conn);
                    self.release(booking.id).await
                }
                PaymentOperation::Capture => self
                    .apply_capture(booking, &op, answer, None)
                    .await
                    .map(|_| ()),
                PaymentOperation::Refund => self.apply_refund(&booking, &op, &answer).await,
                PaymentOperation::Void => {
                    let mut conn = self.db.write().await?;
                    Payments::settle(conn.exec(), &op, &answer)
                        .await
                        .map(|_| ())
                        .map_err(Into::into)
                }
            };
            match result {
                Ok(()) => settled += 1,
                // The booking's own outcome (declined, unavailable) is not a reconciliation failure.
                Err(DomainError::PaymentDeclined { .. } | DomainError::PaymentUnavailable(_)) => {}
                Err(DomainError::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(settled)
    }
}

macro_rules! timer {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $method:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Bookings);

        impl JobHandler for $name {
            fn kind(&self) -> &'static str {
                $kind
            }

            fn run<'a>(&'a self, _run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
                Box::pin(async move {
                    let n = self.0.$method().await?;
                    if n > 0 {
                        tracing::info!(timer = $kind, n, "bookings timer ran");
                    }
                    Ok(())
                })
            }
        }
    };
}

timer!(
    /// `expire_bookings`: see [`Bookings::expire_due`].
    ExpireBookings,
    "expire_bookings",
    expire_due
);
timer!(
    /// `complete_stays`: see [`Bookings::complete_due`].
    CompleteStays,
    "complete_stays",
    complete_due
);
timer!(
    /// `reconcile_payments`: see [`Bookings::reconcile`].
    ReconcilePayments,
    "reconcile_payments",
    reconcile
);
