//! `[bookings]`: the booking timers, the date window and the cap on unconfirmed holds.

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
    /// `max_days_ahead = 1096`: stays, quotes, searches and calendar changes end at most this
    /// many days from today (about three years).
    pub max_days_ahead: NonZeroU32,
    /// `max_days_back = 366`: a calendar is read at most this many days into the past.
    pub max_days_back: NonZeroU32,
    /// `max_unconfirmed_per_guest = 3`: unconfirmed bookings (`pending_payment` + `requested`)
    /// one guest may have at once (429 `too_many_unconfirmed_bookings` past it).
    pub max_unconfirmed_per_guest: NonZeroU32,
    /// `max_unconfirmed_per_listing = 1`: of those, how many at one listing (409
    /// `unconfirmed_booking_exists` past it).
    pub max_unconfirmed_per_listing: NonZeroU32,
}

impl BookingsConfig {
    /// The dates the API accepts.
    pub fn date_window(&self) -> crate::model::DateWindow {
        crate::model::DateWindow {
            back_days: self.max_days_back.get(),
            ahead_days: self.max_days_ahead.get(),
        }
    }
}

impl Default for BookingsConfig {
    fn default() -> Self {
        Self {
            hold_minutes: NonZeroU32::new(15).expect("15 is not zero"),
            request_hours: NonZeroU32::new(24).expect("24 is not zero"),
            max_days_ahead: NonZeroU32::new(1096).expect("1096 is not zero"),
            max_days_back: NonZeroU32::new(366).expect("366 is not zero"),
            max_unconfirmed_per_guest: NonZeroU32::new(3).expect("3 is not zero"),
            max_unconfirmed_per_listing: NonZeroU32::new(1).expect("1 is not zero"),
        }
    }
}
