//! The account types: parsed once at the edge, so an `Email` is always a plausible address, a
//! `Password` always within bounds, and a `Role` always one of three.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An account's id (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(Uuid);

impl AccountId {
    /// A new time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// The raw UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for AccountId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for AccountId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What an account may do. A host is also a guest; an admin may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Books stays.
    Guest,
    /// Also lists homes.
    Host,
    /// Also operates the platform.
    Admin,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Guest => "guest",
            Role::Host => "host",
            Role::Admin => "admin",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "guest" => Some(Role::Guest),
            "host" => Some(Role::Host),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A syntactically plausible email address, at most 254 characters. Compared case-insensitively
/// by the store; kept as typed for display.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Parses an address: one `@`, a non-empty local part, a dotted domain, no spaces.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err("must be an email address like name@example.com")
        }
    }

    /// The address as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased address, for lookups and throttling keys.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// Never printed: emails are personal data and stay out of logs.
impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

/// A password of 8 to 128 characters (NIST SP 800-63B: long passphrases allowed, no composition
/// rules). Never printed.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Minimum length in characters.
    pub const MIN: usize = 8;
    /// Maximum length in characters (bounds the hashing work an attacker can request).
    pub const MAX: usize = 128;

    /// Parses a new password.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let n = raw.chars().count();
        if n < Self::MIN {
            Err("must be at least 8 characters")
        } else if n > Self::MAX {
            Err("must be at most 128 characters")
        } else {
            Ok(Self(raw.to_owned()))
        }
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A display name: 1 to 80 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a display name.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let s = raw.trim();
        let n = s.chars().count();
        if n == 0 {
            Err("must not be empty")
        } else if n > 80 {
            Err("must be at most 80 characters")
        } else if s.chars().any(char::is_control) {
            Err("must not contain control characters")
        } else {
            Ok(Self(s.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account as the rest of the kernel sees it. The password hash never leaves `auth`.
#[derive(Debug, Clone)]
pub struct Account {
    /// Id.
    pub id: AccountId,
    /// Email as typed.
    pub email: Email,
    /// Display name.
    pub display_name: DisplayName,
    /// Role.
    pub role: Role,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_without_a_dotted_domain_is_rejected() {
        assert!(Email::parse("a@localhost").is_err());
        assert!(Email::parse("a@b.").is_err());
        assert!(Email::parse("@b.com").is_err());
        assert!(Email::parse("a b@c.com").is_err());
        assert!(Email::parse("a@b@c.com").is_err());
    }

    #[test]
    fn an_email_is_kept_as_typed_but_compared_lowercased() {
        let e = Email::parse("  Ada@Example.COM ").expect("valid");
        assert_eq!(e.as_str(), "Ada@Example.COM");
        assert_eq!(e.normalized(), "ada@example.com");
    }

    #[test]
    fn a_password_shorter_than_eight_characters_is_rejected() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn secrets_and_emails_do_not_print() {
        let p = Password::parse("correct horse").expect("valid");
        let e = Email::parse("ada@example.com").expect("valid");
        assert!(!format!("{p:?}{e:?}").contains("horse"));
        assert!(!format!("{p:?}{e:?}").contains("ada@"));
    }

    #[test]
    fn a_blank_display_name_is_rejected() {
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("Ada\u{7}").is_err());
        assert_eq!(DisplayName::parse(" Ada ").expect("valid").as_str(), "Ada");
    }

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Guest < Role::Host && Role::Host < Role::Admin);
        assert_eq!(Role::parse("host"), Some(Role::Host));
        assert_eq!(Role::parse("root"), None);
    }
}
