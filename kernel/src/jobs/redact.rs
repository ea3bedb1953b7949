//! What the admin jobs view shows of a job's payload and last error: the job's shape, not the
//! people in it. Fields that hold an address or a message (`to`, `email`, `body`, ...) are
//! replaced, and any email address left in a string is masked, so an operator debugging a
//! queue does not read guests' mail.

use serde_json::Value;

/// Keys whose values are personal or a message body, at any depth.
const HIDDEN_KEYS: &[&str] = &[
    "to",
    "email",
    "recipient_email",
    "body",
    "text_body",
    "html_body",
    "subject",
    "message",
    "display_name",
    "payment_method",
];

/// What a hidden value is shown as.
pub const REDACTED: &str = "[redacted]";

/// `value` with hidden keys replaced and email addresses masked.
pub fn payload(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, v)| {
                    if HIDDEN_KEYS.contains(&key.as_str()) && !v.is_null() {
                        (key, Value::String(REDACTED.into()))
                    } else {
                        (key, payload(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(payload).collect()),
        Value::String(s) => Value::String(text(&s)),
        other => other,
    }
}

/// `s` with every email address (a word with something on both sides of an `@` and a dot after
/// it) replaced by `[email]`.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match word.split_once('@') {
            Some((user, domain)) if !user.is_empty() && domain.contains('.') => {
                out.push_str("[email]");
            }
            _ => out.push_str(word),
        }
        word.clear();
    };
    for c in s.chars() {
        if c.is_alphanumeric() || "@._%+-".contains(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_messages_are_hidden_and_the_shape_kept() {
        let shown = payload(serde_json::json!({
            "to": "ada@example.com",
            "subject": "Your stay",
            "delivery": "0190-ab",
            "event": { "kind": "user_registered", "payload": { "email": "ada@example.com", "note": "from bob.b@mail.example.org, hi" } },
            "recipients": [{ "id": "1", "display_name": "Ada" }],
        }));
        assert_eq!(shown["to"], REDACTED);
        assert_eq!(shown["subject"], REDACTED);
        assert_eq!(shown["delivery"], "0190-ab");
        assert_eq!(shown["event"]["kind"], "user_registered");
        assert_eq!(shown["event"]["payload"]["email"], REDACTED);
        assert_eq!(shown["event"]["payload"]["note"], "from [email], hi");
        assert_eq!(shown["recipients"][0]["display_name"], REDACTED);
        assert_eq!(shown["recipients"][0]["id"], "1");
        assert_eq!(
            text("cannot deliver to <dave@example.com>: refused"),
            "cannot deliver to <[email]>: refused"
        );
        assert_eq!(text("no address @ here, v1.2@"), "no address @ here, v1.2@");
    }
}
