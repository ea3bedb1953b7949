//! `/openapi.json` is valid OpenAPI 3.1 (checked against the OpenAPI Initiative's published
//! schema, vendored as `openapi-3.1-schema.json` from its 2022-10-07 release, Apache-2.0), every
//! documented operation is served, and every served operation is documented.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

async fn document(app: &TestApp) -> Value {
    let res = app.get("/openapi.json", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn the_document_validates_as_openapi_3_1() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let schema: Value =
        serde_json::from_str(include_str!("openapi-3.1-schema.json")).expect("schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "invalid OpenAPI 3.1: {errors:#?}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn every_documented_operation_is_served() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    for (method, path) in operations(&doc) {
        let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let res = app
            .request(method.clone(), &concrete)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("sent");
        let status = res.status();
        let body = res.text().await.unwrap_or_default();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("\"code\":\"not_found\"")),
            "{method} {path} is documented but not routed"
        );
    }
}

#[tokio::test]
async fn every_served_operation_is_documented() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let served = [
        ("POST", "/v1/auth/register"),
        ("POST", "/v1/auth/login"),
        ("POST", "/v1/auth/logout"),
        ("GET", "/v1/me"),
        ("PATCH", "/v1/me"),
        ("POST", "/v1/me/host"),
        ("GET", "/v1/listings"),
        ("POST", "/v1/listings"),
        ("GET", "/v1/listings/{id}"),
        ("PATCH", "/v1/listings/{id}"),
        ("DELETE", "/v1/listings/{id}"),
        ("GET", "/v1/listings/{id}/calendar"),
        ("PUT", "/v1/listings/{id}/calendar"),
        ("GET", "/v1/listings/{id}/quote"),
        ("POST", "/v1/bookings"),
        ("GET", "/v1/bookings"),
        ("GET", "/v1/bookings/{id}"),
        ("POST", "/v1/bookings/{id}/accept"),
        ("POST", "/v1/bookings/{id}/decline"),
        ("POST", "/v1/bookings/{id}/cancel"),
        ("GET", "/v1/bookings/{id}/cancellation"),
        ("GET", "/v1/bookings/{id}/payments"),
        ("POST", "/v1/webhooks/payments/{plugin_id}"),
        ("POST", "/v1/bookings/{id}/reviews"),
        ("GET", "/v1/listings/{id}/reviews"),
        ("GET", "/v1/users/{id}/reviews"),
        ("POST", "/v1/reviews/{id}/response"),
        ("GET", "/v1/admin/reviews"),
        ("POST", "/v1/admin/reviews/{id}/approve"),
        ("POST", "/v1/admin/reviews/{id}/reject"),
        ("GET", "/v1/notifications"),
        ("POST", "/v1/notifications/{id}/read"),
        ("PUT", "/v1/admin/accounts/{id}/role"),
        ("GET", "/v1/admin/jobs"),
        ("POST", "/v1/admin/jobs/{id}/retry"),
        ("GET", "/v1/admin/plugins"),
        ("GET", "/v1/admin/plugins/{id}"),
        ("POST", "/v1/admin/plugins/reload"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
    ];
    let documented = operations(&document(&app).await);
    let served: BTreeSet<(String, String)> = served
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(documented, served);
}

#[tokio::test]
async fn the_docs_ui_is_served() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let res = app.get("/docs", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    let html = res.text().await.expect("text");
    assert!(html.contains("Hearth API"), "the page embeds the document");
}
