//! Session tokens: 256 random bits, handed to the client once as `hearth_<base64url>`. The
//! database and cache only ever see the token's SHA-256.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

const PREFIX: &str = "hearth_";

/// A bearer token. Never printed.
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token from the OS's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// The token, to give to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// The stored form of a token: hex SHA-256. A fast hash is right here: the token has 256 bits of
/// entropy, so there is nothing to brute-force.
pub(super) fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_256_random_bits_and_differ() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a.expose(), b.expose());
        let raw = a.expose().strip_prefix(PREFIX).expect("prefixed");
        assert_eq!(URL_SAFE_NO_PAD.decode(raw).expect("base64url").len(), 32);
    }

    #[test]
    fn the_stored_hash_is_not_the_token() {
        let t = SessionToken::generate();
        let h = hash(t.expose());
        assert_eq!(h.len(), 64);
        assert!(!h.contains(t.expose()));
        assert_eq!(h, hash(t.expose()));
    }
}
