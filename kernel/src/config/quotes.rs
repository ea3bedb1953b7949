//! `[quotes]`: how long a priced quote holds.

use std::num::NonZeroU64;

use serde::Deserialize;

use super::error::Checks;

/// The longest a quote may hold its price: a day, so a stale price cannot be booked for long.
const MAX_TTL_MINUTES: u64 = 24 * 60;

/// `[quotes]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuotesConfig {
    /// `ttl_minutes = 15`: how long a quote holds its price for a booking (at most 1440).
    pub ttl_minutes: NonZeroU64,
}

impl Default for QuotesConfig {
    fn default() -> Self {
        Self {
            ttl_minutes: NonZeroU64::new(15).expect("15 is not zero"),
        }
    }
}

impl QuotesConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        if self.ttl_minutes.get() > MAX_TTL_MINUTES {
            checks.invalid("quotes.ttl_minutes", "1 to 1440 minutes");
        }
    }
}
