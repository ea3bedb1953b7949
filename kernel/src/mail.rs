//! Outgoing email: the transport behind the `mail` plugin capability and email notifications.
//! SMTP through lettre, a log-only transport for development, or none (sending fails clearly).
//!
//! Plugins never send directly: `mail.send` enqueues a [`SEND_MAIL`] job, so a message is
//! retried with backoff while the server is down and survives a restart.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::{MailConfig, MailTransportKind, SmtpTls};
use crate::jobs::{JobError, JobHandler, JobRun};

/// The job kind that sends one [`Mail`].
pub const SEND_MAIL: &str = "send_mail";

/// A plain-text email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `[mail] transport = "none"`.
    #[error("no mail transport is configured on this kernel ([mail] transport)")]
    NotConfigured,
    /// The address or message is malformed; retrying cannot help.
    #[error("invalid message: {0}")]
    Invalid(String),
    /// The server refused or could not be reached.
    #[error("SMTP delivery failed: {0}")]
    Send(String),
}

/// The configured transport. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    from: Mailbox,
    transport: Transport,
}

enum Transport {
    None,
    Log,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner.transport {
            Transport::None => "none",
            Transport::Log => "log",
            Transport::Smtp(_) => "smtp",
        };
        f.debug_struct("Mailer").field("transport", &kind).finish()
    }
}

impl Mailer {
    /// Builds the transport (connections are opened per send).
    pub fn new(config: &MailConfig) -> Result<Self, MailError> {
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| MailError::Invalid(format!("mail.from: {e}")))?;
        let transport = match config.transport {
            MailTransportKind::None => Transport::None,
            MailTransportKind::Log => Transport::Log,
            MailTransportKind::Smtp => {
                let host = config.smtp_host.as_str();
                let tls_error = |e: lettre::transport::smtp::Error| {
                    MailError::Invalid(format!("mail.smtp_host: {e}"))
                };
                let mut builder = match config.smtp_tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .map_err(tls_error)?,
                    SmtpTls::Tls => {
                        AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(tls_error)?
                    }
                }
                .port(config.smtp_port)
                .timeout(Some(Duration::from_millis(config.timeout_ms.get())));
                if let (Some(user), Some(password)) = (&config.smtp_username, &config.smtp_password)
                {
                    builder = builder.credentials(Credentials::new(
                        user.clone(),
                        password.expose_secret().to_owned(),
                    ));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Self {
            inner: Arc::new(Inner { from, transport }),
        })
    }

    /// Sends one message now.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| MailError::Invalid(format!("recipient `{}`: {e}", mail.to)))?;
        match &self.inner.transport {
            Transport::None => Err(MailError::NotConfigured),
            Transport::Log => {
                tracing::info!(to = %to, subject = %mail.subject, body = %mail.body, "mail (log transport, not sent)");
                Ok(())
            }
            Transport::Smtp(smtp) => {
                let message = Message::builder()
                    .from(self.inner.from.clone())
                    .to(to)
                    .subject(&mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body.clone())
                    .map_err(|e| MailError::Invalid(e.to_string()))?;
                smtp.send(message)
                    .await
                    .map(|_| ())
                    .map_err(|e| MailError::Send(e.to_string()))
            }
        }
    }
}

impl From<MailError> for JobError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Invalid(_) => JobError::Permanent(e.to_string()),
            MailError::NotConfigured | MailError::Send(_) => JobError::Failed(e.to_string()),
        }
    }
}

/// Runs [`SEND_MAIL`] jobs.
#[derive(Debug, Clone)]
pub struct SendMail(pub Mailer);

impl JobHandler for SendMail {
    fn kind(&self) -> &'static str {
        SEND_MAIL
    }

    fn run<'a>(&'a self, run: &'a JobRun) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            let mail: Mail = run.job.payload()?;
            Ok(self.0.send(&mail).await?)
        })
    }
}
