//! Actors: someone logged in who sends their own requests (`host.create_listing(..)`,
//! `guest.book(..)`), and the [`TestApp`] methods that make them (crates.io's `MockCookieUser`,
//! zero-to-production's `TestUser`).

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

use super::fixtures::listing;
use super::TestApp;

/// Someone logged in, with a client of the app they are logged in to.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub token: String,
    client: reqwest::Client,
    address: String,
}

impl Actor {
    /// A request to `path` with this actor's bearer token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token)
    }

    /// `GET path` as this actor.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request sent")
    }

    /// `GET path` as this actor: the status and the body (`null` when it is not JSON).
    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let res = self.get(path).await;
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// `method path` with a JSON body as this actor.
    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> Response {
        self.request(method, path)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST path` with a JSON body as this actor.
    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.send_json(Method::POST, path, body).await
    }

    /// Creates a listing from [`listing`]`(overrides)`, which must succeed; the listing.
    pub async fn create_listing(&self, overrides: Value) -> Value {
        let res = self.post_json("/v1/listings", &listing(overrides)).await;
        let status = res.status();
        let body: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// `POST /v1/bookings` with `body`, under an idempotency key when one is given.
    pub async fn book_raw(&self, body: &Value, key: Option<&str>) -> Response {
        let mut req = self.request(Method::POST, "/v1/bookings").json(body);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        req.send().await.expect("request sent")
    }

    /// Books, which must succeed; the booking.
    pub async fn book(&self, body: &Value) -> Value {
        let res = self.book_raw(body, None).await;
        let status = res.status();
        let booking: Value = res.json().await.expect("json");
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        booking
    }

    /// `POST /v1/bookings/{id}/{action}` (accept, decline, cancel, ...).
    pub async fn act(&self, booking: &str, action: &str) -> Response {
        self.request(Method::POST, &format!("/v1/bookings/{booking}/{action}"))
            .send()
            .await
            .expect("request sent")
    }
}

impl TestApp {
    /// `POST /v1/auth/logout` with `token`.
    pub async fn logout(&self, token: &str) -> Response {
        self.request(Method::POST, "/v1/auth/logout")
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/v1/auth/register",
            None,
            &json!({ "email": email, "password": password, "display_name": "Test User" }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/v1/auth/login",
            None,
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// A fresh guest who became a host (`POST /v1/me/host`).
    pub async fn host(&self) -> Actor {
        let actor = self.guest().await;
        let res = actor.post_json("/v1/me/host", &json!({})).await;
        assert_eq!(res.status(), StatusCode::OK);
        actor
    }

    /// Registers a fresh guest and logs in.
    pub async fn guest(&self) -> Actor {
        let email = format!("guest-{}@example.com", uuid::Uuid::new_v4().simple());
        self.actor(&email).await
    }

    /// Registers, logs in and returns the actor.
    pub async fn actor(&self, email: &str) -> Actor {
        let password = "correct horse battery";
        assert_eq!(
            self.register(email, password).await.status(),
            StatusCode::CREATED
        );
        self.actor_logged_in(email, password).await
    }

    pub async fn actor_logged_in(&self, email: &str, password: &str) -> Actor {
        let res = self.login(email, password).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.expect("json");
        Actor {
            id: body["account"]["id"].as_str().expect("id").to_owned(),
            token: body["token"].as_str().expect("token").to_owned(),
            client: self.client.clone(),
            address: self.address.clone(),
        }
    }

    /// An admin, created the way an operator does (`hearth admin create` calls the same function).
    pub async fn admin(&self) -> Actor {
        let email = format!("admin-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery";
        self.kernel
            .auth
            .create_admin(
                hearth::auth::Email::parse(&email).expect("email"),
                &hearth::auth::Password::parse(password).expect("password"),
                hearth::auth::DisplayName::parse("Admin").expect("name"),
            )
            .await
            .expect("admin created");
        self.actor_logged_in(&email, password).await
    }
}
