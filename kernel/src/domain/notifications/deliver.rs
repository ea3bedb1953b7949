//! Step 3: the `deliver` job that sends one email or one signed webhook and records each
//! attempt, and the signature receivers check.

use chrono::Utc;
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use super::{DeliverJob, Notifications, DELIVER, SIGNATURE_HEADER};
use crate::data::notifications::{self as store, DeliveryRecord};
use crate::data::now;
use crate::jobs::{JobError, JobHandler, JobRun};
use crate::mail::Mail;
use crate::outbound::Outbound;

impl Notifications {
    /// Step 3: sends one email or webhook and records the attempt.
    async fn deliver(&self, run: &JobRun) -> Result<(), JobError> {
        let job: DeliverJob = run.job.payload()?;
        let mut conn = self.inner.db.acquire().await?;
        let Some(d) = store::find_delivery(conn.exec(), job.delivery).await? else {
            return Err(JobError::Permanent(format!("no delivery {}", job.delivery)));
        };
        drop(conn);
        if d.state == "delivered" {
            return Ok(());
        }
        let target = d.target.clone().unwrap_or_default();
        let sent = match d.channel.as_str() {
            "email" => self
                .inner
                .mailer
                .send(&Mail {
                    to: target,
                    subject: d.subject.clone(),
                    body: d.body.clone(),
                })
                .await
                .map_err(JobError::from),
            "webhook" => self.post_webhook(&d, &target).await,
            other => Err(JobError::Permanent(format!("cannot deliver to `{other}`"))),
        };
        match sent {
            Ok(()) => {
                // The delivery and the job's completion commit together.
                let mut tx = run.begin().await?;
                store::record_attempt(tx.exec(), d.id, "delivered", None, Some(now())).await?;
                run.commit_with(tx).await
            }
            Err(e) => {
                let final_attempt =
                    run.job.is_last_attempt() || matches!(e, JobError::Permanent(_));
                let state = if final_attempt { "failed" } else { "pending" };
                let mut conn = self.inner.db.write().await?;
                store::record_attempt(conn.exec(), d.id, state, Some(&e.to_string()), None).await?;
                Err(e)
            }
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
