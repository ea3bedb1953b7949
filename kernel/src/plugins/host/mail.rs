//! `mail`: email through the kernel's mail transport. A message is queued as a durable
//! `send_mail` job (see `crate::mail`), so it is retried while the SMTP server is down.

use crate::config::Capability;
use crate::jobs::Enqueue;
use crate::mail::{Mail, SEND_MAIL};
use crate::plugins::bindings::common::hearth::plugins::mail::{Host, Message};
use crate::plugins::call::CallState;

impl Host for CallState {
    async fn send(&mut self, message: Message) -> wasmtime::Result<Result<(), String>> {
        self.require(Capability::Mail)?;
        let Some(jobs) = &self.plugin.services.jobs else {
            return Ok(Err("no mail transport is available to this command".into()));
        };
        if message.to.parse::<lettre::message::Mailbox>().is_err() {
            return Ok(Err(format!("`{}` is not an email address", message.to)));
        }
        let mail = Mail {
            to: message.to,
            subject: message.subject,
            body: message.text_body,
        };
        Ok(jobs
            .enqueue(SEND_MAIL, &mail, Enqueue::default())
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot queue the message: {e}")))
    }
}
