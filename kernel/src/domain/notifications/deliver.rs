//! Step 3: the `deliver` job that sends emails and signed webhooks and records each attempt,
//! and the signature receivers check.

use chrono::Utc;
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;
use uuid::Uuid;

use super::{DeliverJob, Notifications, DELIVER, SIGNATURE_HEADER};
use crate::data::notifications::{self as store, DeliveryRecord};
use crate::data::now;
use crate::jobs::{JobError, JobHandler, JobRun};
use crate::mail::Mail;
use crate::outbound::Outbound;

impl Notifications {
    /// Step 3: sends the job's pending deliveries and records every attempt in one commit.
    async fn deliver(&self, run: &JobRun) -> Result<(), JobError> {
        let job: DeliverJob = run.job.payload()?;
        let ids = job.deliveries();
        let mut found = {
            let mut conn = self.inner.db.acquire().await?;
            store::find_deliveries(conn.exec(), &ids).await?
        };
        if let Some(missing) = ids.iter().find(|id| !found.iter().any(|d| d.id == **id)) {
            return Err(JobError::Permanent(format!("no delivery {missing}")));
        }
        found.sort_by_key(|d| ids.iter().position(|id| *id == d.id));
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        for d in found.iter().filter(|d| d.state == "pending") {
            match self.send(d).await {
                Ok(()) => sent.push(d.id),
                Err(e) => failed.push((d.id, e)),
            }
        }
        // Every attempt commits together, with the job's completion when none failed.
        let now = now();
        let mut tx = run.begin().await?;
        for id in sent {
            store::record_attempt(tx.exec(), id, "delivered", None, Some(now)).await?;
        }
        if failed.is_empty() {
            return run.commit_with(tx).await;
        }
        for (id, e) in &failed {
            let given_up = run.job.is_last_attempt() || matches!(e, JobError::Permanent(_));
            let state = if given_up { "failed" } else { "pending" };
            store::record_attempt(tx.exec(), *id, state, Some(&e.to_string()), None).await?;
        }
        tx.commit().await?;
        Err(job_error(failed))
    }

    /// Sends one email or webhook.
    async fn send(&self, d: &DeliveryRecord) -> Result<(), JobError> {
        let target = d.target.as_deref().unwrap_or_default();
        match d.channel.as_str() {
            "email" => self
                .inner
                .mailer
                .send(&Mail {
                    to: target.to_owned(),
                    subject: d.subject.clone(),
                    body: d.body.clone(),
                })
                .await
                .map_err(JobError::from),
            "webhook" => self.post_webhook(d, target).await,
            other => Err(JobError::Permanent(format!("cannot deliver to `{other}`"))),
        }
    }

    async fn post_webhook(&self, d: &DeliveryRecord, url: &str) -> Result<(), JobError> {
        let secret = self.inner.webhook_secret.as_ref().ok_or_else(|| {
            JobError::Failed("notifications.webhook_secret is not configured".into())
        })?;
        // A URL the kernel may never reach fails for good: no retry can change that.
        let request = self
            .inner
            .http
            .request(reqwest::Method::POST, url)
            .map_err(|refused| JobError::Permanent(refused.to_string()))?;
        let timestamp = Utc::now().timestamp();
        let own = endpoint_secret(secret.expose_secret().as_bytes(), url);
        let signature = sign(own.as_bytes(), timestamp, &d.body);
        let response = request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("hearth-event-id", d.event_id.to_string())
            .header("hearth-delivery-id", d.id.to_string())
            .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"))
            .body(d.body.clone())
            .send()
            .await
            .map_err(|e| {
                let why = Outbound::describe(&e);
                if Outbound::is_refusal(&e) {
                    JobError::Permanent(why)
                } else {
                    JobError::Failed(format!("cannot reach the receiver: {why}"))
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(JobError::Failed(format!("the receiver answered {status}")))
        }
    }
}

/// A job's error for the deliveries that failed: retried while any failure is worth a retry.
/// One failure is its own error; several are counted and the first is quoted.
fn job_error(mut failed: Vec<(Uuid, JobError)>) -> JobError {
    let retry = failed
        .iter()
        .any(|(_, e)| !matches!(e, JobError::Permanent(_)));
    let message = match failed.len() {
        1 => failed.remove(0).1.to_string(),
        n => format!(
            "{n} deliveries failed; the first: {}",
            failed
                .first()
                .map(|(_, e)| e.to_string())
                .unwrap_or_default()
        ),
    };
    if retry {
        JobError::Failed(message)
    } else {
        JobError::Permanent(message)
    }
}

/// The signing secret of the webhook endpoint `url`, derived from `notifications.webhook_secret`
/// (`master`): `whsec_` and the hex HMAC-SHA256 of the normalised URL under it. Each endpoint
/// gets its own, so a receiver that leaks its secret cannot sign as the kernel to any other, and
/// none of them holds the master. `hearth webhook secret URL` prints it for the receiver.
pub fn endpoint_secret(master: &[u8], url: &str) -> String {
    let normalised = url::Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.to_string());
    let mut mac = match Hmac::<Sha256>::new_from_slice(master) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(b"hearth webhook endpoint\n");
    mac.update(normalised.as_bytes());
    format!("whsec_{}", hex::encode(mac.finalize().into_bytes()))
}

/// Hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &str) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub(super) struct Deliver(pub(super) Notifications);

impl JobHandler for Deliver {
    fn kind(&self) -> &'static str {
        DELIVER
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.0.deliver(run))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_over_timestamp_dot_body() {
        // RFC 4231-style check against an independently computed value.
        let sig = sign(b"whsec_test", 1_700_000_000, r#"{"a":1}"#);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"whsec_test").expect("key");
        mac.update(br#"1700000000.{"a":1}"#);
        assert_eq!(sig, hex::encode(mac.finalize().into_bytes()));
        assert_ne!(sig, sign(b"other", 1_700_000_000, r#"{"a":1}"#));
        assert_ne!(sig, sign(b"whsec_test", 1_700_000_001, r#"{"a":1}"#));
    }
}
