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
use crate::model::{Currency, Money, PaymentOperation, PaymentState};
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
    /// Not decided yet; a webhook will say.
    Pending(String),
    /// Refused, for good (a decline, or the plugin's own error).
    Failed(String),
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
    /// A decline reason or error.
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
            detail: None,
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
                Answer::Succeeded(r.provider_ref)
            }
            Ok(r) if r.status == PaymentStatus::Pending => Answer::Pending(r.provider_ref),
            Ok(r) => match r.status {
                PaymentStatus::Declined(reason) => Answer::Failed(reason),
                other => Answer::Unknown(format!(
                    "the provider answered {other:?} to {}",
                    operation.as_str()
                )),
            },
            Err(e @ PluginCallError::Plugin { .. }) => Answer::Failed(e.to_string()),
            Err(e) => Answer::Unknown(e.to_string()),
        }
    }

    /// Records an answer on its operation; the settled row, or none if the operation was
    /// already final (or the answer is [`Answer::Unknown`], which only notes the error).
    pub async fn settle(
        exec: Exec<'_>,
        op: &PaymentRecord,
        answer: &Answer,
    ) -> Result<Option<PaymentRecord>, DataError> {
        let now = now();
        match answer {
            Answer::Succeeded(r) => {
                store::settle(exec, op.id, PaymentState::Succeeded, Some(r), None, now).await
            }
            Answer::Pending(r) => {
                store::settle(exec, op.id, PaymentState::Pending, Some(r), None, now).await
            }
            Answer::Failed(why) => {
                store::settle(exec, op.id, PaymentState::Failed, None, Some(why), now).await
            }
            Answer::Unknown(why) => {
                store::note(exec, op.id, why, now).await?;
                Ok(None)
            }
        }
    }
}
