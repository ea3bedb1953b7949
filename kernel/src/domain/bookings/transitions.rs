//! One function per arrow of the booking state diagram (see the module above), each writing its
//! events inside the caller's transaction. Requests, timers, provider webhooks and
//! reconciliation all move bookings through these and nothing else. Each names the statuses it
//! may leave, and returns the booking as changed, or none if it had already left them (someone
//! else moved it first).

use chrono::{DateTime, Utc};

use super::events;
use crate::data::bookings::{self as store, BookingRecord, Changes};
use crate::data::{now, DataError, Exec};
use crate::model::BookingStatus;

/// Moves `booking` from one of `from` to `to` with `changes`, then records the payment event (if
/// any) and the booking event of the arrow; none if someone moved it first.
async fn step(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
    from: &[BookingStatus],
    to: BookingStatus,
    changes: Changes<'_>,
    payment: Option<(&'static str, i64)>,
    event: &'static str,
) -> Result<Option<BookingRecord>, DataError> {
    let moved = store::transition(exec.reborrow(), booking, from, to, &changes, now()).await?;
    if let Some(moved) = &moved {
        match payment {
            Some(payment) => events::payment_then_booking(exec, moved, payment, event).await?,
            None => events::booking(exec, event, moved).await?,
        }
    }
    Ok(moved)
}

fn ending(end_reason: &str) -> Changes<'_> {
    Changes {
        end_reason: Some(end_reason),
        ..Changes::default()
    }
}

/// Authorized: `pending_payment → requested`, waiting for the host until `deadline`.
pub(super) async fn requested(
    exec: Exec<'_>,
    booking: &BookingRecord,
    amount_minor: i64,
    deadline: DateTime<Utc>,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        expires_at: Some(deadline),
        ..Changes::default()
    };
    let from = [BookingStatus::PendingPayment];
    let payment = Some(("payment_authorized", amount_minor));
    step(
        exec,
        booking,
        &from,
        BookingStatus::Requested,
        changes,
        payment,
        "booking_requested",
    )
    .await
}

/// Captured: `requested` (or `pending_payment` for instant book) `→ confirmed`.
pub(super) async fn confirmed(
    exec: Exec<'_>,
    booking: &BookingRecord,
    amount_minor: i64,
) -> Result<Option<BookingRecord>, DataError> {
    let from = [BookingStatus::Requested, BookingStatus::PendingPayment];
    let payment = Some(("payment_captured", amount_minor));
    let to = BookingStatus::Confirmed;
    step(
        exec,
        booking,
        &from,
        to,
        Changes::default(),
        payment,
        "booking_confirmed",
    )
    .await
}

/// The payment failed: `from → cancelled` with `end_reason`.
pub(super) async fn payment_failed(
    exec: Exec<'_>,
    booking: &BookingRecord,
    from: &[BookingStatus],
    end_reason: &str,
    amount_minor: i64,
) -> Result<Option<BookingRecord>, DataError> {
    let payment = Some(("payment_failed", amount_minor));
    let to = BookingStatus::Cancelled;
    step(
        exec,
        booking,
        from,
        to,
        ending(end_reason),
        payment,
        "booking_cancelled",
    )
    .await
}

/// The host said no: `requested → declined`.
pub(super) async fn declined(
    exec: Exec<'_>,
    booking: &BookingRecord,
) -> Result<Option<BookingRecord>, DataError> {
    let from = [BookingStatus::Requested];
    let changes = ending("declined_by_host");
    step(
        exec,
        booking,
        &from,
        BookingStatus::Declined,
        changes,
        None,
        "booking_declined",
    )
    .await
}

/// The guest or host cancelled: `booking.status → cancelled`, with the refund decided.
pub(super) async fn cancelled(
    exec: Exec<'_>,
    booking: &BookingRecord,
    end_reason: &str,
    refund_minor: i64,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        refund_minor: Some(refund_minor),
        ..ending(end_reason)
    };
    let from = [booking.status];
    step(
        exec,
        booking,
        &from,
        BookingStatus::Cancelled,
        changes,
        None,
        "booking_cancelled",
    )
    .await
}

/// Nobody acted in time: `booking.status` (`pending_payment` or `requested`) `→ expired`.
pub(super) async fn expired(
    exec: Exec<'_>,
    booking: &BookingRecord,
    end_reason: &str,
) -> Result<Option<BookingRecord>, DataError> {
    let from = [booking.status];
    let changes = ending(end_reason);
    step(
        exec,
        booking,
        &from,
        BookingStatus::Expired,
        changes,
        None,
        "booking_expired",
    )
    .await
}

/// The stay is over: `confirmed → completed`.
pub(super) async fn completed(
    exec: Exec<'_>,
    booking: &BookingRecord,
) -> Result<Option<BookingRecord>, DataError> {
    let from = [BookingStatus::Confirmed];
    let to = BookingStatus::Completed;
    step(
        exec,
        booking,
        &from,
        to,
        Changes::default(),
        None,
        "booking_completed",
    )
    .await
}
