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

async fn transition(
    exec: Exec<'_>,
    booking: &BookingRecord,
    from: &[BookingStatus],
    to: BookingStatus,
    changes: Changes<'_>,
) -> Result<Option<BookingRecord>, DataError> {
    store::transition(exec, booking.id, from, to, &changes, now()).await
}

/// Authorized: `pending_payment → requested`, waiting for the host until `deadline`.
pub(super) async fn requested(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
    amount_minor: i64,
    deadline: DateTime<Utc>,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        expires_at: Some(deadline),
        ..Changes::default()
    };
    let from = [BookingStatus::PendingPayment];
    let moved = transition(
        exec.reborrow(),
        booking,
        &from,
        BookingStatus::Requested,
        changes,
    )
    .await?;
    if let Some(moved) = &moved {
        events::payment(exec.reborrow(), "payment_authorized", moved, amount_minor).await?;
        events::booking(exec, "booking_requested", moved).await?;
    }
    Ok(moved)
}

/// Captured: `requested` (or `pending_payment` for instant book) `→ confirmed`.
pub(super) async fn confirmed(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
    amount_minor: i64,
) -> Result<Option<BookingRecord>, DataError> {
    let from = [BookingStatus::Requested, BookingStatus::PendingPayment];
    let moved = transition(
        exec.reborrow(),
        booking,
        &from,
        BookingStatus::Confirmed,
        Changes::default(),
    )
    .await?;
    if let Some(moved) = &moved {
        events::payment(exec.reborrow(), "payment_captured", moved, amount_minor).await?;
        events::booking(exec, "booking_confirmed", moved).await?;
    }
    Ok(moved)
}

/// The payment failed: `from → cancelled` with `end_reason`.
pub(super) async fn payment_failed(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
    from: &[BookingStatus],
    end_reason: &str,
    amount_minor: i64,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        end_reason: Some(end_reason),
        ..Changes::default()
    };
    let ended = transition(
        exec.reborrow(),
        booking,
        from,
        BookingStatus::Cancelled,
        changes,
    )
    .await?;
    if let Some(ended) = &ended {
        events::payment(exec.reborrow(), "payment_failed", ended, amount_minor).await?;
        events::booking(exec, "booking_cancelled", ended).await?;
    }
    Ok(ended)
}

/// The host said no: `requested → declined`.
pub(super) async fn declined(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        end_reason: Some("declined_by_host"),
        ..Changes::default()
    };
    let from = [BookingStatus::Requested];
    let ended = transition(
        exec.reborrow(),
        booking,
        &from,
        BookingStatus::Declined,
        changes,
    )
    .await?;
    if let Some(ended) = &ended {
        events::booking(exec, "booking_declined", ended).await?;
    }
    Ok(ended)
}

/// The guest or host cancelled: `booking.status → cancelled`, with the refund decided.
pub(super) async fn cancelled(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
    end_reason: &str,
    refund_minor: i64,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        end_reason: Some(end_reason),
        refund_minor: Some(refund_minor),
        ..Changes::default()
    };
    let from = [booking.status];
    let ended = transition(
        exec.reborrow(),
        booking,
        &from,
        BookingStatus::Cancelled,
        changes,
    )
    .await?;
    if let Some(ended) = &ended {
        events::booking(exec, "booking_cancelled", ended).await?;
    }
    Ok(ended)
}

/// Nobody acted in time: `booking.status` (`pending_payment` or `requested`) `→ expired`.
pub(super) async fn expired(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
    end_reason: &str,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        end_reason: Some(end_reason),
        ..Changes::default()
    };
    let from = [booking.status];
    let ended = transition(
        exec.reborrow(),
        booking,
        &from,
        BookingStatus::Expired,
        changes,
    )
    .await?;
    if let Some(ended) = &ended {
        events::booking(exec, "booking_expired", ended).await?;
    }
    Ok(ended)
}

/// The stay is over: `confirmed → completed`.
pub(super) async fn completed(
    mut exec: Exec<'_>,
    booking: &BookingRecord,
) -> Result<Option<BookingRecord>, DataError> {
    let from = [BookingStatus::Confirmed];
    let done = transition(
        exec.reborrow(),
        booking,
        &from,
        BookingStatus::Completed,
        Changes::default(),
    )
    .await?;
    if let Some(done) = &done {
        events::booking(exec, "booking_completed", done).await?;
    }
    Ok(done)
}
