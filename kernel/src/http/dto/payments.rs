//! Payments: the ledger entries and webhook outcomes clients and providers see.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::bookings::WebhookOutcome as Outcome;
use crate::domain::payments as domain;
use crate::model::{Currency, PaymentFailure, PaymentOperation, PaymentState};

/// One ledger entry as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Payment")]
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
    /// Why it failed: `card_declined`, `insufficient_funds`, `expired_card`, `invoice_expired`,
    /// `declined` or `provider_error`.
    pub failure_code: Option<PaymentFailure>,
    /// The provider's or plugin's own words about a failure or error: shown to admins only.
    pub detail: Option<String>,
    /// Recorded.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<domain::PaymentView> for PaymentView {
    fn from(p: domain::PaymentView) -> Self {
        Self {
            id: p.id,
            operation: p.operation,
            status: p.status,
            amount_minor: p.amount_minor,
            currency: p.currency,
            provider: p.provider,
            provider_ref: p.provider_ref,
            failure_code: p.failure,
            detail: p.detail,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// What a webhook did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// It changed a payment (and perhaps its booking).
    Applied,
    /// This delivery was already applied.
    Duplicate,
    /// Verified, but about nothing open here (an unknown payment, or a final one).
    Ignored,
}

impl From<Outcome> for WebhookOutcome {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Applied => WebhookOutcome::Applied,
            Outcome::Duplicate => WebhookOutcome::Duplicate,
            Outcome::Ignored => WebhookOutcome::Ignored,
        }
    }
}
