//! `[bookings]`: the booking timers.

use std::num::NonZeroU32;

use serde::Deserialize;

/// `[bookings]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookingsConfig {
    /// `hold_minutes = 15`: a booking waiting for its payment (`pending_payment`) expires after
    /// this long and its nights are free again.
    pub hold_minutes: NonZeroU32,
    /// `request_hours = 24`: a request the host has not answered expires after this long.
    pub request_hours: NonZeroU32,
}

impl Default for BookingsConfig {
    fn default() -> Self {
        Self {
            hold_minutes: NonZeroU32::new(15).expect("15 is not zero"),
            request_hours: NonZeroU32::new(24).expect("24 is not zero"),
        }
    }
}
