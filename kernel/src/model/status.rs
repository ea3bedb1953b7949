//! Every status and closed set of names the kernel stores: bookings, listings, the payments
//! ledger, reviews, and a listing's policy, type and amenities. Each is TEXT in both databases
//! under the names listed here (the `CHECK` constraints in `migrations/` list the same names).

string_enum!(
    /// Where a booking is in its life.
    BookingStatus {
        /// Waiting for the payment authorization (held for `bookings.hold_minutes`).
        PendingPayment = "pending_payment",
        /// Paid (authorized); waiting for the host (for `bookings.request_hours`).
        Requested = "requested",
        /// Accepted and captured.
        Confirmed = "confirmed",
        /// The stay is over.
        Completed = "completed",
        /// The host said no.
        Declined = "declined",
        /// The guest or host cancelled, or the payment failed.
        Cancelled = "cancelled",
        /// Nobody acted in time.
        Expired = "expired",
    }
);

impl BookingStatus {
    /// The statuses in which a booking holds its nights: the one definition of "active" (the
    /// PostgreSQL exclusion constraint `bookings_no_overlap` lists the same set; a data test
    /// checks they agree).
    pub const ACTIVE: &'static [BookingStatus] = &[
        BookingStatus::PendingPayment,
        BookingStatus::Requested,
        BookingStatus::Confirmed,
        BookingStatus::Completed,
    ];

    /// Whether a booking in this status holds its nights.
    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

string_enum!(
    /// What kind of place it is.
    PropertyType {
        /// A flat in a building.
        Apartment = "apartment",
        /// A whole house.
        House = "house",
        /// A private room in a shared home.
        Room = "room",
        /// A cabin.
        Cabin = "cabin",
        /// A villa.
        Villa = "villa",
        /// Anything else.
        Other = "other",
    }
);

string_enum!(
    /// Airbnb's cancellation policies: `flexible` (full refund until 24 h before check-in),
    /// `moderate` (full refund until 5 days before), `strict` (full refund within 48 h of booking
    /// if check-in is 14+ days away, 50% until 7 days before, none after).
    CancellationPolicy {
        /// Full refund until 24 hours before check-in.
        Flexible = "flexible",
        /// Full refund until 5 days before check-in.
        Moderate = "moderate",
        /// 50% refund until 7 days before check-in.
        Strict = "strict",
    }
);

string_enum!(
    /// Who can see a listing.
    ListingStatus {
        /// Only the owner (and admins).
        Draft = "draft",
        /// Everyone, and it appears in search.
        Published = "published",
        /// Everyone with the link; not in search.
        Unlisted = "unlisted",
    }
);

string_enum!(
    /// Amenities a listing can offer (a fixed list, so search can filter on them).
    Amenity {
        /// Wi-Fi.
        Wifi = "wifi",
        /// A kitchen.
        Kitchen = "kitchen",
        /// A washing machine.
        Washer = "washer",
        /// A dryer.
        Dryer = "dryer",
        /// Air conditioning.
        AirConditioning = "air_conditioning",
        /// Heating.
        Heating = "heating",
        /// A TV.
        Tv = "tv",
        /// Free parking.
        Parking = "parking",
        /// A pool.
        Pool = "pool",
        /// A hot tub.
        HotTub = "hot_tub",
        /// A gym.
        Gym = "gym",
        /// A dedicated workspace.
        Workspace = "workspace",
        /// An elevator.
        Elevator = "elevator",
        /// Step-free access.
        WheelchairAccessible = "wheelchair_accessible",
        /// Pets allowed.
        PetsAllowed = "pets_allowed",
        /// A smoke alarm.
        SmokeAlarm = "smoke_alarm",
        /// A crib.
        Crib = "crib",
        /// A fireplace.
        Fireplace = "fireplace",
        /// A barbecue.
        Bbq = "bbq",
        /// An EV charger.
        EvCharger = "ev_charger",
        /// Beach access.
        BeachAccess = "beach_access",
        /// A garden.
        Garden = "garden",
    }
);

string_enum!(
    /// An operation with a payment provider.
    PaymentOperation {
        /// Hold the amount.
        Authorize = "authorize",
        /// Take it.
        Capture = "capture",
        /// Return some of it.
        Refund = "refund",
        /// Release the hold.
        Void = "void",
    }
);

string_enum!(
    /// Where one ledger operation is.
    PaymentState {
        /// Recorded; the provider has not answered yet (reconciliation asks again if it never does).
        Intent = "intent",
        /// The provider will say later (by webhook).
        Pending = "pending",
        /// Done.
        Succeeded = "succeeded",
        /// Refused, or an error that ended it.
        Failed = "failed",
    }
);

impl PaymentState {
    /// Still waiting for the provider's final word.
    pub const OPEN: &'static [PaymentState] = &[PaymentState::Intent, PaymentState::Pending];
}

string_enum!(
    /// Why a payment operation failed, as the parties see it: a code, never the provider's or a
    /// plugin's own words (those are kept for admins).
    PaymentFailure {
        /// The card or account was refused.
        CardDeclined = "card_declined",
        /// Not enough money.
        InsufficientFunds = "insufficient_funds",
        /// The card has expired.
        ExpiredCard = "expired_card",
        /// A bank transfer did not arrive in time.
        InvoiceExpired = "invoice_expired",
        /// Refused for another reason.
        Declined = "declined",
        /// The provider or its plugin failed.
        ProviderError = "provider_error",
    }
);

impl PaymentFailure {
    /// The code of a provider's decline reason: a reason that is a code (or starts with one and
    /// a `:` or space) is that code, any other is `declined`. A provider error is never a
    /// decline.
    pub fn of_decline(reason: &str) -> Self {
        let head = reason
            .trim()
            .split([':', ' '])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match Self::parse(&head) {
            Some(Self::ProviderError) | None => Self::Declined,
            Some(code) => code,
        }
    }
}

string_enum!(
    /// Where a review is.
    ReviewStatus {
        /// Waiting for a moderator.
        Held = "held",
        /// Accepted, not revealed yet (double-blind).
        Hidden = "hidden",
        /// Visible to everyone.
        Published = "published",
        /// Refused by a moderator.
        Rejected = "rejected",
    }
);

string_enum!(
    /// Which side of a stay wrote a review.
    AuthorRole {
        /// The guest, about the listing and host.
        Guest = "guest",
        /// The host, about the guest.
        Host = "host",
    }
);

string_enum!(
    /// Where an `Idempotency-Key`'s first request is.
    KeyState {
        /// Claimed by a request whose effect has not finished.
        Running = "running",
        /// Finished; its response is stored.
        Done = "done",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decline_reason_becomes_a_code_and_free_text_does_not_leak() {
        assert_eq!(
            PaymentFailure::of_decline("insufficient_funds"),
            PaymentFailure::InsufficientFunds
        );
        assert_eq!(
            PaymentFailure::of_decline("expired_card: 04/24 for Ada Lovelace"),
            PaymentFailure::ExpiredCard
        );
        assert_eq!(
            PaymentFailure::of_decline("Call the bank on +44 20 7946 0000"),
            PaymentFailure::Declined
        );
        // A provider cannot pass a decline off as its own failure.
        assert_eq!(
            PaymentFailure::of_decline("provider_error"),
            PaymentFailure::Declined
        );
    }
}
