//! Whoever can write to Redis can neither sign in as someone else nor raise a role: cached
//! sessions and roles are sealed by the server, and a forged or moved one is ignored (the
//! database decides).

use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::metric;
use crate::helpers::{Backend, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_or_role_forged_in_redis_is_ignored() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let url = app
        .stores
        .redis_url
        .clone()
        .expect("the PostgreSQL stores come with Redis");
    let prefix = app.stores.redis_prefix.clone();
    let mut redis = redis::Client::open(url)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let admin = app.admin().await;
    let guest = app.guest().await;
    // Both sessions and roles are cached now.
    assert_eq!(admin.get("/v1/admin/jobs").await.status(), StatusCode::OK);
    assert_eq!(guest.get("/v1/me").await.status(), StatusCode::OK);

    // A session nobody logged in to, naming the admin: sealed with a made-up MAC, and in the
    // unsealed shape too.
    for (i, forged) in [
        json!({ "value": { "account_id": admin.id, "expires_at": "2099-01-01T00:00:00Z" }, "mac": "00".repeat(32) }),
        json!({ "account_id": admin.id, "expires_at": "2099-01-01T00:00:00Z" }),
    ]
    .iter()
    .enumerate()
    {
        let token = format!("hearth_forged_token_{i}");
        let hash = hex::encode(Sha256::digest(token.as_bytes()));
        let _: () = redis
            .set_ex(format!("{prefix}:sessions:{hash}"), forged.to_string(), 60)
            .await
            .expect("written");
        let res = app.get("/v1/me", Some(&token)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "forgery {i} let in");
    }

    // The admin's real, sealed role moved under the guest's id.
    let admins_role: String = redis
        .get(format!("{prefix}:roles:{}", admin.id))
        .await
        .expect("the admin's role is cached");
    let _: () = redis
        .set_ex(format!("{prefix}:roles:{}", guest.id), admins_role, 60)
        .await
        .expect("written");
    assert_eq!(
        guest.get("/v1/admin/jobs").await.status(),
        StatusCode::FORBIDDEN,
        "the guest stays a guest"
    );
    // The real ones still work, and each forgery was noticed.
    assert_eq!(admin.get("/v1/admin/jobs").await.status(), StatusCode::OK);
    assert_eq!(guest.get("/v1/me").await.status(), StatusCode::OK);
    assert!(metric(&app, "hearth_cache_seal_failures_total").await >= 2);
}
