//! Graceful shutdown: a request in flight when shutdown begins still gets its answer; new
//! connections are refused.

use std::time::Duration;

use reqwest::{Method, StatusCode};

use crate::helpers::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_finishes_when_shutdown_begins() {
    let Some(mut app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let request = app
        .request(Method::POST, "/v1/auth/register")
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body));
    let in_flight = tokio::spawn(request.send());
    tx.send(Ok(br#"{"email": "late@example.com", "#.to_vec()))
        .await
        .expect("send");
    // Let the request reach the server and start reading its body.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let server = app.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = reqwest::get(format!("{}/healthz", app.address)).await;
    assert!(
        refused.is_err(),
        "new connections are refused once shutdown begins"
    );

    tx.send(Ok(
        br#""password": "correct horse battery", "display_name": "Late"}"#.to_vec(),
    ))
    .await
    .expect("send");
    drop(tx);
    let res = in_flight.await.expect("task").expect("answered");
    assert_eq!(res.status(), StatusCode::CREATED);
    server.await.expect("server task").expect("clean stop");
}
