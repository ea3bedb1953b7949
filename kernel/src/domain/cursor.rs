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
