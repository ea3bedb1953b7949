//! The basic review policy: a review window, text length bounds, contact details masked (or
//! refused), banned words refused, watched words held for a moderator, and a double-blind
//! reveal (a review stays hidden until both sides have written theirs or the window closed).

use hearth_sdk::review_policy::{
    Decision, PluginError, RevealState, ReviewPolicyPlugin, Submission,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// What to do with contact details in a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ContactDetails {
    /// Replace them with `[hidden]`.
    Mask,
    /// Refuse the review.
    Reject,
}

/// `[plugins.config]`
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Days after check-out during which reviews may be written.
    #[serde(default = "default_window")]
    #[schemars(range(min = 1, max = 365))]
    pub window_days: u32,
    /// Shortest accepted text, in characters.
    #[serde(default = "default_min")]
    pub min_length: usize,
    /// Longest accepted text, in characters.
    #[serde(default = "default_max")]
    pub max_length: usize,
    /// Emails, URLs and phone numbers: `mask` or `reject`.
    #[serde(default = "default_contact")]
    pub contact_details: ContactDetails,
    /// Words that get a review refused (case-insensitive).
    #[serde(default)]
    pub banned_words: Vec<String>,
    /// Words that send a review to a moderator (case-insensitive).
    #[serde(default)]
    pub hold_words: Vec<String>,
    /// Hide reviews until both sides wrote theirs or the window closed.
    #[serde(default = "default_true")]
    pub double_blind: bool,
}

fn default_window() -> u32 {
    14
}
fn default_min() -> usize {
    10
}
fn default_max() -> usize {
    2000
}
fn default_contact() -> ContactDetails {
    ContactDetails::Mask
}
fn default_true() -> bool {
    true
}

fn is_contact(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_alphanumeric() && c != '+');
    let lower = w.to_lowercase();
    let email = w
        .split_once('@')
        .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'));
    let url =
        lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.");
    let digits = w.chars().filter(char::is_ascii_digit).count();
    let phone = digits >= 7 && w.chars().all(|c| c.is_ascii_digit() || "+-().".contains(c));
    email || url || phone
}

fn contains_word(text: &str, words: &[String]) -> Option<String> {
    let lower = text.to_lowercase();
    words
        .iter()
        .find(|w| {
            lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|t| t == w.to_lowercase())
        })
        .cloned()
}

/// The plugin.
pub struct BasicPolicy;

impl ReviewPolicyPlugin for BasicPolicy {
    type Config = Config;

    fn evaluate(config: &Config, submission: &Submission) -> Result<Decision, PluginError> {
        if submission.days_since_checkout > config.window_days {
            return Ok(Decision::Reject(format!(
                "the {}-day review window has closed",
                config.window_days
            )));
        }
        if !(1..=5).contains(&submission.rating) {
            return Ok(Decision::Reject("the rating must be 1 to 5".into()));
        }
        let length = submission.text.trim().chars().count();
        if length < config.min_length {
            return Ok(Decision::Reject(format!(
                "the review must be at least {} characters",
                config.min_length
            )));
        }
        if length > config.max_length {
            return Ok(Decision::Reject(format!(
                "the review must be at most {} characters",
                config.max_length
            )));
        }
        if let Some(word) = contains_word(&submission.text, &config.banned_words) {
            return Ok(Decision::Reject(format!(
                "the review contains a word that is not allowed: {word}"
            )));
        }
        let has_contact = submission.text.split_whitespace().any(is_contact);
        if has_contact && config.contact_details == ContactDetails::Reject {
            return Ok(Decision::Reject(
                "reviews may not contain emails, links or phone numbers".into(),
            ));
        }
        let text = if has_contact {
            submission
                .text
                .split(' ')
                .map(|w| if is_contact(w) { "[hidden]" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            submission.text.clone()
        };
        if let Some(word) = contains_word(&text, &config.hold_words) {
            return Ok(Decision::Hold(format!("contains a watched word: {word}")));
        }
        Ok(Decision::Accept(text))
    }

    fn reveal(config: &Config, state: &RevealState) -> Result<bool, PluginError> {
        Ok(!config.double_blind
            || state.both_submitted
            || state.days_since_checkout >= config.window_days)
    }
}

hearth_sdk::export_review_policy!(BasicPolicy);

#[cfg(test)]
mod tests {
    use hearth_sdk::review_policy::{run, AuthorRole};
    use serde_json::json;

    use super::*;

    fn submit(text: &str, days: u32) -> Submission {
        Submission {
            author_role: AuthorRole::Guest,
            rating: 5,
            text: text.into(),
            days_since_checkout: days,
        }
    }

    #[test]
    fn contact_details_are_masked_by_default() {
        let d = run::evaluate::<BasicPolicy>(
            json!({}),
            &submit(
                "Lovely flat, mail me at ana@example.com or call +33612345678",
                1,
            ),
        )
        .expect("ok");
        assert_eq!(
            d,
            Decision::Accept("Lovely flat, mail me at [hidden] or call [hidden]".into())
        );
    }

    #[test]
    fn reviews_after_the_window_are_rejected() {
        let d = run::evaluate::<BasicPolicy>(
            json!({ "window_days": 7 }),
            &submit("A perfectly fine stay.", 8),
        )
        .expect("ok");
        assert!(matches!(d, Decision::Reject(r) if r.contains("7-day")));
    }

    #[test]
    fn watched_words_are_held_and_banned_words_refused() {
        let config = json!({ "hold_words": ["refund"], "banned_words": ["scam"] });
        assert!(matches!(
            run::evaluate::<BasicPolicy>(config.clone(), &submit("I want a refund for this", 1))
                .expect("ok"),
            Decision::Hold(_)
        ));
        assert!(matches!(
            run::evaluate::<BasicPolicy>(config, &submit("This place is a scam honestly", 1))
                .expect("ok"),
            Decision::Reject(_)
        ));
    }

    #[test]
    fn double_blind_reveals_after_both_sides_or_the_window() {
        let reveal = |both, days| {
            run::reveal::<BasicPolicy>(
                json!({}),
                &RevealState {
                    both_submitted: both,
                    days_since_checkout: days,
                },
            )
            .expect("ok")
        };
        assert!(!reveal(false, 3));
        assert!(reveal(true, 3));
        assert!(reveal(false, 14));
        assert!(run::reveal::<BasicPolicy>(
            json!({ "double_blind": false }),
            &RevealState {
                both_submitted: false,
                days_since_checkout: 0
            }
        )
        .expect("ok"));
    }
}
