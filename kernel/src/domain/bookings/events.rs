//! Booking and payment events. Each payload carries the booking's facts, the guest and the host,
//! and `recipients`: the people the event concerns (notifiers address each of them).
//! [`BookingChange::of`] reads a `booking_*` event back, for live updates.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AccountId;
use crate::bus::{self, DomainEvent, Event};
use crate::data::bookings::{self, BookingRecord};
use crate::data::{DataError, Exec};
use crate::model::{BookingStatus, Currency};

#[derive(Debug, Clone, Serialize)]
struct Person {
    id: Uuid,
    email: String,
    display_name: String,
}

#[derive(Debug, Serialize)]
struct BookingEvent<'a> {
    #[serde(skip)]
    kind: &'static str,
    booking_id: Uuid,
    listing_id: Uuid,
    listing_title: String,
    check_in: NaiveDate,
    check_out: NaiveDate,
    guests: i32,
    status: BookingStatus,
    currency: Currency,
    total_minor: i64,
    /// The amount of a payment event.
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_minor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_reason: Option<&'a str>,
    guest: Person,
    host: Person,
    recipients: Vec<Person>,
}

impl DomainEvent for BookingEvent<'_> {
    fn kind(&self) -> &str {
        self.kind
    }
}

/// A booking reached a status: a `booking_*` event read back.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingChange {
    /// The booking.
    pub booking_id: Uuid,
    /// The event's kind, e.g. `booking_confirmed`.
    pub event: String,
    /// The status it reached.
    pub status: BookingStatus,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Its guest.
    pub guest_id: AccountId,
    /// Its host.
    pub host_id: AccountId,
}

/// The part of a [`BookingEvent`] a change needs.
#[derive(Deserialize)]
struct Facts {
    booking_id: Uuid,
    status: BookingStatus,
    guest: Party,
    host: Party,
}

#[derive(Deserialize)]
struct Party {
    id: Uuid,
}

impl BookingChange {
    /// The change `event` records, if it is a booking's (`booking_*`; payment events are not
    /// status changes) and readable.
    pub fn of(event: &Event) -> Option<Self> {
        if !event.kind.starts_with("booking_") {
            return None;
        }
        let facts = Facts::deserialize(&event.payload).ok()?;
        Some(Self {
            booking_id: facts.booking_id,
            event: event.kind.clone(),
            status: facts.status,
            occurred_at: event.occurred_at,
            guest_id: facts.guest.id.into(),
            host_id: facts.host.id.into(),
        })
    }

    /// Whether `account` is the booking's guest or host.
    pub fn concerns(&self, account: AccountId) -> bool {
        self.guest_id == account || self.host_id == account
    }
}

/// Who an event concerns: both sides, or the guest only.
fn concerns_host(kind: &str) -> bool {
    matches!(
        kind,
        "booking_requested" | "booking_confirmed" | "booking_cancelled" | "booking_completed"
    )
}

/// Records events of `b`, one per `(kind, amount)` of `kinds`, in order: the parties are read
/// once and the events written in one statement.
async fn record(
    mut exec: Exec<'_>,
    b: &BookingRecord,
    kinds: &[(&'static str, Option<i64>)],
) -> Result<(), DataError> {
    let parties = bookings::parties(exec.reborrow(), b)
        .await?
        .ok_or_else(|| {
            DataError::Corrupt(format!("booking {} has a party without an account", b.id))
        })?;
    let guest = Person {
        id: b.guest_id,
        email: parties.guest_email,
        display_name: parties.guest_name,
    };
    let host = Person {
        id: b.host_id,
        email: parties.host_email,
        display_name: parties.host_name,
    };
    let events: Vec<BookingEvent<'_>> = kinds
        .iter()
        .map(|&(kind, amount_minor)| {
            let mut recipients = vec![guest.clone()];
            if concerns_host(kind) {
                recipients.push(host.clone());
            }
            BookingEvent {
                kind,
                booking_id: b.id,
                listing_id: b.listing_id,
                listing_title: parties.listing_title.clone(),
                check_in: b.check_in,
                check_out: b.check_out,
                guests: b.guests,
                status: b.status,
                currency: b.currency,
                total_minor: b.total_minor,
                amount_minor,
                end_reason: b.end_reason.as_deref(),
                guest: guest.clone(),
                host: host.clone(),
                recipients,
            }
        })
        .collect();
    bus::record_all(exec, &events).await
}

/// `booking_*`: the booking reached `b.status`.
pub(super) async fn booking(
    exec: Exec<'_>,
    kind: &'static str,
    b: &BookingRecord,
) -> Result<(), DataError> {
    record(exec, b, &[(kind, None)]).await
}

/// `payment_*`: an operation of `amount_minor` on the booking's payment.
pub(super) async fn payment(
    exec: Exec<'_>,
    kind: &'static str,
    b: &BookingRecord,
    amount_minor: i64,
) -> Result<(), DataError> {
    record(exec, b, &[(kind, Some(amount_minor))]).await
}

/// A payment event (`payment_kind` of `amount_minor`) and the booking event (`booking_kind`) it
/// caused, in that order, written together.
pub(super) async fn payment_then_booking(
    exec: Exec<'_>,
    b: &BookingRecord,
    (payment_kind, amount_minor): (&'static str, i64),
    booking_kind: &'static str,
) -> Result<(), DataError> {
    record(
        exec,
        b,
        &[(payment_kind, Some(amount_minor)), (booking_kind, None)],
    )
    .await
}
