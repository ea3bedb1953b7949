//! Receivers the tests start: a minimal SMTP sink that accepts and keeps every message, and a
//! webhook receiver that records requests and answers with a programmed sequence of statuses.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct SunkMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent after `DATA`.
    pub data: String,
}

impl SunkMail {
    /// The value of a header, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }
}

/// An SMTP server on 127.0.0.1 speaking just enough ESMTP for a client to hand over mail.
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<SunkMail>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind SMTP sink");
        let port = listener.local_addr().expect("addr").port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let sink = messages.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = sink.clone();
                tokio::spawn(async move {
                    let _ = session(stream, sink).await;
                });
            }
        });
        Self { port, messages }
    }

    pub fn messages(&self) -> Vec<SunkMail> {
        self.messages.lock().expect("lock").clone()
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    sink: Arc<Mutex<Vec<SunkMail>>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().trim_matches(['<', '>']).to_owned();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            while let Some(l) = lines.next_line().await? {
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
                data.push('\n');
            }
            sink.lock().expect("lock").push(SunkMail {
                from: std::mem::take(&mut from),
                to: std::mem::take(&mut to),
                data,
            });
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Hook {
    pub headers: HeaderMap,
    pub body: String,
    pub at: Instant,
}

#[derive(Clone, Default)]
struct Receiver {
    hooks: Arc<Mutex<Vec<Hook>>>,
    /// Statuses to answer with, in order; 200 once used up.
    script: Arc<Mutex<VecDeque<StatusCode>>>,
}

/// An HTTP server recording every POST to `/hook`.
pub struct WebhookReceiver {
    pub url: String,
    state: Receiver,
}

impl WebhookReceiver {
    /// Answers the first requests with `script`, then 200.
    pub async fn start(script: &[StatusCode]) -> Self {
        let state = Receiver {
            hooks: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!(
            "http://127.0.0.1:{}/hook",
            listener.local_addr().expect("addr").port()
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, state }
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.state.hooks.lock().expect("lock").clone()
    }
}

async fn receive(State(state): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    state.hooks.lock().expect("lock").push(Hook {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    });
    state
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(StatusCode::OK)
}
