//! `/v1/notifications`: the inbox query and its messages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::notifications as domain;
use crate::domain::PageRequest;
use crate::model::{Invalid, Problems};

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

impl InboxParams {
    /// Whether only unread messages are wanted, and the page.
    pub fn parse(&self) -> Result<(bool, PageRequest), Vec<Invalid>> {
        let mut p = Problems::default();
        let page = PageRequest::parse(&mut p, self.limit, self.cursor.as_deref());
        p.finish()?;
        Ok((self.unread, page))
    }
}

/// An inbox message.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
#[graphql(name = "Notification")]
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

impl From<domain::InboxMessage> for InboxMessage {
    fn from(m: domain::InboxMessage) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            event_id: m.event_id,
            subject: m.subject,
            body: m.body,
            created_at: m.created_at,
            read_at: m.read_at,
        }
    }
}

/// One page of an inbox, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxPage {
    /// Messages.
    pub items: Vec<InboxMessage>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl From<domain::InboxPage> for InboxPage {
    fn from(p: domain::InboxPage) -> Self {
        Self {
            items: p.items.into_iter().map(InboxMessage::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}
