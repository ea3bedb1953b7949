//! Notifications: events become messages through notifier plugins.
//!
//! 1. The `notifications` bus subscriber turns each event into one `notify` job per notifier
//!    plugin, in the transaction that records its receipt (so exactly one per event and plugin).
//! 2. A `notify` job calls the plugin, which renders the event and chooses deliveries. The kernel
//!    records every delivery; inbox messages are stored at once, and each email or webhook gets
//!    its own `deliver` job, in the same transaction as the job's completion.
//! 3. A `deliver` job sends one email (through [`Mailer`]) or one signed webhook, retried with
//!    the jobs' backoff, and records each attempt on the delivery.
//!
//! Nothing here runs in the request that caused the event, so a failing notifier or receiver
//! never blocks or fails it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::{cursor, DomainError, Problems, Resource};
use crate::auth::Principal;
use crate::bus::{Event, HandlerError, Subscriber};
use crate::config::{NotificationsConfig, PluginKind};
use crate::data::notifications::{self as store, DeliveryRecord, InboxRecord};
use crate::data::{accounts, now, Database, Tx};
use crate::jobs::{Enqueue, JobError, JobHandler, JobRun, Jobs};
use crate::mail::{Mail, Mailer};
use crate::plugins::kinds::notifier::{self, Channel};
use crate::plugins::PluginHost;

/// The job kind that renders one event through one notifier plugin.
pub const NOTIFY: &str = "notify";
/// The job kind that sends one email or webhook delivery.
pub const DELIVER: &str = "deliver";
/// The header carrying an outgoing webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256
/// of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "hearth-signature";

/// The notifications service. Cheap to clone.
#[derive(Clone)]
pub struct Notifications {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    jobs: Jobs,
    plugins: Arc<PluginHost>,
    mailer: Mailer,
    http: reqwest::Client,
    webhook_secret: Option<SecretString>,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct NotifyJob {
    plugin: String,
    event: Event,
}

#[derive(Debug, Serialize, Deserialize)]
struct DeliverJob {
    delivery: Uuid,
}

/// An inbox message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxMessage {
    /// Id.
    pub id: Uuid,
    /// The event kind that caused it, e.g. `user_registered`.
    pub kind: String,
    /// The event's id.
    pub event_id: Uuid,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// When it arrived.
    pub created_at: DateTime<Utc>,
    /// When the recipient marked it read.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<InboxRecord> for InboxMessage {
    fn from(r: InboxRecord) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            event_id: r.event_id,
            subject: r.subject,
            body: r.body,
            created_at: r.created_at,
            read_at: r.read_at,
        }
    }
}

/// `GET /v1/notifications` parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// Only unread messages.
    #[serde(default)]
    pub unread: bool,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// One page of an inbox, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxPage {
    /// Messages.
    pub items: Vec<InboxMessage>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl Notifications {
    /// The service.
    pub fn new(
        db: Database,
        jobs: Jobs,
        plugins: Arc<PluginHost>,
        mailer: Mailer,
        config: &NotificationsConfig,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.webhook_timeout_ms.get()))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Hearth-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                jobs,
                plugins,
                mailer,
                http,
                webhook_secret: config.webhook_secret.clone(),
            }),
        })
    }

    /// The bus subscriber that fans events out to the notifier plugins.
    pub fn subscriber(&self) -> Arc<dyn Subscriber> {
        Arc::new(FanOut(self.clone()))
    }

    /// The job handlers: `notify` and `deliver`.
    pub fn job_handlers(&self) -> Vec<Arc<dyn JobHandler>> {
        vec![
            Arc::new(Render(self.clone())),
            Arc::new(Deliver(self.clone())),
        ]
    }

    /// The caller's inbox, newest first.
    pub async fn inbox(
        &self,
        who: &Principal,
        params: &InboxParams,
    ) -> Result<InboxPage, DomainError> {
        let mut p = Problems::default();
        let page = cursor::page_request(&mut p, params.limit, params.cursor.as_deref());
        p.finish()?;
        let mut conn = self.inner.db.acquire().await?;
        let rows = store::inbox_page(
            conn.exec(),
            who.account_id.as_uuid(),
            params.unread,
            page.after,
            page.limit + 1,
        )
        .await?;
        let (rows, next_cursor) = cursor::page(rows, page.limit, |r| Some((r.created_at, r.id)));
        Ok(InboxPage {
            items: rows.into_iter().map(InboxMessage::from).collect(),
            next_cursor,
        })
    }

    /// Marks one of the caller's messages read; 404 for anyone else's.
    pub async fn mark_read(&self, who: &Principal, id: Uuid) -> Result<InboxMessage, DomainError> {
        let mut conn = self.inner.db.acquire().await?;
        store::mark_read(conn.exec(), who.account_id.as_uuid(), id, now())
            .await?
            .map(InboxMessage::from)
            .ok_or(DomainError::NotFound(Resource::Notification))
    }

    /// Every delivery rendered for an event (for operators and tests).
    pub async fn deliveries(&self, event_id: Uuid) -> Result<Vec<DeliveryRecord>, DomainError> {
        let mut conn = self.inner.db.acquire().await?;
        Ok(store::deliveries_of(conn.exec(), event_id).await?)
    }

    /// Step 2: renders `event` through `plugin_id` and records what it chose.
    async fn render(&self, run: &JobRun) -> Result<(), JobError> {
        let job: NotifyJob = run.job.payload()?;
        let set = self.inner.plugins.current();
        let Some(plugin) = set.get(&job.plugin) else {
            tracing::info!(plugin.id = %job.plugin, "notifier no longer loaded; nothing to render");
            return Ok(());
        };
        let event = &job.event;
        {
            let mut conn = self.inner.db.acquire().await?;
            if store::rendered(conn.exec(), event.id, &job.plugin).await? {
                return Ok(());
            }
        }
        let input = notifier::Event {
            id: event.id.to_string(),
            kind: event.kind.clone(),
            occurred_at_ms: u64::try_from(event.occurred_at.timestamp_millis()).unwrap_or(0),
            payload: event.payload.clone(),
        };
        let chosen = notifier::notify(plugin, &input)
            .await
            .map_err(|e| JobError::Failed(format!("notifier `{}`: {e}", job.plugin)))?;
        let mut tx = run.begin().await?;
        for (position, d) in chosen.into_iter().enumerate() {
            self.record_delivery(&mut tx, &job, position, d).await?;
        }
        run.commit_with(tx).await
    }

    async fn record_delivery(
        &self,
        tx: &mut Tx,
        job: &NotifyJob,
        position: usize,
        d: notifier::Delivery,
    ) -> Result<(), JobError> {
        let now = now();
        let recipient = d.recipient.as_deref().and_then(|r| r.parse::<Uuid>().ok());
        let (channel, target) = match &d.channel {
            Channel::Inbox => ("inbox", None),
            Channel::Email(to) => ("email", Some(to.clone())),
            Channel::Webhook(url) => ("webhook", Some(url.clone())),
        };
        let mut record = DeliveryRecord {
            id: Uuid::now_v7(),
            event_id: job.event.id,
            plugin_id: job.plugin.clone(),
            position: i32::try_from(position).unwrap_or(i32::MAX),
            channel: channel.to_owned(),
            target,
            recipient_id: recipient,
            subject: d.subject,
            body: d.body,
            state: "pending".into(),
            attempts: 0,
            last_error: None,
            created_at: now,
            delivered_at: None,
        };
        if d.channel == Channel::Inbox {
            let account = match recipient {
                Some(id) => accounts::find_by_id(tx.exec(), id).await?,
                None => None,
            };
            let Some(account) = account else {
                record.state = "failed".into();
                record.last_error = Some("an inbox delivery needs the id of an account".into());
                store::insert_delivery(tx.exec(), &record).await?;
                return Ok(());
            };
            record.state = "delivered".into();
            record.attempts = 1;
            record.delivered_at = Some(now);
            store::insert_delivery(tx.exec(), &record).await?;
            let inbox = InboxRecord {
                id: record.id,
                account_id: account.id,
                event_id: job.event.id,
                kind: job.event.kind.clone(),
                subject: record.subject,
                body: record.body,
                created_at: now,
                read_at: None,
            };
            store::insert_inbox(tx.exec(), &inbox).await?;
            return Ok(());
        }
        store::insert_delivery(tx.exec(), &record).await?;
        self.inner
            .jobs
            .enqueue_in(
                tx.exec(),
                DELIVER,
                &DeliverJob {
                    delivery: record.id,
                },
                Enqueue {
                    unique_key: Some(format!("deliver:{}", record.id)),
                    run_at: None,
                },
            )
            .await?;
        Ok(())
    }

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
        let mut conn = self.inner.db.acquire().await?;
        match &sent {
            Ok(()) => {
                store::record_attempt(conn.exec(), d.id, "delivered", None, Some(now())).await?
            }
            Err(e) => {
                let final_attempt =
                    run.job.is_last_attempt() || matches!(e, JobError::Permanent(_));
                let state = if final_attempt { "failed" } else { "pending" };
                store::record_attempt(conn.exec(), d.id, state, Some(&e.to_string()), None).await?
            }
        }
        sent
    }

    async fn post_webhook(&self, d: &DeliveryRecord, url: &str) -> Result<(), JobError> {
        let parsed = url::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| JobError::Permanent(format!("`{url}` is not an http(s) URL")))?;
        let secret = self.inner.webhook_secret.as_ref().ok_or_else(|| {
            JobError::Failed("notifications.webhook_secret is not configured".into())
        })?;
        let timestamp = Utc::now().timestamp();
        let signature = sign(secret.expose_secret().as_bytes(), timestamp, &d.body);
        let response = self
            .inner
            .http
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("hearth-event-id", d.event_id.to_string())
            .header("hearth-delivery-id", d.id.to_string())
            .header(SIGNATURE_HEADER, format!("t={timestamp},v1={signature}"))
            .body(d.body.clone())
            .send()
            .await
            .map_err(|e| JobError::Failed(format!("cannot reach the receiver: {e}")))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(JobError::Failed(format!("the receiver answered {status}")))
        }
    }
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

/// Step 1: one `notify` job per notifier plugin.
struct FanOut(Notifications);

impl Subscriber for FanOut {
    fn group(&self) -> &'static str {
        "notifications"
    }

    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Event,
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let set = self.0.inner.plugins.current();
            for plugin in set.of_kind(PluginKind::Notifier) {
                let job = NotifyJob {
                    plugin: plugin.info().id.to_string(),
                    event: event.clone(),
                };
                let key = format!("notify:{}:{}", event.id, job.plugin);
                self.0
                    .inner
                    .jobs
                    .enqueue_in(
                        tx.exec(),
                        NOTIFY,
                        &job,
                        Enqueue {
                            unique_key: Some(key),
                            run_at: None,
                        },
                    )
                    .await?;
            }
            Ok(())
        })
    }
}

struct Render(Notifications);

impl JobHandler for Render {
    fn kind(&self) -> &'static str {
        NOTIFY
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.0.render(run))
    }
}

struct Deliver(Notifications);

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
