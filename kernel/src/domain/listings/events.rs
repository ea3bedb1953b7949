//! The listing events written to the outbox with each change.

use serde::Serialize;
use uuid::Uuid;

use crate::data::listings::ListingRecord;

/// `listing_created`, `listing_updated`, `listing_published` (became visible) and
/// `listing_deleted`. `account_id` is the host, whom notifiers address.
#[derive(Debug, Serialize)]
pub(super) struct ListingEvent<'a> {
    #[serde(skip)]
    pub(super) kind: &'static str,
    pub(super) listing_id: Uuid,
    pub(super) account_id: Uuid,
    pub(super) title: &'a str,
    pub(super) city: &'a str,
    pub(super) country: &'a str,
}

impl<'a> ListingEvent<'a> {
    pub(super) fn new(kind: &'static str, r: &'a ListingRecord) -> Self {
        Self {
            kind,
            listing_id: r.id,
            account_id: r.host_id,
            title: &r.title,
            city: &r.city,
            country: &r.country,
        }
    }
}

impl crate::bus::DomainEvent for ListingEvent<'_> {
    fn kind(&self) -> &str {
        self.kind
    }
}
