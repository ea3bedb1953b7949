//! The review-policy adapter.

use serde::{Deserialize, Serialize};

use super::{invoke, wrong_kind};
use crate::plugins::bindings::review_policy::exports::hearth::plugins::review_policy_plugin as wit;
use crate::plugins::{KindPre, Plugin, PluginCallError, PluginFailure};

pub use crate::model::AuthorRole;

/// A submitted review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// Who wrote it.
    pub author_role: AuthorRole,
    /// 1-5.
    pub rating: u8,
    /// The text.
    pub text: String,
    /// Days since check-out.
    pub days_since_checkout: u32,
}

/// The policy's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", content = "text", rename_all = "snake_case")]
pub enum Decision {
    /// Accept with this (possibly masked) text.
    Accept(String),
    /// Reject with a reason for the author.
    Reject(String),
    /// Hold for moderation with a reason for moderators.
    Hold(String),
}

/// Where a review stands for reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealState {
    /// Whether both sides submitted.
    pub both_submitted: bool,
    /// Days since check-out.
    pub days_since_checkout: u32,
}

/// Asks the policy about a submission.
pub async fn evaluate(
    plugin: &Plugin,
    submission: &Submission,
) -> Result<Decision, PluginCallError> {
    let KindPre::ReviewPolicy(pre) = &plugin.pre else {
        return Err(wrong_kind(plugin, "review-policy"));
    };
    let wit_submission = wit::Submission {
        author_role: match submission.author_role {
            AuthorRole::Guest => wit::AuthorRole::Guest,
            AuthorRole::Host => wit::AuthorRole::Host,
        },
        rating: submission.rating,
        text: submission.text.clone(),
        days_since_checkout: submission.days_since_checkout,
    };
    let size = |d: &Decision| match d {
        Decision::Accept(t) | Decision::Reject(t) | Decision::Hold(t) => t.len() + 16,
    };
    let (pre, config) = (pre.clone(), plugin.config_json.clone());
    invoke(plugin, size, true, move |store| {
        Box::pin(async move {
            let instance = pre.instantiate_async(&mut *store).await?;
            let out = instance
                .hearth_plugins_review_policy_plugin()
                .call_evaluate(&mut *store, &config, &wit_submission)
                .await?;
            Ok(out
                .map(|d| match d {
                    wit::Decision::Accept(t) => Decision::Accept(t),
                    wit::Decision::Reject(t) => Decision::Reject(t),
                    wit::Decision::Hold(t) => Decision::Hold(t),
                })
                .map_err(PluginFailure::from))
        })
    })
    .await
    .0
}

/// Asks the policy whether an accepted review may be shown now.
pub async fn reveal(plugin: &Plugin, state: RevealState) -> Result<bool, PluginCallError> {
    let KindPre::ReviewPolicy(pre) = &plugin.pre else {
        return Err(wrong_kind(plugin, "review-policy"));
    };
    let wit_state = wit::RevealState {
        both_submitted: state.both_submitted,
        days_since_checkout: state.days_since_checkout,
    };
    let (pre, config) = (pre.clone(), plugin.config_json.clone());
    invoke(
        plugin,
        |_: &bool| 1,
        true,
        move |store| {
            Box::pin(async move {
                let instance = pre.instantiate_async(&mut *store).await?;
                let out = instance
                    .hearth_plugins_review_policy_plugin()
                    .call_reveal(&mut *store, &config, wit_state)
                    .await?;
                Ok(out.map_err(PluginFailure::from))
            })
        },
    )
    .await
    .0
}
