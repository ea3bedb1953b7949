//! A `graphql-transport-ws` client for `/graphql/ws`: connect (with a subprotocol and, when
//! given, a `connection_init` payload), subscribe, read what the server sends.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TestApp;

/// An open connection to `/graphql/ws`.
pub struct GqlSocket {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server did next.
#[derive(Debug, PartialEq)]
pub enum Heard {
    /// A protocol message (`next`, `error`, `complete`, `pong`, …).
    Message(Value),
    /// It closed the connection with this code and reason.
    Closed(u16, String),
    /// Nothing within the wait.
    Nothing,
}

impl GqlSocket {
    /// Opens the WebSocket (no `connection_init` sent yet).
    pub async fn open(app: &TestApp) -> Self {
        let url = format!("{}/graphql/ws", app.address.replacen("http", "ws", 1));
        let mut request = url.into_client_request().expect("a WebSocket request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the WebSocket handshake succeeds");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            "graphql-transport-ws"
        );
        Self { socket }
    }

    /// Opens and signs in with `token`, waiting for `connection_ack`.
    pub async fn signed_in(app: &TestApp, token: &str) -> Self {
        let mut socket = Self::open(app).await;
        socket
            .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}))
            .await;
        let ack = socket.hear(Duration::from_secs(10)).await;
        assert_eq!(ack, Heard::Message(json!({"type": "connection_ack"})));
        socket
    }

    /// Sends one protocol message.
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("message sent");
    }

    /// Starts operation `id`: `query` with `variables`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"type": "subscribe", "id": id, "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// A ping answered by a pong: every message sent before it has been read by the server.
    pub async fn round_trip(&mut self) {
        self.send(json!({"type": "ping"})).await;
        loop {
            match self.hear(Duration::from_secs(10)).await {
                Heard::Message(m) if m["type"] == "pong" => return,
                Heard::Message(_) => continue,
                other => panic!("expected a pong, heard {other:?}"),
            }
        }
    }

    /// The next protocol message or close within `wait` (WebSocket pings are passed over).
    pub async fn hear(&mut self, wait: Duration) -> Heard {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next()).await;
            match next {
                Err(_) => return Heard::Nothing,
                Ok(None) => return Heard::Closed(1006, "gone".into()),
                Ok(Some(Err(e))) => return Heard::Closed(1006, e.to_string()),
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Heard::Message(serde_json::from_str(&text).expect("JSON messages"))
                }
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return match frame {
                        Some(f) => Heard::Closed(u16::from(f.code), f.reason.to_string()),
                        None => Heard::Closed(u16::from(CloseCode::Status), String::new()),
                    }
                }
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next message for operation `id` within `wait`, passing over others' messages.
    pub async fn hear_on(&mut self, id: &str, wait: Duration) -> Heard {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.hear(left).await {
                Heard::Message(m) if m["id"] != id => continue,
                heard => return heard,
            }
        }
    }
}
