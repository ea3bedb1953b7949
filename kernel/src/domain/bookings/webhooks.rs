//! Provider webhooks: `POST /v1/webhooks/payments/{plugin_id}` hands the raw body and headers to
//! the provider plugin, which verifies the signature and freshness and parses it. A delivery is
//! applied once (by the provider's event id); a webhook never moves an operation out of a final
//! state, so duplicates and out-of-order deliveries are harmless. A webhook that may be about an
//! authorization whose answer is not recorded yet is refused unrecorded (503), so the provider's
//! retry lands once it is.

use super::{events, transitions, Bookings};
use crate::data::bookings as store;
use crate::data::now;
use crate::data::payments::{self as ledger, PaymentRecord};
use crate::domain::payments::{Answer, Payments};
use crate::domain::{DomainError, Resource};
use crate::model::{BookingStatus, PaymentFailure, PaymentOperation, PaymentState};
use crate::plugins::kinds::payments::{self as provider, PaymentStatus, Webhook};
use crate::plugins::PluginCallError;

/// What a webhook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// It changed a payment (and perhaps its booking).
    Applied,
    /// This delivery was already applied.
    Duplicate,
    /// Verified, but about nothing open here (an unknown payment, or a final one).
    Ignored,
}

/// What to do once the webhook's transaction committed.
enum Then {
    Nothing,
    Confirm(uuid::Uuid),
    Release(uuid::Uuid),
    RefundIfEnded(PaymentRecord),
}

impl Bookings {
    /// Verifies, parses and applies one provider webhook.
    pub async fn webhook(
        &self,
        plugin_id: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Result<WebhookOutcome, DomainError> {
        let plugin = self
            .payments
            .plugin(plugin_id)
            .map_err(|_| DomainError::NotFound(Resource::PaymentsPlugin))?;
        let webhook = Webhook {
            headers,
            body,
            received_at_ms: u64::try_from(now().timestamp_millis()).unwrap_or(0),
        };
        let event = match provider::parse_webhook(&plugin, &webhook).await {
            Ok(e) => e,
            Err(PluginCallError::Plugin { failure, .. }) => {
                return Err(DomainError::InvalidWebhook(failure.to_string()))
            }
            Err(e) => return Err(DomainError::PaymentUnavailable(e.redacted().to_string())),
        };
        let status = match &event.status {
            PaymentStatus::Declined(r) => format!("declined:{r}"),
            other => format!("{other:?}").to_lowercase(),
        };
        let mut tx = self.db.begin().await?;
        let fresh = ledger::insert_webhook(
            tx.exec(),
            plugin_id,
            &event.event_id,
            &event.provider_ref,
            &status,
            now(),
        )
        .await?;
        if !fresh {
            return Ok(WebhookOutcome::Duplicate);
        }
        let auth = ledger::authorization_by_ref(tx.exec(), plugin_id, &event.provider_ref).await?;
        let Some(auth) = auth else {
            if ledger::has_unanswered(tx.exec(), plugin_id).await? {
                // Perhaps about an authorization whose answer (and so its reference) is not
                // recorded yet: not recorded as seen (dropping `tx`), so the provider's retry is
                // applied once the answer is in.
                return Err(DomainError::WebhookEarly);
            }
            tx.commit().await?;
            return Ok(WebhookOutcome::Ignored);
        };
        let Some(booking) = store::find(tx.exec(), auth.booking_id).await? else {
            tx.commit().await?;
            return Ok(WebhookOutcome::Ignored);
        };
        let reference = event.provider_ref.clone();
        let mut then = Then::Nothing;
        let applied = match &event.status {
            PaymentStatus::Authorized | PaymentStatus::Captured => {
                let capture =
                    ledger::live(tx.exec(), booking.id, PaymentOperation::Capture).await?;
                match capture.filter(|c| PaymentState::OPEN.contains(&c.status)) {
                    // A capture completed (pending, or still waiting for its direct answer).
                    Some(c) if event.status == PaymentStatus::Captured => {
                        let settled =
                            Payments::settle(tx.exec(), &c, &Answer::Succeeded(reference)).await?;
                        let moved =
                            transitions::confirmed(tx.exec(), &booking, c.amount_minor).await?;
                        if moved.is_none() {
                            then = Then::RefundIfEnded(c);
                        }
                        settled.is_some()
                    }
                    _ => {
                        // A transfer that arrived has collected the money already.
                        let answer = if event.status == PaymentStatus::Captured {
                            Answer::Collected(reference)
                        } else {
                            Answer::Succeeded(reference)
                        };
                        let settled = Payments::settle(tx.exec(), &auth, &answer).await?;
                        if settled.is_some() {
                            if booking.status != BookingStatus::PendingPayment {
                                // The booking ended while the payment was pending.
                                then = Then::Release(booking.id);
                            } else if booking.instant_book {
                                events::payment(
                                    tx.exec(),
                                    "payment_authorized",
                                    &booking,
                                    auth.amount_minor,
                                )
                                .await?;
                                then = Then::Confirm(booking.id);
                            } else {
                                transitions::requested(
                                    tx.exec(),
                                    &booking,
                                    auth.amount_minor,
                                    self.request_deadline(),
                                )
                                .await?;
                            }
                        }
                        settled.is_some()
                    }
                }
            }
            PaymentStatus::Declined(reason) => {
                let answer = Answer::Failed(PaymentFailure::of_decline(reason), reason.clone());
                let settled = Payments::settle(tx.exec(), &auth, &answer).await?;
                if settled.is_some() {
                    let from = [BookingStatus::PendingPayment];
                    transitions::payment_failed(
                        tx.exec(),
                        &booking,
                        &from,
                        "payment_declined",
                        auth.amount_minor,
                    )
                    .await?;
                }
                settled.is_some()
            }
            PaymentStatus::Refunded | PaymentStatus::Voided => {
                let operation = if event.status == PaymentStatus::Refunded {
                    PaymentOperation::Refund
                } else {
                    PaymentOperation::Void
                };
                let open = ledger::live(tx.exec(), booking.id, operation)
                    .await?
                    .filter(|o| PaymentState::OPEN.contains(&o.status));
                match open {
                    Some(o) => {
                        let done =
                            Payments::settle(tx.exec(), &o, &Answer::Succeeded(reference)).await?;
                        if done.is_some() && operation == PaymentOperation::Refund {
                            events::payment(
                                tx.exec(),
                                "payment_refunded",
                                &booking,
                                o.amount_minor,
                            )
                            .await?;
                        }
                        done.is_some()
                    }
                    None => false,
                }
            }
            PaymentStatus::Pending => false,
        };
        tx.commit().await?;
        self.listings.availability_changed(booking.listing_id).await;
        match then {
            Then::Nothing => {}
            Then::Confirm(id) => {
                if let Err(e) = self.confirm_or_release(id, None).await {
                    tracing::warn!(booking.id = %id, error = %e, "confirming after a webhook failed");
                }
            }
            Then::Release(id) => self.release(id).await?,
            Then::RefundIfEnded(capture) => self.refund_if_ended(booking.id, &capture).await?,
        }
        Ok(if applied {
            WebhookOutcome::Applied
        } else {
            WebhookOutcome::Ignored
        })
    }
}
