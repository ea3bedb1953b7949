//! Steps 1 and 2: the bus subscriber that fans events out to one `notify` job per notifier
//! plugin that receives any of them, and the `notify` job that renders them and records their
//! deliveries.

use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::{Added, DeliverJob, Notifications, NotifyJob, DELIVER, NOTIFICATION_ADDED, NOTIFY};
use crate::bus::{self, Event, HandlerError, Subscriber};
use crate::config::PluginKind;
use crate::data::notifications::{self as store, DeliveryRecord, InboxRecord};
use crate::data::{accounts, now, Tx};
use crate::jobs::{Enqueue, JobError, JobHandler, JobRun};
use crate::plugins::kinds::notifier::{self, Channel, DeliveryRefused};
use crate::plugins::PluginInfo;

impl Notifications {
    /// Step 2: renders the job's events through its plugin and records what it chose.
    async fn render(&self, run: &JobRun) -> Result<(), JobError> {
        let job: NotifyJob = run.job.payload()?;
        let set = self.inner.plugins.current();
        let Some(plugin) = set.get(&job.plugin) else {
            tracing::info!(plugin.id = %job.plugin, "notifier no longer loaded; nothing to render");
            return Ok(());
        };
        let mut pending = Vec::new();
        {
            let mut conn = self.inner.db.acquire().await?;
            for event in job.events() {
                if !store::rendered(conn.exec(), event.id, &job.plugin).await? {
                    pending.push(event);
                }
            }
        }
        let alone = job.events().count() == 1;
        let mut chosen = Vec::with_capacity(pending.len());
        let mut failed = Vec::new();
        for event in pending {
            let input = notifier::Event {
                id: event.id.to_string(),
                kind: event.kind.clone(),
                occurred_at_ms: u64::try_from(event.occurred_at.timestamp_millis()).unwrap_or(0),
                payload: event.payload.clone(),
            };
            match notifier::notify(plugin, &input).await {
                Ok(deliveries) => chosen.push((event, deliveries)),
                Err(e) if alone => return Err(JobError::Failed(e.redacted().to_string())),
                Err(e) => failed.push((event, e.redacted().to_string())),
            }
        }
        let mut tx = run.begin().await?;
        let mut to_send = Vec::new();
        for (event, deliveries) in chosen {
            for (position, d) in deliveries.into_iter().enumerate() {
                let permitted = d.permitted(plugin);
                let recorded = self
                    .record_delivery(&mut tx, &job.plugin, event, position, d, permitted)
                    .await?;
                to_send.extend(recorded);
            }
        }
        for chunk in to_send.chunks(DeliverJob::MAX_DELIVERIES) {
            let deliver = DeliverJob::new(chunk.to_vec());
            let options = Enqueue::unique(deliver.unique_key());
            self.inner
                .jobs
                .enqueue_in(tx.exec(), DELIVER, &deliver, options)
                .await?;
        }
        for (event, error) in failed {
            tracing::warn!(plugin.id = %job.plugin, event.id = %event.id, error, "notifier failed on an event; it gets a job of its own");
            let retry = NotifyJob::new(&job.plugin, vec![event.clone()]);
            let options = Enqueue::unique(retry.unique_key());
            self.inner
                .jobs
                .enqueue_in(tx.exec(), NOTIFY, &retry, options)
                .await?;
        }
        run.commit_with(tx).await
    }

    /// Records one delivery the plugin chose; its id if it is an email or webhook to send.
    async fn record_delivery(
        &self,
        tx: &mut Tx,
        plugin_id: &str,
        event: &Event,
        position: usize,
        d: notifier::Delivery,
        permitted: Result<(), DeliveryRefused>,
    ) -> Result<Option<Uuid>, JobError> {
        let now = now();
        let recipient = d.recipient.as_deref().and_then(|r| r.parse::<Uuid>().ok());
        let (channel, target) = match &d.channel {
            Channel::Inbox => ("inbox", None),
            Channel::Email(to) => ("email", Some(to.clone())),
            Channel::Webhook(url) => ("webhook", Some(url.clone())),
        };
        let mut record = DeliveryRecord {
            id: Uuid::now_v7(),
            event_id: event.id,
            plugin_id: plugin_id.to_owned(),
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
        if let Err(refused) = permitted {
            // Recorded so the operator sees what the plugin tried; nothing is sent.
            tracing::warn!(plugin.id = %plugin_id, error = %refused, "delivery refused");
            record.state = "failed".into();
            record.last_error = Some(refused.to_string());
            store::insert_delivery(tx.exec(), &record).await?;
            return Ok(None);
        }
        if d.channel == Channel::Inbox {
            let account = match recipient {
                Some(id) => accounts::find_by_id(tx.exec(), id).await?,
                None => None,
            };
            let Some(account) = account else {
                record.state = "failed".into();
                record.last_error = Some("an inbox delivery needs the id of an account".into());
                store::insert_delivery(tx.exec(), &record).await?;
                return Ok(None);
            };
            record.state = "delivered".into();
            record.attempts = 1;
            record.delivered_at = Some(now);
            store::insert_delivery(tx.exec(), &record).await?;
            let inbox = InboxRecord {
                id: record.id,
                account_id: account.id,
                event_id: event.id,
                kind: event.kind.clone(),
                subject: record.subject,
                body: record.body,
                created_at: now,
                read_at: None,
            };
            store::insert_inbox(tx.exec(), &inbox).await?;
            bus::record(tx.exec(), &Added::from(&inbox)).await?;
            return Ok(None);
        }
        store::insert_delivery(tx.exec(), &record).await?;
        Ok(Some(record.id))
    }
}

/// Step 1: one `notify` job per notifier plugin for the events it receives.
pub(super) struct FanOut(pub(super) Notifications);

impl Subscriber for FanOut {
    fn group(&self) -> &'static str {
        "notifications"
    }

    fn wants(&self, event: &Event) -> bool {
        let set = self.0.inner.plugins.current();
        let mut notifiers = set.of_kind(PluginKind::Notifier);
        notifiers.any(|p| renders(p.info(), &event.kind))
    }

    fn handle<'a>(
        &'a self,
        tx: &'a mut Tx,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            let set = self.0.inner.plugins.current();
            for plugin in set.of_kind(PluginKind::Notifier) {
                let info = plugin.info();
                let received: Vec<Event> = events
                    .iter()
                    .filter(|e| renders(info, &e.kind))
                    .cloned()
                    .collect();
                if received.is_empty() {
                    continue;
                }
                let job = NotifyJob::new(&info.id.to_string(), received);
                let options = Enqueue::unique(job.unique_key());
                self.0
                    .inner
                    .jobs
                    .enqueue_in(tx.exec(), NOTIFY, &job, options)
                    .await?;
            }
            Ok(())
        })
    }
}

/// Whether the notifier `info` renders events of `kind`: those it receives, but never the
/// announcement of a message it put in an inbox.
fn renders(info: &PluginInfo, kind: &str) -> bool {
    kind != NOTIFICATION_ADDED && info.receives(kind)
}

pub(super) struct Render(pub(super) Notifications);

impl JobHandler for Render {
    fn kind(&self) -> &'static str {
        NOTIFY
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.0.render(run))
    }
}
