//! Email notifications: short plain-text emails for the event kinds configured. Each of the
//! event's recipients with an email address gets one email greeting them by name; events
//! without an address are skipped. The kernel sends the mail; the plugin only renders it.

use hearth_sdk::notifier::{Channel, Delivery, Event, NotifierPlugin, PluginError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// The product name used in subjects and bodies when [`Config::product_name`] is omitted.
pub const DEFAULT_PRODUCT_NAME: &str = "Hearth";

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Event kinds to email about; omit for every kind.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// The product name in subjects and bodies, e.g. "Welcome to Hearth"; "Hearth" if omitted.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub product_name: Option<String>,
}

/// The plugin.
pub struct Email;

/// A string field of the payload, if present, a string, and not blank.
fn text<'a>(payload: &'a Value, key: &str) -> Option<&'a str> {
    payload
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// `kind` as a sentence-case title: `booking_confirmed` is "Booking confirmed".
fn humanise(kind: &str) -> String {
    let spaced = kind.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// The subject of booking and payment emails, and their opening sentence.
fn booking_subject(kind: &str, product: &str) -> Option<(&'static str, String)> {
    Some(match kind {
        "booking_requested" => (
            "New booking request",
            format!("There is a new booking request on {product}."),
        ),
        "booking_confirmed" => ("Booking confirmed", "The booking is confirmed.".into()),
        "booking_declined" => (
            "Booking declined",
            "The booking request was declined.".into(),
        ),
        "booking_cancelled" => ("Booking cancelled", "The booking was cancelled.".into()),
        "booking_expired" => (
            "Booking expired",
            "The booking request expired before it was confirmed.".into(),
        ),
        "booking_completed" => (
            "How was the stay?",
            format!("The stay is over: how was it? You can now leave a review on {product}."),
        ),
        "payment_authorized" => (
            "Payment authorized",
            "The payment for the booking was authorized.".into(),
        ),
        "payment_captured" => (
            "Payment received",
            "The payment for the booking was received.".into(),
        ),
        "payment_refunded" => (
            "Refund issued",
            "A refund was issued for the booking.".into(),
        ),
        "payment_failed" => (
            "Payment failed",
            "The payment for the booking failed.".into(),
        ),
        _ => return None,
    })
}

/// The listing and dates of a booking event, one line each, for those present.
fn booking_details(payload: &Value) -> String {
    [
        ("Listing", "listing_title"),
        ("Check-in", "check_in"),
        ("Check-out", "check_out"),
    ]
    .iter()
    .filter_map(|(label, key)| text(payload, key).map(|v| format!("{label}: {v}\n")))
    .collect()
}

/// The subject and plain-text body of the email for `kind`, greeting `name`.
fn render(kind: &str, payload: &Value, name: Option<&str>, product: &str) -> (String, String) {
    let name = name.unwrap_or("there");
    if let Some((subject, sentence)) = booking_subject(kind, product) {
        let details = booking_details(payload);
        let body = if details.is_empty() {
            format!("Hi {name},\n\n{sentence}\n")
        } else {
            format!("Hi {name},\n\n{sentence}\n\n{details}")
        };
        return (subject.to_owned(), body);
    }
    match kind {
        "user_registered" => (
            format!("Welcome to {product}"),
            format!("Hi {name},\n\nWelcome to {product}! Your account is ready.\n"),
        ),
        "listing_published" => {
            let listing = match text(payload, "title") {
                Some(title) => format!("Your listing \"{title}\""),
                None => "Your listing".to_owned(),
            };
            (
                "Your listing is live".to_owned(),
                format!("Hi {name},\n\n{listing} is now live on {product}.\n"),
            )
        }
        other => {
            let subject = humanise(other);
            let body = format!(
                "Hi {name},\n\nThere is an update on your {product} account: {}.\n",
                subject.to_lowercase()
            );
            (subject, body)
        }
    }
}

/// Who to email: (account id, address, display name) for each recipient with an address,
/// each address once.
fn recipients(event: &Event) -> Vec<(Option<&str>, &str, Option<&str>)> {
    let mut out: Vec<(Option<&str>, &str, Option<&str>)> = Vec::new();
    for r in &event.recipients {
        if let Some(address) = r.email.as_deref() {
            // One email per address, even if it is listed twice.
            if !out.iter().any(|(_, seen, _)| *seen == address) {
                out.push((r.account_id.as_deref(), address, r.display_name.as_deref()));
            }
        }
    }
    out
}

impl NotifierPlugin for Email {
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
        let product = config
            .product_name
            .as_deref()
            .unwrap_or(DEFAULT_PRODUCT_NAME);
        Ok(recipients(event)
            .into_iter()
            .map(|(recipient, address, name)| {
                let (subject, body) = render(&event.kind, &payload, name, product);
                Delivery {
                    recipient: recipient.map(str::to_owned),
                    channel: Channel::Email(address.to_owned()),
                    subject,
                    body,
                }
            })
            .collect())
    }
}

hearth_sdk::export_notifier!(Email);

#[cfg(test)]
mod tests {
    use hearth_sdk::notifier::{run, Recipient};
    use hearth_sdk::testing;
    use serde_json::json;

    use super::*;

    fn event(kind: &str, payload: Value, recipients: Vec<Recipient>) -> Event {
        recipients.into_iter().fold(
            testing::event(kind).with_payload(payload),
            Event::with_recipient,
        )
    }

    #[test]
    fn a_registration_becomes_a_welcome_email_to_the_new_account() {
        let ada = Recipient::account("a1")
            .with_email("ada@example.com")
            .named("Ada");
        let out =
            run::<Email>(json!({}), &event("user_registered", json!({}), vec![ada])).expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient.as_deref(), Some("a1"));
        assert_eq!(out[0].channel, Channel::Email("ada@example.com".into()));
        assert_eq!(out[0].subject, "Welcome to Hearth");
        assert_eq!(
            out[0].body,
            "Hi Ada,\n\nWelcome to Hearth! Your account is ready.\n"
        );
    }

    #[test]
    fn the_product_name_is_configurable_and_the_greeting_falls_back_to_there() {
        let out = run::<Email>(
            json!({ "product_name": "Cosy Stays" }),
            &event(
                "user_registered",
                json!({}),
                vec![Recipient::address("ada@example.com")],
            ),
        )
        .expect("ok");
        assert_eq!(out[0].subject, "Welcome to Cosy Stays");
        assert!(out[0].body.starts_with("Hi there,\n"), "{}", out[0].body);
        assert!(out[0].body.contains("Welcome to Cosy Stays!"));
        assert_eq!(out[0].recipient, None);
    }

    #[test]
    fn a_published_listing_is_announced_by_title() {
        let host = Recipient::account("host-1").with_email("host@example.com");
        let out = run::<Email>(
            json!({}),
            &event(
                "listing_published",
                json!({ "title": "Loft by the canal" }),
                vec![host],
            ),
        )
        .expect("ok");
        assert_eq!(out[0].recipient.as_deref(), Some("host-1"));
        assert_eq!(out[0].channel, Channel::Email("host@example.com".into()));
        assert_eq!(out[0].subject, "Your listing is live");
        assert_eq!(
            out[0].body,
            "Hi there,\n\nYour listing \"Loft by the canal\" is now live on Hearth.\n"
        );
    }

    #[test]
    fn a_published_listing_without_a_title_still_reads_well() {
        let out = run::<Email>(
            json!({}),
            &event(
                "listing_published",
                json!({}),
                vec![Recipient::address("host@example.com")],
            ),
        )
        .expect("ok");
        assert_eq!(
            out[0].body,
            "Hi there,\n\nYour listing is now live on Hearth.\n"
        );
    }

    #[test]
    fn other_kinds_get_a_humanised_subject_and_a_generic_body() {
        let grace = Recipient::address("host@example.com").named("Grace");
        let out =
            run::<Email>(json!({}), &event("payout_sent", json!({}), vec![grace])).expect("ok");
        assert_eq!(out[0].subject, "Payout sent");
        assert_eq!(
            out[0].body,
            "Hi Grace,\n\nThere is an update on your Hearth account: payout sent.\n"
        );
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
    fn a_booking_event_emails_every_recipient_by_name() {
        let out = run::<Email>(json!({}), &booking("booking_confirmed")).expect("ok");
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].recipient.as_deref(), Some("guest-1"));
        assert_eq!(out[0].channel, Channel::Email("ada@example.com".into()));
        assert_eq!(out[1].recipient.as_deref(), Some("host-1"));
        assert_eq!(out[1].channel, Channel::Email("grace@example.com".into()));
        assert_eq!(out[0].subject, "Booking confirmed");
        assert_eq!(out[1].subject, "Booking confirmed");
        let details = "Listing: Loft by the canal\nCheck-in: 2026-07-14\nCheck-out: 2026-07-21\n";
        assert_eq!(
            out[0].body,
            format!("Hi Ada,\n\nThe booking is confirmed.\n\n{details}")
        );
        assert_eq!(
            out[1].body,
            format!("Hi Grace,\n\nThe booking is confirmed.\n\n{details}")
        );
    }

    #[test]
    fn a_recipient_without_an_address_gets_no_email_and_an_address_gets_one() {
        let recipients = vec![
            Recipient::account("guest-1").named("Ada"),
            Recipient::account("host-2").with_email("linus@example.com"),
            Recipient::account("host-2-again").with_email("linus@example.com"),
        ];
        let out = run::<Email>(
            json!({}),
            &event(
                "booking_requested",
                json!({ "listing_title": "Loft" }),
                recipients,
            ),
        )
        .expect("ok");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].recipient.as_deref(), Some("host-2"));
        assert_eq!(out[0].channel, Channel::Email("linus@example.com".into()));
        assert_eq!(
            out[0].body,
            "Hi there,\n\nThere is a new booking request on Hearth.\n\nListing: Loft\n"
        );

        let nobody = event(
            "booking_requested",
            json!({ "email": "ada@example.com" }),
            vec![],
        );
        let out = run::<Email>(json!({}), &nobody).expect("ok");
        assert!(out.is_empty(), "no recipients means nobody: {out:?}");
    }

    #[test]
    fn a_recipient_without_an_account_is_still_emailed() {
        let out = run::<Email>(
            json!({}),
            &event(
                "payment_failed",
                json!({}),
                vec![Recipient::address("ada@example.com")],
            ),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient, None);
        assert_eq!(out[0].subject, "Payment failed");
        assert_eq!(
            out[0].body,
            "Hi there,\n\nThe payment for the booking failed.\n"
        );
    }

    #[test]
    fn booking_and_payment_kinds_have_their_own_subjects_and_details() {
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
            let out = run::<Email>(json!({}), &booking(kind)).expect("ok");
            assert_eq!(out.len(), 2, "{kind}");
            assert_eq!(out[0].subject, expected, "{kind}");
            for needle in ["Hi Ada,", "Loft by the canal", "2026-07-14", "2026-07-21"] {
                assert!(out[0].body.contains(needle), "{kind}: {}", out[0].body);
            }
        }
    }

    #[test]
    fn the_end_of_a_stay_names_the_product_and_the_check_out() {
        let grace = Recipient::account("g1")
            .with_email("guest@example.com")
            .named("Grace");
        let out = run::<Email>(
            json!({ "product_name": "Cosy Stays" }),
            &event(
                "booking_completed",
                json!({ "check_out": "2026-07-21" }),
                vec![grace],
            ),
        )
        .expect("ok");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].recipient.as_deref(), Some("g1"));
        assert_eq!(out[0].channel, Channel::Email("guest@example.com".into()));
        assert_eq!(out[0].subject, "How was the stay?");
        assert_eq!(
            out[0].body,
            "Hi Grace,\n\nThe stay is over: how was it? You can now leave a review on Cosy Stays.\n\nCheck-out: 2026-07-21\n"
        );
    }

    #[test]
    fn kinds_not_configured_are_ignored() {
        let config = json!({ "kinds": ["user_registered", "listing_published"] });
        let ada = || vec![Recipient::address("ada@example.com")];
        let skipped = run::<Email>(
            config.clone(),
            &event("booking_confirmed", json!({}), ada()),
        )
        .expect("ok");
        assert!(skipped.is_empty());
        let sent = run::<Email>(config, &event("listing_published", json!({}), ada())).expect("ok");
        assert_eq!(sent.len(), 1);
    }

    #[test]
    fn an_event_without_an_address_sends_nothing() {
        let ada = Recipient::account("a1").named("Ada");
        let out = run::<Email>(
            json!({}),
            &event(
                "user_registered",
                json!({ "email": "not-a-recipient@example.com" }),
                vec![ada],
            ),
        )
        .expect("ok");
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_payload_that_is_not_json_is_invalid_input() {
        let mut e = event("user_registered", json!({}), vec![]);
        e.payload_json = "{".into();
        let err = run::<Email>(json!({}), &e).expect_err("refused");
        assert!(matches!(err, PluginError::InvalidInput(m) if m.contains("payload")));
    }

    #[test]
    fn unknown_config_fields_are_refused() {
        let err = run::<Email>(
            json!({ "from": "x@example.com" }),
            &event("x", json!({}), vec![]),
        )
        .expect_err("refused");
        assert!(matches!(err, PluginError::Config(m) if m.contains("from")));
    }

    #[test]
    fn the_exported_schema_requires_nothing_and_refuses_a_blank_product_name() {
        let schema = hearth_sdk::testing::config_schema::<Config>();
        assert_eq!(schema.get("required"), None, "{schema}");
        assert_eq!(schema["additionalProperties"], json!(false));
        assert_eq!(schema["properties"]["product_name"]["minLength"], json!(1));
    }

    #[test]
    fn humanise_spaces_and_capitalises() {
        assert_eq!(humanise("booking_cancelled"), "Booking cancelled");
        assert_eq!(humanise("payout_sent_late"), "Payout sent late");
        assert_eq!(humanise(""), "");
    }
}
