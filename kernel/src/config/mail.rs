//! `[mail]`: how the kernel sends email (the `mail` capability and email notifications).

use std::num::NonZeroU64;

use secrecy::SecretString;
use serde::Deserialize;

use super::error::Checks;

/// `[mail]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `transport = "none"` (sending fails with a clear error), `"log"` (written to the log, for
    /// development) or `"smtp"`.
    pub transport: MailTransportKind,
    /// `from = "Hearth <no-reply@localhost>"`
    pub from: String,
    /// `smtp_host = "127.0.0.1"`
    pub smtp_host: String,
    /// `smtp_port = 25`
    pub smtp_port: u16,
    /// `smtp_tls = "none"`, `"starttls"` or `"tls"` (implicit TLS, usually port 465).
    pub smtp_tls: SmtpTls,
    /// `smtp_username`: with `smtp_password`, enables authentication.
    pub smtp_username: Option<String>,
    /// `smtp_password`
    pub smtp_password: Option<SecretString>,
    /// `timeout_ms = 10000`: one SMTP conversation.
    pub timeout_ms: NonZeroU64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransportKind::None,
            from: "Hearth <no-reply@localhost>".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password: None,
            timeout_ms: NonZeroU64::new(10_000).expect("10000 is not zero"),
        }
    }
}

/// Mail transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// No mail: sending fails.
    None,
    /// Messages are logged, not sent.
    Log,
    /// An SMTP server.
    Smtp,
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (a local relay or test sink).
    None,
    /// Upgrade with STARTTLS (required).
    Starttls,
    /// Implicit TLS.
    Tls,
}

impl MailConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        if self.transport == MailTransportKind::Smtp {
            if self.smtp_host.is_empty() {
                checks.invalid(
                    "mail.smtp_host",
                    "a host name, required for `transport = \"smtp\"`",
                );
            }
            // A username alone would send mail unauthenticated while the operator believes
            // otherwise; name the key that is missing.
            match (&self.smtp_username, &self.smtp_password) {
                (Some(_), None) => checks.invalid(
                    "mail.smtp_password",
                    "both `smtp_username` and `smtp_password`, or neither",
                ),
                (None, Some(_)) => checks.invalid(
                    "mail.smtp_username",
                    "both `smtp_username` and `smtp_password`, or neither",
                ),
                _ => {}
            }
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            checks.invalid(
                "mail.from",
                "a mailbox such as `Hearth <no-reply@example.com>`",
            );
        }
    }
}
