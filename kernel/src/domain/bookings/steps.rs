//! The booking transitions a payment outcome causes, each with its events, inside the caller's
//! transaction. Shared by the request path, reconciliation and provider webhooks. Each returns
//! the booking as changed, or none if it had already left the statuses the step starts from.

use chrono::{DateTime, Utc};

use super::{events, BookingStatus};
use crate::data::bookings::{self as store, BookingRecord, Changes};
use crate::data::{now, DataError, Exec};

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
    let moved = store::transition(
        exec.reborrow(),
        booking.id,
        &[BookingStatus::PendingPayment.as_str()],
        BookingStatus::Requested.as_str(),
        &changes,
        now(),
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
    let moved = store::transition(
        exec.reborrow(),
        booking.id,
        &[
            BookingStatus::Requested.as_str(),
            BookingStatus::PendingPayment.as_str(),
        ],
        BookingStatus::Confirmed.as_str(),
        &Changes::default(),
        now(),
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
    from: &[&str],
    end_reason: &str,
    amount_minor: i64,
) -> Result<Option<BookingRecord>, DataError> {
    let changes = Changes {
        end_reason: Some(end_reason),
        ..Changes::default()
    };
    let ended = store::transition(
        exec.reborrow(),
        booking.id,
        from,
        BookingStatus::Cancelled.as_str(),
        &changes,
        now(),
    )
    .await?;
    if let Some(ended) = &ended {
        events::payment(exec.reborrow(), "payment_failed", ended, amount_minor).await?;
        events::booking(exec, "booking_cancelled", ended).await?;
    }
    Ok(ended)
}
