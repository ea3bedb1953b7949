//! In-app inbox notifications, for the event kinds configured: each of the event's recipients
//! that has an account gets one inbox message, greeting them by name.

use hearth_sdk::notifier::{Channel, Delivery, Event, NotifierPlugin, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Event kinds to notify about; omit for every kind.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

/// The plugin.
pub struct Inbox;

/// The subject of the message for `kind`.
pub fn subject(kind: &str) -> String {
    match kind {
        "user_registered" => "Welcome to Hearth".into(),
        "listing_published" => "Your listing is live".into(),
        "booking_requested" => "New booking request".into(),
        "booking_confirmed" => "Booking confirmed".into(),
        "booking_declined" => "Booking declined".into(),
        "booking_cancelled" => "Booking cancelled".into(),
        "booking_expired" => "Booking expired".into(),
        "booking_completed" => "How was the stay?".into(),
        "payment_authorized" => "Payment authorized".into(),
        "payment_captured" => "Payment received".into(),
        "payment_refunded" => "Refund issued".into(),
        "payment_failed" => "Payment failed".into(),
        other => other.replace('_', " "),
    }
}

/// A string field of `value`, if present, a string, and not blank.
fn text<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// `s` with its first letter in lower case ("Booking confirmed" is "booking confirmed").
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The body of the message for `kind`, greeting `name`, naming the listing when known.
fn body(kind: &str, name: &str, listing: Option<&str>) -> String {
    let sentence = lower_first(&subject(kind));
    match (kind, listing) {
        ("booking_completed", Some(title)) => {
            format!("Hi {name}, how was the stay at \"{title}\"?")
        }
        (_, Some(title)) => format!("Hi {name}, {sentence} for \"{title}\"."),
        (_, None) if sentence.ends_with(['?', '!', '.']) => format!("Hi {name}, {sentence}"),
        (_, None) => format!("Hi {name}, {sentence}."),
    }
}

/// The (account id, display name) of each recipient with an account, each account once.
fn recipients(event: &Event) -> Vec<(&str, Option<&str>)> {
    let mut out: Vec<(&str, Option<&str>)> = Vec::new();
    for r in &event.recipients {
        if let Some(id) = r.account_id.as_deref() {
            // One message per account, even if it is listed twice.
            if !out.iter().any(|(seen, _)| *seen == id) {
                out.push((id, r.display_name.as_deref()));
            }
        }
    }
    out
}

impl NotifierPlugin for Inbox {
    type Config = Config;

    fn notify(config: &Config, event: &Event) -> Result<Vec<Delivery>, PluginError> {
        if config
            .kinds
            .as_ref()
            .is_some_and(|k| !k.contains(&event.kind))
        {
            return Ok(Vec::new());
        }
        let payload = event.payload()?;
        let listing = text(&payload, "listing_title");
        Ok(recipients(event)
            .into_iter()
            .map(|(id, name)| Delivery {
                recipient: Some(id.to_owned()),
                channel: Channel::Inbox,
                subject: subject(&event.kind),
                body: body(&event.kind, name.unwrap_or("there"), listing),
            })
            .collect())
    }
}

hearth_sdk::export_notifier!(Inbox);

#[cfg(test)]
mod tests {
    use hearth_sdk::notifier::{run, Recipient};
    use hearth_sdk::testing;
    use serde_json::json;

    use super::*;

    fn event(kind: &str, payload: serde_json::Value, recipients: Vec<Recipient>) -> Event {
        recipients.into_iter().fold(
            testing::event(kind).with_payload(payload),
            Event::with_recipient,
        )
    }

    #[test]
    fn a_registration_becomes_a_welcome_in_the_new_accounts_inbox() {
        let ada = Recipient::account("a1").named("Ada");
        let out =
            run::<Inbox>(json!({}), &event("user_registered", json!({}), vec![ada])).expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient.as_deref(), Some("a1"));
        assert_eq!(out[0].channel, Channel::Inbox);
        assert_eq!(out[0].subject, "Welcome to Hearth");
        assert_eq!(out[0].body, "Hi Ada, welcome to Hearth.");
    }

    #[test]
    fn a_published_listing_tells_its_host_it_is_live() {
        let grace = Recipient::account("h1").named("Grace");
        let out = run::<Inbox>(
            json!({}),
            &event("listing_published", json!({ "title": "Loft" }), vec![grace]),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient.as_deref(), Some("h1"));
        assert_eq!(out[0].subject, "Your listing is live");
        assert_eq!(out[0].body, "Hi Grace, your listing is live.");
    }

    fn booking(kind: &str) -> Event {
        event(
            kind,
            json!({
                "booking_id": "b1",
                "listing_title": "Loft by the canal",
                "check_in": "2026-07-14",
                "check_out": "2026-07-21",
            }),
            vec![
                Recipient::account("guest-1")
                    .with_email("ada@example.com")
                    .named("Ada"),
                Recipient::account("host-1")
                    .with_email("grace@example.com")
                    .named("Grace"),
            ],
        )
    }

    #[test]
    fn a_booking_event_reaches_every_recipients_inbox() {
        let out = run::<Inbox>(json!({}), &booking("booking_confirmed")).expect("ok");
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].recipient.as_deref(), Some("guest-1"));
        assert_eq!(out[1].recipient.as_deref(), Some("host-1"));
        for d in &out {
            assert_eq!(d.channel, Channel::Inbox);
            assert_eq!(d.subject, "Booking confirmed");
        }
        assert_eq!(
            out[0].body,
            "Hi Ada, booking confirmed for \"Loft by the canal\"."
        );
        assert_eq!(
            out[1].body,
            "Hi Grace, booking confirmed for \"Loft by the canal\"."
        );
    }

    #[test]
    fn recipients_without_an_account_are_skipped_and_duplicates_merged() {
        let recipients = vec![
            Recipient::address("no-id@example.com"),
            Recipient::account("a1"),
            Recipient::account("a1").named("Again"),
        ];
        let out = run::<Inbox>(
            json!({}),
            &event("booking_cancelled", json!({}), recipients),
        )
        .expect("ok");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].recipient.as_deref(), Some("a1"));
        assert_eq!(out[0].body, "Hi there, booking cancelled.");
    }

    #[test]
    fn booking_and_payment_kinds_have_their_own_subjects() {
        for (kind, expected) in [
            ("booking_requested", "New booking request"),
            ("booking_confirmed", "Booking confirmed"),
            ("booking_declined", "Booking declined"),
            ("booking_cancelled", "Booking cancelled"),
            ("booking_expired", "Booking expired"),
            ("booking_completed", "How was the stay?"),
            ("payment_authorized", "Payment authorized"),
            ("payment_captured", "Payment received"),
            ("payment_refunded", "Refund issued"),
            ("payment_failed", "Payment failed"),
        ] {
            let out = run::<Inbox>(json!({}), &booking(kind)).expect("ok");
            assert_eq!(out.len(), 2, "{kind}");
            assert_eq!(out[0].subject, expected, "{kind}");
            assert!(
                out[0].body.contains("Loft by the canal"),
                "{kind}: {}",
                out[0].body
            );
        }
    }

    #[test]
    fn the_end_of_a_stay_asks_how_it_was() {
        let out = run::<Inbox>(json!({}), &booking("booking_completed")).expect("ok");
        assert_eq!(
            out[0].body,
            "Hi Ada, how was the stay at \"Loft by the canal\"?"
        );
        let out = run::<Inbox>(
            json!({}),
            &event(
                "booking_completed",
                json!({}),
                vec![Recipient::account("a1")],
            ),
        )
        .expect("ok");
        assert_eq!(out[0].body, "Hi there, how was the stay?");
    }

    #[test]
    fn an_event_without_a_recipient_sends_nothing() {
        for payload in [json!({}), json!({ "account_id": "a1" }), json!("text")] {
            let out = run::<Inbox>(
                json!({}),
                &event("booking_confirmed", payload.clone(), vec![]),
            )
            .expect("ok");
            assert!(out.is_empty(), "{payload}: {out:?}");
        }
    }

    #[test]
    fn a_payload_that_is_not_json_is_invalid_input() {
        let mut e = event(
            "booking_confirmed",
            json!({}),
            vec![Recipient::account("a1")],
        );
        e.payload_json = "{".into();
        let err = run::<Inbox>(json!({}), &e).expect_err("refused");
        assert!(matches!(err, PluginError::InvalidInput(m) if m.contains("payload")));
    }

    #[test]
    fn kinds_not_configured_are_ignored() {
        let out = run::<Inbox>(
            json!({ "kinds": ["booking_confirmed"] }),
            &event("user_registered", json!({}), vec![Recipient::account("a1")]),
        )
        .expect("ok");
        assert!(out.is_empty());
    }
}
