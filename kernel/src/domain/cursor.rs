//! Keyset-pagination cursors: the last item's sort key, opaque to clients (URL-safe base64 of
//! JSON). A cursor that does not decode is the caller's to report as a field error.

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes a cursor.
pub(crate) fn encode(cursor: &impl Serialize) -> String {
    ENGINE.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// Decodes a cursor made by [`encode`]; `None` for anything else.
pub(crate) fn decode<T: DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_slice(&ENGINE.decode(s).ok()?).ok()
}

/// The position of the last item of a page ordered by `(time, id)` descending.
#[derive(serde::Serialize, serde::Deserialize)]
struct TimeCursor {
    t: chrono::DateTime<chrono::Utc>,
    id: uuid::Uuid,
}

/// A page request over items ordered newest first by `(time, id)`: the command part of every
/// list operation, parsed at the edge.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Items to return (1-100, default 20).
    pub(crate) limit: u32,
    /// Start after this `(time, id)`.
    pub(crate) after: Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
}

impl PageRequest {
    /// Parses `limit` and `cursor` (a `next_cursor` this kernel made), recording problems on
    /// `p` under those names.
    pub fn parse(p: &mut crate::model::Problems, limit: Option<u32>, cursor: Option<&str>) -> Self {
        let limit = limit.unwrap_or(20);
        p.check((1..=100).contains(&limit), "limit", "must be 1 to 100");
        let after = cursor.and_then(|c| match decode::<TimeCursor>(c) {
            Some(c) => Some((c.t, c.id)),
            None => {
                p.add("cursor", "is not a cursor from this list");
                None
            }
        });
        PageRequest { limit, after }
    }
}

/// The opaque cursor of the position right after an item keyed `(time, id)` in a list ordered
/// newest first (a GraphQL edge's cursor; the same form as every `next_cursor`).
pub fn after_item(time: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> String {
    encode(&TimeCursor { t: time, id })
}

/// Cuts `rows` (fetched with `limit + 1`) to the page and makes the next page's cursor from
/// the last row's `(time, id)` when there is more.
pub(crate) fn page<T>(
    mut rows: Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last()
            .and_then(&key)
            .map(|(t, id)| encode(&TimeCursor { t, id }))
    } else {
        None
    };
    (rows, next)
}
