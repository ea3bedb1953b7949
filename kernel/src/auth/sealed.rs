//! What auth keeps in the cache is sealed: each value carries an HMAC-SHA256 under the server's
//! key over the cache key it is stored under and its JSON, so whoever can write to Redis can
//! neither forge a session or a role nor move a real one to another key. A value that does not
//! verify is a miss: the database decides, and the forgery is logged and counted.

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

/// A cached value with its MAC.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Sealed<T> {
    value: T,
    mac: String,
}

/// Seals and opens cached values under one key.
#[derive(Clone)]
pub(super) struct Sealer {
    /// One SHA-256 block: HMAC takes it as it is.
    key: [u8; 64],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(<key>)")
    }
}

impl Sealer {
    /// A sealer keyed by the configured secret, or by a random key for this process.
    pub(super) fn new(secret: Option<&SecretString>) -> Self {
        let key = match secret {
            Some(s) => Sha512::digest(s.expose_secret().as_bytes()).into(),
            None => {
                let mut key = [0u8; 64];
                OsRng.fill_bytes(&mut key);
                key
            }
        };
        Self { key }
    }

    fn mac(&self, at: &str, json: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&self.key.into());
        mac.update(at.as_bytes());
        mac.update(b"\n");
        mac.update(json.as_bytes());
        mac
    }

    /// `value`, sealed for the cache key `at`.
    pub(super) fn seal<T: Serialize>(&self, at: &str, value: T) -> Sealed<T> {
        let json = serde_json::to_string(&value).unwrap_or_default();
        let mac = hex::encode(self.mac(at, &json).finalize().into_bytes());
        Sealed { value, mac }
    }

    /// The value, if it was sealed by this key for `at`.
    pub(super) fn open<T: Serialize + DeserializeOwned>(
        &self,
        at: &str,
        sealed: Sealed<T>,
    ) -> Option<T> {
        let json = serde_json::to_string(&sealed.value).ok()?;
        let tag = hex::decode(&sealed.mac).ok()?;
        self.mac(at, &json).verify_slice(&tag).ok()?;
        Some(sealed.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_under_its_key_and_its_cache_key() {
        let sealer = Sealer::new(Some(&SecretString::from("k1")));
        let sealed = sealer.seal("roles:a", "guest".to_owned());
        let moved = Sealed {
            value: sealed.value.clone(),
            mac: sealed.mac.clone(),
        };
        assert_eq!(sealer.open("roles:a", sealed), Some("guest".to_owned()));
        assert_eq!(sealer.open("roles:b", moved), None, "moved to another key");
        let forged = Sealed {
            value: "admin".to_owned(),
            mac: sealer.seal("roles:a", "guest".to_owned()).mac,
        };
        assert_eq!(sealer.open("roles:a", forged), None, "changed value");
        let other = Sealer::new(Some(&SecretString::from("k2")));
        let sealed = other.seal("roles:a", "guest".to_owned());
        assert_eq!(sealer.open("roles:a", sealed), None, "another server's key");
    }
}
