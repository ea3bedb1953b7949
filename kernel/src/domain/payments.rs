//! Payments: the ledger and the calls to payment-provider plugins.
//!
//! No database transaction is ever held across a provider call: an operation is recorded as
//! `intent` (in the transaction that decided it), the provider is called, and the answer is
//! recorded. An operation whose answer was lost (a crash, a trapping plugin) stays `intent` and
//! the reconciliation job asks again: providers treat the kernel's payment id (authorize) and
//! their reference (the rest) as idempotency keys.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::DomainError;
use crate::config::{PaymentsConfig, PluginKind};
use crate::data::bookings::BookingRecord;
use crate::data::payments::{self as store, PaymentRecord};
use crate::data::{now, DataError, Exec};
use crate::model::{Currency, Money, PaymentFailure, PaymentOperation, PaymentState};
use crate::plugins::kinds::payments::{
    self as provider, AuthorizeRequest, PaymentCall, PaymentStatus,
};
use crate::plugins::{Plugin, PluginCallError, PluginHost};

/// The provider status that means `operation` succeeded.
fn success(operation: PaymentOperation) -> PaymentStatus {
    match operation {
        PaymentOperation::Authorize => PaymentStatus::Authorized,
        PaymentOperation::Capture => PaymentStatus::Captured,
        PaymentOperation::Refund => PaymentStatus::Refunded,
        PaymentOperation::Void => PaymentStatus::Voided,
    }
}

/// What the provider said about one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Done, with the provider's reference.
    Succeeded(String),
    /// An authorization that already took the money (a bank transfer that arrived): as good as
    /// authorized, but returned by a refund rather than a void if the booking ends unconfirmed.
    Collected(String),
    /// Not decided yet; a webhook will say.
    Pending(String),
    /// Refused, for good (a decline, or the plugin's own error): the code the parties see, and
    /// the provider's or plugin's own words for admins.
    Failed(PaymentFailure, String),
    /// No usable answer (trap, timeout, unexpected status): ask again later.
    Unknown(String),
}

/// One ledger entry.
#[derive(Debug, Clone)]
pub struct PaymentView {
    /// Id (the provider's idempotency key for an authorization).
    pub id: Uuid,
    /// What was asked of the provider.
    pub operation: PaymentOperation,
    /// Where it is.
    pub status: PaymentState,
    /// Minor units.
    pub amount_minor: i64,
    /// ISO 4217.
    pub currency: Currency,
    /// The payments plugin.
    pub provider: String,
    /// The provider's reference.
    pub provider_ref: Option<String>,
    /// Why it failed, as the parties see it.
    pub failure: Option<PaymentFailure>,
    /// The provider's or plugin's own words about a failure or error: for admins only.
    pub detail: Option<String>,
    /// Recorded.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<PaymentRecord> for PaymentView {
    fn from(r: PaymentRecord) -> Self {
        Self {
            id: r.id,
            operation: r.operation,
            status: r.status,
            amount_minor: r.amount_minor,
            currency: r.currency,
            provider: r.provider,
            provider_ref: r.provider_ref,
            failure: r.failure_code,
            detail: r.detail,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The providers. Cheap to clone.
#[derive(Clone)]
pub struct Payments {
    plugins: Arc<PluginHost>,
    config: PaymentsConfig,
}

impl std::fmt::Debug for Payments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Payments")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Payments {
    /// Providers from the running plugin set, chosen by `config`.
    pub fn new(plugins: Arc<PluginHost>, config: &PaymentsConfig) -> Self {
        Self {
            plugins,
            config: config.clone(),
        }
    }

    /// How long an `intent` may wait before reconciliation asks the provider again.
    pub fn reconcile_after(&self) -> chrono::Duration {
        chrono::Duration::seconds(i64::try_from(self.config.reconcile_after_secs).unwrap_or(60))
    }

    /// The payments plugin for `currency`, if configured and loaded.
    pub fn provider_for(&self, currency: Currency) -> Result<String, DomainError> {
        let id = self.config.provider_for(currency.as_str()).ok_or_else(|| {
            DomainError::PaymentUnavailable(format!("no payments provider for {currency}"))
        })?;
        self.plugin(id)?;
        Ok(id.to_owned())
    }

    /// A loaded payments plugin by id.
    pub fn plugin(&self, id: &str) -> Result<Arc<Plugin>, DomainError> {
        self.plugins
            .current()
            .get(id)
            .filter(|p| p.info().kind == PluginKind::Payments)
            .cloned()
            .ok_or_else(|| {
                DomainError::PaymentUnavailable(format!("payments plugin `{id}` is not loaded"))
            })
    }

    /// Records `operation` of `amount` on `booking` as an intent, in the caller's
    /// transaction. A booking has at most one live operation of each kind: a second is
    /// `payment_in_progress`.
    pub async fn intend(
        exec: Exec<'_>,
        booking: &BookingRecord,
        operation: PaymentOperation,
        amount_minor: i64,
        provider_ref: Option<&str>,
        payment_method: Option<&str>,
    ) -> Result<PaymentRecord, DomainError> {
        let now = now();
        let record = PaymentRecord {
            id: Uuid::now_v7(),
            booking_id: booking.id,
            provider: booking.provider.clone(),
            operation,
            status: PaymentState::Intent,
            amount_minor,
            currency: booking.currency,
            provider_ref: provider_ref.map(str::to_owned),
            payment_method: payment_method.map(str::to_owned),
            failure_code: None,
            detail: None,
            collected: false,
            created_at: now,
            updated_at: now,
        };
        match store::insert(exec, &record).await {
            Ok(()) => Ok(record),
            Err(DataError::UniqueViolation) => Err(DomainError::Conflict {
                code: "payment_in_progress",
                detail: format!(
                    "this booking already has a {} in progress or done",
                    operation.as_str()
                ),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Asks the provider to carry out a recorded operation: an authorization with its payment
    /// method, the others on the authorization's reference (`op.provider_ref`).
    pub async fn perform(&self, op: &PaymentRecord) -> Answer {
        let operation = op.operation;
        let plugin = match self.plugin(&op.provider) {
            Ok(p) => p,
            Err(e) => return Answer::Unknown(e.to_string()),
        };
        let amount = Money::new(op.amount_minor, op.currency);
        let reference = op.provider_ref.clone().unwrap_or_default();
        let call = match operation {
            PaymentOperation::Authorize => PaymentCall::Authorize {
                request: AuthorizeRequest {
                    payment_id: op.id.to_string(),
                    booking_id: op.booking_id.to_string(),
                    amount,
                    payment_method: op.payment_method.clone().unwrap_or_default(),
                },
            },
            PaymentOperation::Capture => PaymentCall::Capture {
                provider_ref: reference,
                amount,
            },
            PaymentOperation::Refund => PaymentCall::Refund {
                provider_ref: reference,
                amount,
            },
            PaymentOperation::Void => PaymentCall::Cancel {
                provider_ref: reference,
            },
        };
        match provider::call(&plugin, &call).await {
            Ok(r) if r.status == success(operation) => Answer::Succeeded(r.provider_ref),
            // A bank transfer that already arrived is as good as an authorization.
            Ok(r)
                if operation == PaymentOperation::Authorize
                    && r.status == PaymentStatus::Captured =>
            {
                Answer::Collected(r.provider_ref)
            }
            Ok(r) if r.status == PaymentStatus::Pending => Answer::Pending(r.provider_ref),
            Ok(r) => match r.status {
                PaymentStatus::Declined(reason) => {
                    Answer::Failed(PaymentFailure::of_decline(&reason), reason)
                }
                other => Answer::Unknown(format!(
                    "the provider answered {other:?} to {}",
                    operation.as_str()
                )),
            },
            Err(e @ PluginCallError::Plugin { .. }) => {
                Answer::Failed(PaymentFailure::ProviderError, e.to_string())
            }
            Err(e) => Answer::Unknown(e.to_string()),
        }
    }

    /// Records an answer on its operation; the settled row, or none if the operation was
    /// already final (or the answer is [`Answer::Unknown`], which only notes the error). Once
    /// the provider has answered, the raw payment method is not needed again (reconciliation
    /// only re-asks an `intent`), so only its masked form is kept.
    pub async fn settle(
        exec: Exec<'_>,
        op: &PaymentRecord,
        answer: &Answer,
    ) -> Result<Option<PaymentRecord>, DataError> {
        let masked = op.payment_method.as_deref().map(mask_payment_method);
        let settlement = |status, provider_ref, failure| store::Settlement {
            status,
            provider_ref,
            failure,
            payment_method: masked.as_deref(),
            collected: matches!(answer, Answer::Collected(_)),
        };
        let now = now();
        let settled = match answer {
            Answer::Succeeded(r) | Answer::Collected(r) => {
                settlement(PaymentState::Succeeded, Some(r.as_str()), None)
            }
            Answer::Pending(r) => settlement(PaymentState::Pending, Some(r.as_str()), None),
            Answer::Failed(code, why) => {
                settlement(PaymentState::Failed, None, Some((*code, why.as_str())))
            }
            Answer::Unknown(why) => {
                store::note(exec, op.id, why, now).await?;
                return Ok(None);
            }
        };
        store::settle(exec, op.id, &settled, now).await
    }
}

/// What is kept of a payment method once the provider has answered: its last four characters
/// (a card's last four digits), or nothing of a shorter one.
pub fn mask_payment_method(method: &str) -> String {
    let chars: Vec<char> = method.trim().chars().collect();
    match chars.len() {
        n if n > 4 => format!("••••{}", chars[n - 4..].iter().collect::<String>()),
        _ => "••••".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settled_payment_method_keeps_only_its_last_four() {
        assert_eq!(mask_payment_method("4242424242424242"), "••••4242");
        assert_eq!(mask_payment_method(" pm_card_visa "), "••••visa");
        assert_eq!(
            mask_payment_method("1234"),
            "••••",
            "too short to show any of"
        );
    }
}
