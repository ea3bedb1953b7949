//! Notifications: events become messages through notifier plugins.
//!
//! 1. The `notifications` bus subscriber turns the events the relay hands on together into one
//!    `notify` job per notifier plugin that receives any of them, in the transaction that
//!    records their receipts (so each event reaches each plugin once).
//! 2. A `notify` job calls the plugin for each of its events, which renders it and chooses
//!    deliveries. The kernel records every delivery; inbox messages are stored at once, and the
//!    emails and webhooks get `deliver` jobs (up to 64 deliveries each), in the same
//!    transaction as the job's completion. An event the plugin fails on is split off into a
//!    job of its own, which is retried and dead-lettered alone, so it holds up none of the
//!    others.
//! 3. A `deliver` job sends its emails (through [`Mailer`]) and signed webhooks, and records
//!    each attempt on its delivery, all in one commit. If any failed, it is retried with the
//!    jobs' backoff and sends only those again.
//!
//! Nothing here runs in the request that caused the event, so a failing notifier or receiver
//! never blocks or fails it.
//!
//! `render` holds steps 1 and 2, `deliver` step 3; this file is the service and the inbox.

mod deliver;
mod render;

pub use deliver::{endpoint_secret, sign};

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{cursor, DomainError, PageRequest, Resource};
use crate::auth::{AccountId, Principal};
use crate::bus::{DomainEvent, Event, Subscriber};
use crate::config::{NotificationsConfig, OutboundConfig};
use crate::data::notifications::{self as store, DeliveryRecord, InboxRecord};
use crate::data::{now, Database};
use crate::jobs::{JobHandler, Jobs};
use crate::mail::Mailer;
use crate::outbound::{self, Outbound};
use crate::plugins::PluginHost;
use deliver::Deliver;
use render::{FanOut, Render};

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
    http: Outbound,
    webhook_secret: Option<SecretString>,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").finish_non_exhaustive()
    }
}

/// A `notify` job: the events one notifier is to render, in order. A job holds several when the
/// relay handed them on together; one that fails in such a job gets a job of its own.
#[derive(Debug, Serialize, Deserialize)]
struct NotifyJob {
    plugin: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    events: Vec<Event>,
    /// The one event of a job queued before jobs held several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<Event>,
}

impl NotifyJob {
    fn new(plugin: &str, events: Vec<Event>) -> Self {
        Self {
            plugin: plugin.to_owned(),
            events,
            event: None,
        }
    }

    fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().chain(&self.event)
    }

    /// At most one job ever renders an event alone through a plugin; a batch is keyed by its
    /// first event and size.
    fn unique_key(&self) -> String {
        let events: Vec<&Event> = self.events().collect();
        match events.as_slice() {
            [one] => format!("notify:{}:{}", one.id, self.plugin),
            many => format!(
                "notify:{}:{}+{}",
                many.first().map(|e| e.id).unwrap_or_default(),
                self.plugin,
                many.len().saturating_sub(1)
            ),
        }
    }
}

/// A `deliver` job: emails and webhooks one `notify` job chose, sent in order. A rerun sends
/// only the ones still pending.
#[derive(Debug, Serialize, Deserialize)]
struct DeliverJob {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    deliveries: Vec<Uuid>,
    /// The one delivery of a job queued before jobs held several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delivery: Option<Uuid>,
}

impl DeliverJob {
    /// Deliveries one job sends at most: a bound on its statements and on how long it runs.
    const MAX_DELIVERIES: usize = 64;

    fn new(deliveries: Vec<Uuid>) -> Self {
        Self {
            deliveries,
            delivery: None,
        }
    }

    fn deliveries(&self) -> Vec<Uuid> {
        self.deliveries
            .iter()
            .chain(&self.delivery)
            .copied()
            .collect()
    }

    /// A delivery is in one job only, so the job is keyed by its first.
    fn unique_key(&self) -> String {
        format!(
            "deliver:{}",
            self.deliveries().first().copied().unwrap_or_default()
        )
    }
}

/// The event recorded with each message put in an inbox, so live watchers see it arrive
/// ([`InboxMessage::added`]). Notifiers never receive it: they would notify of their own
/// notifications, without end.
pub const NOTIFICATION_ADDED: &str = "notification_added";

/// A [`NOTIFICATION_ADDED`] event's payload: the message and whose inbox it is in.
#[derive(Debug, Serialize, Deserialize)]
struct Added {
    account_id: Uuid,
    id: Uuid,
    kind: String,
    event_id: Uuid,
    subject: String,
    body: String,
    created_at: DateTime<Utc>,
}

impl DomainEvent for Added {
    fn kind(&self) -> &str {
        NOTIFICATION_ADDED
    }
}

impl From<&InboxRecord> for Added {
    fn from(r: &InboxRecord) -> Self {
        Self {
            account_id: r.account_id,
            id: r.id,
            kind: r.kind.clone(),
            event_id: r.event_id,
            subject: r.subject.clone(),
            body: r.body.clone(),
            created_at: r.created_at,
        }
    }
}

/// An inbox message.
#[derive(Debug, Clone)]
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

impl InboxMessage {
    /// The message a [`NOTIFICATION_ADDED`] event announces, and whose inbox it went to.
    pub fn added(event: &Event) -> Option<(AccountId, Self)> {
        if event.kind != NOTIFICATION_ADDED {
            return None;
        }
        let added = Added::deserialize(&event.payload).ok()?;
        let message = Self {
            id: added.id,
            kind: added.kind,
            event_id: added.event_id,
            subject: added.subject,
            body: added.body,
            created_at: added.created_at,
            read_at: None,
        };
        Some((added.account_id.into(), message))
    }
}

/// One page of an inbox, newest first.
#[derive(Debug, Clone)]
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
        outbound: &OutboundConfig,
    ) -> Result<Self, outbound::BuildError> {
        let http = Outbound::new(
            outbound,
            Duration::from_millis(config.webhook_timeout_ms.get()),
            concat!("Hearth-Webhooks/", env!("CARGO_PKG_VERSION")),
        )?;
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

    /// The caller's inbox (only unread messages if `unread`), newest first.
    pub async fn inbox(
        &self,
        who: &Principal,
        unread: bool,
        page: PageRequest,
    ) -> Result<InboxPage, DomainError> {
        let mut conn = self.inner.db.acquire().await?;
        let rows = store::inbox_page(
            conn.exec(),
            who.account_id.as_uuid(),
            unread,
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
        let mut conn = self.inner.db.write().await?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jobs_queued_before_they_held_several_still_run() {
        let event = Event {
            id: Uuid::now_v7(),
            kind: "user_registered".into(),
            payload: json!({}),
            occurred_at: Utc::now(),
        };
        let old: NotifyJob =
            serde_json::from_value(json!({ "plugin": "notify-inbox", "event": event }))
                .expect("an old notify job");
        assert_eq!(old.events().collect::<Vec<_>>(), [&event]);
        assert_eq!(
            old.unique_key(),
            format!("notify:{}:notify-inbox", event.id)
        );

        let delivery = Uuid::now_v7();
        let old: DeliverJob =
            serde_json::from_value(json!({ "delivery": delivery })).expect("an old deliver job");
        assert_eq!(old.deliveries(), [delivery]);
        assert_eq!(old.unique_key(), format!("deliver:{delivery}"));
    }

    #[test]
    fn a_batch_is_keyed_by_its_first_and_written_without_the_old_fields() {
        let ids = [Uuid::now_v7(), Uuid::now_v7()];
        let job = DeliverJob::new(ids.to_vec());
        assert_eq!(job.unique_key(), format!("deliver:{}", ids[0]));
        let written = serde_json::to_value(&job).expect("json");
        assert_eq!(written, json!({ "deliveries": ids }));
    }
}
