//! A priced line as quotes and bookings store and show it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuoteLine {
    /// Stable code: `nightly`, `cleaning-fee`, `weekly-discount`, `occupancy-tax`, ...
    pub code: String,
    /// Shown to the guest.
    pub description: String,
    /// Minor units (negative for discounts).
    pub amount_minor: i64,
    /// The night it prices, for per-night lines.
    pub night: Option<NaiveDate>,
    /// Who produced it: `kernel` or a plugin id.
    pub source: String,
}
