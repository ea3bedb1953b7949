//! `/openapi.json` is valid OpenAPI 3.1 (checked against the OpenAPI Initiative's published
//! schema, vendored as `openapi-3.1-schema.json` from its 2022-10-07 release, Apache-2.0), every
//! documented operation is served, every served operation is documented, and every status the
//! server's extractors and layers can answer with is documented (see `http/responses.rs`).

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
        ("GET", "/docs/scalar.js"),
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
    // Its script is Hearth's own (the page works with no internet), pinned by integrity.
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "nothing is loaded from elsewhere"
    );
    let script = app.get("/docs/scalar.js", None).await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/javascript"));
    let bytes = script.bytes().await.expect("body");
    use base64::Engine as _;
    use sha2::Digest as _;
    let integrity = format!(
        "sha384-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha384::digest(&bytes))
    );
    assert!(
        html.contains(&format!(
            r#"<script src="/docs/scalar.js" integrity="{integrity}""#
        )),
        "the page pins the script it is served"
    );
}

/// Every operation as `(label, operation object)`.
fn operation_objects(doc: &Value) -> Vec<(String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if let Some(op) = item.get(method) {
                ops.push((format!("{} {path}", method.to_uppercase()), op));
            }
        }
    }
    ops
}

/// The statuses an operation documents, each checked to be a problem+json `Problem` when it is
/// an error.
fn documented_statuses(doc: &Value, label: &str, op: &Value) -> BTreeSet<u16> {
    let mut statuses = BTreeSet::new();
    for (status, response) in op["responses"].as_object().expect("responses") {
        let status: u16 = status.parse().expect("numeric status");
        let response = match response["$ref"].as_str() {
            Some(r) => {
                let name = r
                    .strip_prefix("#/components/responses/")
                    .expect("a response ref");
                &doc["components"]["responses"][name]
            }
            None => response,
        };
        if status >= 400 {
            let problem = &response["content"]["application/problem+json"]["schema"]["$ref"];
            assert_eq!(
                problem, "#/components/schemas/Problem",
                "{label}: {status} is not documented as a problem+json Problem"
            );
        }
        statuses.insert(status);
    }
    statuses
}

fn missing(documented: &BTreeSet<u16>, required: &[u16]) -> Vec<u16> {
    required
        .iter()
        .copied()
        .filter(|s| !documented.contains(s))
        .collect()
}

#[tokio::test]
async fn every_status_the_extractors_and_layers_can_answer_is_documented() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    let mut problems = Vec::new();
    for (label, op) in operation_objects(&doc) {
        let statuses = documented_statuses(&doc, &label, op);
        let mut required = vec![503]; // the timeout layer answers any request that runs too long
        if !["GET /healthz", "GET /readyz"].contains(&label.as_str()) {
            required.push(429); // the general rate-limit budget
        }
        if op.get("security").is_some() {
            required.push(401);
        }
        if op["requestBody"]["content"]
            .get("application/json")
            .is_some()
        {
            // The body limit; for `ApiJson` also a wrong content type, malformed JSON, wrong fields.
            required.push(413);
            if op["requestBody"]["content"]["application/json"]["schema"]["$ref"].is_string() {
                required.extend([400, 415, 422]);
            }
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params
            .iter()
            .any(|p| p["in"] == "path" && p["schema"]["format"] == "uuid")
        {
            required.push(404);
        }
        if params.iter().any(|p| p["in"] == "query") {
            required.push(422);
        }
        if params.iter().any(|p| p["name"] == "Idempotency-Key") {
            required.extend([400, 409, 422]);
        }
        let missing = missing(&statuses, &required);
        if !missing.is_empty() {
            problems.push(format!("{label} does not document {missing:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn login_documents_its_throttle_and_metrics_its_content_type() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    let login = &doc["paths"]["/v1/auth/login"]["post"]["responses"]["429"];
    assert_eq!(login["$ref"], "#/components/responses/TooManyRequests");
    let headers = &doc["components"]["responses"]["TooManyRequests"]["headers"];
    for header in ["Retry-After", "RateLimit", "RateLimit-Policy"] {
        assert!(headers[header].is_object(), "429 documents {header}");
    }
    // The health checks spend no budget, so they document no 429.
    assert!(doc["paths"]["/healthz"]["get"]["responses"]["429"].is_null());

    let documented: Vec<&String> = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
        .as_object()
        .expect("content")
        .keys()
        .collect();
    let res = app.get("/metrics", None).await;
    let served = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(documented, [&served]);
}

/// The served document, byte for byte in meaning: any change of the wire format (a field, a
/// constraint, a status) fails here until its diff is reviewed and accepted
/// (`cargo insta review`, or `INSTA_UPDATE=always` and read `git diff`).
#[tokio::test]
async fn the_document_matches_its_reviewed_snapshot() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    let doc = document(&app).await;
    insta::assert_json_snapshot!("openapi", doc);
}
