//! `GET /graphql/ws`: operations over a WebSocket with the `graphql-transport-ws` protocol,
//! for subscriptions. async-graphql runs the protocol; this file bounds it and signs it in:
//!
//! - a node holds at most `graphql.max_connections` of them (503 beyond), a message is at most
//!   `graphql.max_query_bytes` plus room for variables, and each operation spends from the
//!   `general` budget as a request would;
//! - the first message must be `connection_init` within [`INIT_TIMEOUT`] (else 4408), with the
//!   same bearer token as REST in its payload (`{"Authorization": "Bearer <token>"}`; else
//!   4403), and nothing is run before it (4401);
//! - one connection runs at most `graphql.max_subscriptions` operations at once (the one over
//!   it gets an `error` message, `too_many_subscriptions`), and an id already running closes
//!   the connection (4409), as the protocol says;
//! - the server pings every [`PING_EVERY`] so a dead peer is noticed.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::http::{
    ClientMessage, WebSocket as GqlWebSocket, WebSocketProtocols, WsMessage,
};
use async_graphql::{Data, Pos};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::stream::{self, SplitSink};
use futures_util::{SinkExt, Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::{mpsc, OwnedSemaphorePermit};

use super::context::Caller;
use super::error::from_api;
use super::loaders::Loaders;
use super::{HearthSchema, Served};
use crate::auth::Principal;
use crate::http::error::ApiError;
use crate::http::extract::{bearer, ClientAddr};
use crate::http::limits::{Limiter, RouteBudget};
use crate::http::AppState;

/// The subprotocol spoken.
const PROTOCOL: &str = "graphql-transport-ws";
/// How long a client has to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Room in a message beyond the query document: the envelope and variables.
const ENVELOPE_BYTES: usize = 16 * 1024;
/// Refusals waiting to be written; a client that piles up more (sending operations it is
/// refused while not reading the answers) is disconnected.
const SAY_BACKLOG: usize = 32;

/// The upgrade, refused with a problem when the node is full or the request is no
/// `graphql-transport-ws` WebSocket handshake.
pub(super) async fn upgrade(
    State(app): State<AppState>,
    Extension(served): Extension<Served>,
    ClientAddr(client): ClientAddr,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let refused = |detail: String| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "websocket_required",
            "A graphql-transport-ws WebSocket is required",
        )
        .detail(detail)
        .into_response()
    };
    let upgrade = match upgrade {
        Ok(u) => u.protocols([PROTOCOL]),
        Err(e) => return refused(format!("GET /graphql/ws takes a WebSocket handshake: {e}.")),
    };
    if upgrade.selected_protocol() != Some(&HeaderValue::from_static(PROTOCOL)) {
        return refused(format!(
            "Ask for the `{PROTOCOL}` subprotocol (`Sec-WebSocket-Protocol: {PROTOCOL}`)."
        ));
    }
    let Ok(permit) = served.connections.clone().try_acquire_owned() else {
        return ApiError::overloaded(
            "too_many_connections",
            "This node holds as many subscription connections as it may (graphql.max_connections); try again shortly.",
            5,
        )
        .into_response();
    };
    let limit = app.config.graphql.max_query_bytes.get() + ENVELOPE_BYTES;
    upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| {
            let connection = Connection {
                app,
                limiter: served.limiter,
                schema: served.schema,
                client,
                _permit: permit,
            };
            connection.serve(socket)
        })
}

/// One open connection.
struct Connection {
    app: AppState,
    limiter: Arc<Limiter>,
    schema: HearthSchema,
    client: IpAddr,
    /// Held while the connection is open: its place under `graphql.max_connections`.
    _permit: OwnedSemaphorePermit,
}

/// Why a connection is closed: a protocol close code and reason.
struct Close(u16, String);

/// What the guard of incoming messages asks the writer to do.
enum Say {
    /// Send this text message.
    Text(String),
    /// Close the connection.
    Close(Close),
}

impl Connection {
    async fn serve(self, socket: WebSocket) {
        let (mut sink, mut source) = socket.split();
        let first = tokio::time::timeout(INIT_TIMEOUT, next_data(&mut source)).await;
        let init = match first {
            Err(_) => {
                let timeout = Close(4408, "Connection initialisation timeout".into());
                return close(&mut sink, timeout).await;
            }
            Ok(None) => return,
            Ok(Some(data)) => data,
        };
        let principal = match self.sign_in(&init).await {
            Ok(p) => p,
            Err(refusal) => return close(&mut sink, refusal).await,
        };

        let (say, mut said) = mpsc::channel::<Say>(SAY_BACKLOG);
        let running = Arc::new(Mutex::new(HashSet::<String>::new()));
        let incoming = self.guarded(source, principal.clone(), running.clone(), say);
        let mut data = Data::default();
        data.insert(Caller {
            viewer: Some(principal.clone()),
            client: Some(self.client),
        });
        data.insert(Loaders::new(&self.app, Some(principal)));
        // The client's `connection_init` was read above; the protocol is told it came.
        let init = stream::once(async { Ok(ClientMessage::ConnectionInit { payload: None }) });
        let protocol = GqlWebSocket::from_message_stream(
            self.schema.clone(),
            init.chain(incoming),
            WebSocketProtocols::GraphQLWS,
        )
        .connection_data(data);
        futures_util::pin_mut!(protocol);

        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let sent = tokio::select! {
                out = protocol.next() => match out {
                    Some(WsMessage::Text(text)) => {
                        forget_if_ended(&running, &text);
                        sink.send(Message::Text(text.into())).await
                    }
                    Some(WsMessage::Close(code, reason)) => {
                        return close(&mut sink, Close(code, reason)).await;
                    }
                    None => break,
                },
                Some(say) = said.recv() => match say {
                    Say::Text(text) => sink.send(Message::Text(text.into())).await,
                    Say::Close(c) => return close(&mut sink, c).await,
                },
                _ = ping.tick() => sink.send(Message::Ping(Default::default())).await,
            };
            if sent.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    }

    /// The caller `connection_init`'s payload names, or how to close the connection.
    async fn sign_in(&self, init: &[u8]) -> Result<Principal, Close> {
        let Ok(ClientMessage::ConnectionInit { payload }) = ClientMessage::from_bytes(init) else {
            return Err(Close(4401, "Unauthorized".into()));
        };
        let token = payload
            .as_ref()
            .and_then(|p| p.as_object())
            .and_then(|p| {
                p.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
            })
            .and_then(|(_, value)| value.as_str())
            .and_then(bearer);
        let Some(token) = token else {
            return Err(Close(
                4403,
                "Forbidden: send {\"Authorization\": \"Bearer <token>\"} as the connection_init payload".into(),
            ));
        };
        self.app.auth.authenticate(token).await.map_err(|e| {
            let problem = ApiError::from(e);
            problem.log_if_server_error();
            let shown = problem.problem();
            if shown.status >= 500 {
                Close(1011, "Internal error".into())
            } else {
                Close(
                    4403,
                    format!("Forbidden: {}", shown.detail.unwrap_or(shown.title)),
                )
            }
        })
    }

    /// The client's messages after `connection_init`, as the protocol reads them, with the
    /// connection's bounds applied: an operation over `max_subscriptions` or the `general`
    /// budget is answered with an `error` message (through `say`) instead of running.
    fn guarded(
        &self,
        source: impl Stream<Item = Result<Message, axum::Error>> + Send + 'static,
        principal: Principal,
        running: Arc<Mutex<HashSet<String>>>,
        say: mpsc::Sender<Say>,
    ) -> impl Stream<Item = serde_json::Result<ClientMessage>> + Send + 'static {
        let app = self.app.clone();
        let limiter = self.limiter.clone();
        let client = self.client;
        let max = app.config.graphql.max_subscriptions.get();
        data_of(source).filter_map(move |data| {
            let (app, limiter, principal, running, say) = (
                app.clone(),
                limiter.clone(),
                principal.clone(),
                running.clone(),
                say.clone(),
            );
            async move {
                let message = ClientMessage::from_bytes(&data);
                let refusal = match &message {
                    Ok(ClientMessage::Start { id, .. }) => {
                        let (duplicate, full) = {
                            let running = locked(&running);
                            (running.contains(id), running.len() >= max)
                        };
                        if duplicate {
                            let reason = format!("Subscriber for {id} already exists");
                            Some(Say::Close(Close(4409, reason)))
                        } else if full {
                            let refusal = ApiError::new(
                                StatusCode::TOO_MANY_REQUESTS,
                                "too_many_subscriptions",
                                "Too many subscriptions",
                            )
                            .detail(format!(
                                "A connection runs at most {max} operations at once (graphql.max_subscriptions); complete one first."
                            ));
                            Some(Say::Text(error_message(id, refusal)))
                        } else {
                            let spent = limiter
                                .spend_route(&app, RouteBudget::General, Some(client), Some(&principal))
                                .await;
                            match spent {
                                Ok(()) => {
                                    locked(&running).insert(id.clone());
                                    None
                                }
                                Err(refusal) => Some(Say::Text(error_message(id, refusal))),
                            }
                        }
                    }
                    Ok(ClientMessage::Stop { id }) => {
                        locked(&running).remove(id);
                        None
                    }
                    _ => None,
                };
                match refusal {
                    None => Some(message),
                    // Answered here; the protocol never sees it.
                    Some(say_this) => match say.try_send(say_this) {
                        Ok(()) => None,
                        Err(_) => Some(Ok(ClientMessage::ConnectionTerminate)),
                    },
                }
            }
        })
    }
}

/// The protocol's `error` message for operation `id`: the problem as a GraphQL error.
fn error_message(id: &str, problem: ApiError) -> String {
    let error = from_api(problem).into_server_error(Pos::default());
    serde_json::json!({"type": "error", "id": id, "payload": [error]}).to_string()
}

/// Forgets operation ids the protocol reports ended (`complete` or `error`), so they no longer
/// count against `max_subscriptions`.
fn forget_if_ended(running: &Mutex<HashSet<String>>, text: &str) {
    #[derive(Deserialize)]
    struct Head<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        id: Option<String>,
    }
    if let Ok(Head {
        kind: "complete" | "error",
        id: Some(id),
    }) = serde_json::from_str::<Head<'_>>(text)
    {
        locked(running).remove(&id);
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The data of the client's text and binary messages, until it closes or fails.
fn data_of(
    source: impl Stream<Item = Result<Message, axum::Error>> + Send + 'static,
) -> impl Stream<Item = Vec<u8>> + Send + 'static {
    source
        .take_while(|m| std::future::ready(matches!(m, Ok(m) if !matches!(m, Message::Close(_)))))
        .filter_map(|m| std::future::ready(m.ok().and_then(data)))
}

/// The next text or binary message's data; `None` once the client is gone.
async fn next_data(
    source: &mut (impl Stream<Item = Result<Message, axum::Error>> + Unpin),
) -> Option<Vec<u8>> {
    while let Some(Ok(message)) = source.next().await {
        if matches!(message, Message::Close(_)) {
            return None;
        }
        if let Some(data) = data(message) {
            return Some(data);
        }
    }
    None
}

/// A text or binary message's data (pings, pongs and closes carry none for the protocol).
fn data(message: Message) -> Option<Vec<u8>> {
    match message {
        Message::Text(t) => Some(t.as_bytes().to_vec()),
        Message::Binary(b) => Some(b.to_vec()),
        Message::Ping(_) | Message::Pong(_) | Message::Close(_) => None,
    }
}

async fn close(sink: &mut SplitSink<WebSocket, Message>, Close(code, mut reason): Close) {
    // A close frame's reason is at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.truncate(end);
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}
