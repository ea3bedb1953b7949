//! Password hashing: Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), always on the
//! blocking pool so hashing never stalls the async runtime.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::OnceCell;

use super::{AuthError, Password};

fn argon2() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1. These are constants known to
    // be valid, so construction cannot fail.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string.
pub(super) async fn hash(password: &Password) -> Result<String, AuthError> {
    let secret = password.expose().to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(secret.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AuthError::Internal(format!("hashing task failed: {e}")))?
}

/// Checks a password against a stored PHC string.
pub(super) async fn verify(candidate: &str, phc: &str) -> Result<bool, AuthError> {
    let candidate = candidate.to_owned();
    let phc = phc.to_owned();
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| AuthError::Internal(format!("stored hash is malformed: {e}")))?;
        Ok(argon2()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AuthError::Internal(format!("verify task failed: {e}")))?
}

/// A hash of a random password, verified against when the email is unknown so that a login for
/// a missing account costs the same time as one with a wrong password.
pub(super) async fn decoy() -> Result<&'static str, AuthError> {
    static DECOY: OnceCell<String> = OnceCell::const_new();
    DECOY
        .get_or_try_init(|| async {
            let random = super::token::SessionToken::generate();
            let password =
                Password::parse(random.expose()).map_err(|e| AuthError::Internal(e.to_owned()))?;
            hash(&password).await
        })
        .await
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let password = Password::parse("correct horse battery").expect("valid");
        let phc = hash(&password).await.expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc).await.expect("verify"));
        assert!(!verify("wrong horse battery", &phc).await.expect("verify"));
    }
}
