//! Changing the caller's own profile.

use std::net::IpAddr;

use chrono::Utc;

use super::{account_from, email_conflict, Account, Auth, AuthError, Principal, ProfileChange};
use super::{DisplayName, Email};
use crate::data::{accounts, sessions};

impl Auth {
    /// Changes the caller's own profile. A new email or password needs the current password,
    /// checked and throttled like a login from `client` (a stolen session must not be enough to
    /// take the account over, nor to guess its password at leisure); a new password signs out
    /// every other session of the account.
    pub async fn update_profile(
        &self,
        principal: &Principal,
        change: ProfileChange,
        client: IpAddr,
    ) -> Result<Account, AuthError> {
        let id = principal.account_id.as_uuid();
        let mut conn = self.db.acquire().await?;
        let current = accounts::find_by_id(conn.exec(), id)
            .await?
            .ok_or(AuthError::AccountNotFound)?;
        drop(conn);
        if change.email.is_some() || change.password.is_some() {
            let given = change
                .current_password
                .as_deref()
                .ok_or(AuthError::CurrentPasswordRequired)?;
            self.check_current_password(&current.email, &current.password_hash, given, client)
                .await?;
        }
        let password_hash = match &change.password {
            Some(new) => self.hasher.hash(new).await?,
            None => current.password_hash.clone(),
        };
        let email = change
            .email
            .as_ref()
            .map_or(current.email.as_str(), Email::as_str);
        let display_name = change
            .display_name
            .as_ref()
            .map_or(current.display_name.as_str(), DisplayName::as_str);
        let mut tx = self.db.begin().await?;
        let updated = accounts::update_profile(
            tx.exec(),
            id,
            email,
            display_name,
            &password_hash,
            Utc::now(),
        )
        .await
        .map_err(email_conflict)?
        .ok_or(AuthError::AccountNotFound)?;
        let signed_out = if change.password.is_some() {
            sessions::delete_others(tx.exec(), id, &principal.token_hash).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        for hash in &signed_out {
            self.sessions.delete(hash).await;
        }
        account_from(updated)
    }
}
