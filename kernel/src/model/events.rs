//! The kinds of event the kernel records on the bus, so configuration can name them (a
//! notifier's `events`) and be checked against what exists.

/// Every event kind the kernel itself records. Plugins granted `events` publish theirs as
/// `plugin.<plugin id>.<topic>`.
pub const EVENT_KINDS: [&str; 17] = [
    "user_registered",
    "listing_created",
    "listing_updated",
    "listing_published",
    "listing_deleted",
    "booking_requested",
    "booking_confirmed",
    "booking_declined",
    "booking_cancelled",
    "booking_expired",
    "booking_completed",
    "payment_authorized",
    "payment_captured",
    "payment_refunded",
    "payment_failed",
    "review_submitted",
    "review_published",
];

/// Whether `kind` names events that can exist: one of [`EVENT_KINDS`], or a plugin's
/// `plugin.<plugin id>.<topic>`.
pub fn is_event_kind(kind: &str) -> bool {
    EVENT_KINDS.contains(&kind)
        || kind
            .strip_prefix("plugin.")
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(id, topic)| !id.is_empty() && !topic.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_kinds_and_plugin_topics_are_event_kinds() {
        assert!(is_event_kind("booking_requested"));
        assert!(is_event_kind("plugin.loyalty.points_earned"));
        assert!(!is_event_kind("booking_requestd"));
        assert!(!is_event_kind("plugin.loyalty"));
        assert!(!is_event_kind("plugin..topic"));
    }
}
