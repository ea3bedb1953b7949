//! A payment provider whose answers the test gives, one call at a time: the
//! `hearth_test_guest_payments_gated` component asks this controller (over its `http` grant)
//! what to answer, and the controller hands each call to the test, which answers it when the
//! race it stages needs the answer. So a test can hold a capture while a timer runs, or let a
//! webhook overtake an authorization's answer.

use std::time::Duration;

use axum::extract::{Path, State};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::plugin;

/// The plugin id the gated provider is loaded under.
pub const GATED: &str = "payments-gated";

/// One provider call waiting for its answer.
#[derive(Debug)]
pub struct Call {
    /// `authorize`, `capture`, `refund` or `cancel`.
    pub operation: String,
    /// The payment id (authorize) or the provider reference (the rest).
    pub subject: String,
    reply: oneshot::Sender<String>,
}

impl Call {
    /// Answers the call with a status word (`authorized`, `captured`, `pending`, `refunded`,
    /// `voided`, `declined:<reason>`).
    pub fn answer(self, status: &str) {
        let _ = self.reply.send(status.to_owned());
    }

    /// The reference the provider hands out for this authorization.
    pub fn reference(&self) -> String {
        format!("gated_{}", self.subject)
    }
}

/// The controller: a loopback server whose every request is a [`Call`].
pub struct GatedProvider {
    port: u16,
    calls: mpsc::UnboundedReceiver<Call>,
    task: JoinHandle<()>,
}

impl GatedProvider {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the provider controller");
        let port = listener.local_addr().expect("addr").port();
        let (tx, calls) = mpsc::unbounded_channel();
        let app = axum::Router::new()
            .route("/{operation}", axum::routing::post(call))
            .with_state(tx);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { port, calls, task }
    }

    /// The `[[plugins]]` entry of the gated provider, allowed to reach this controller.
    pub fn plugin(&self) -> String {
        let origin = format!("http://127.0.0.1:{}", self.port);
        plugin(
            GATED,
            "payments",
            "hearth_test_guest_payments_gated",
            &format!(
                "capabilities = [\"http\"]\nhttp_allow = [\"{origin}\"]\nlimits = {{ timeout_ms = 30000 }}"
            ),
            &format!("controller = \"{origin}\""),
        )
    }

    /// The next call, which must be `operation`.
    pub async fn next(&mut self, operation: &str) -> Call {
        let call = tokio::time::timeout(Duration::from_secs(20), self.calls.recv())
            .await
            .unwrap_or_else(|_| panic!("the provider was never asked to {operation}"))
            .expect("the controller is running");
        assert_eq!(
            call.operation, operation,
            "the provider was asked: {call:?}"
        );
        call
    }

    /// Whether the provider was asked anything within `wait`.
    pub async fn asked_within(&mut self, wait: Duration) -> Option<Call> {
        tokio::time::timeout(wait, self.calls.recv())
            .await
            .ok()
            .flatten()
    }
}

impl Drop for GatedProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn call(
    State(calls): State<mpsc::UnboundedSender<Call>>,
    Path(operation): Path<String>,
    subject: String,
) -> String {
    let (reply, answer) = oneshot::channel();
    let _ = calls.send(Call {
        operation,
        subject,
        reply,
    });
    answer.await.unwrap_or_default()
}
