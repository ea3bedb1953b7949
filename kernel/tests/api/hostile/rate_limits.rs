//! `[limits]` budgets: a client over one gets 429 with `Retry-After`, `RateLimit-Policy` and
//! `RateLimit`; other clients, other /64s and other accounts are unaffected; a budget switched off
//! never refuses; on Redis every node spends from one budget.

use std::num::{NonZeroU32, NonZeroU64};

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{hostile, login_from, metric, send_from};
use crate::helpers::{assert_problem, Backend};

crate::for_each_backend!(
    a_client_over_the_login_budget_gets_429_with_rate_limit_headers_and_others_do_not,
    ipv6_clients_share_a_budget_per_slash_64,
    an_account_over_its_budget_is_refused_from_every_address,
    a_budget_switched_off_never_refuses,
    every_node_spends_from_one_budget,
);

fn budget(requests: u32, window_secs: u64) -> hearth::config::Budget {
    hearth::config::Budget {
        enabled: true,
        requests: NonZeroU32::new(requests).expect("not zero"),
        window_secs: NonZeroU64::new(window_secs).expect("not zero"),
    }
}

async fn a_client_over_the_login_budget_gets_429_with_rate_limit_headers_and_others_do_not(
    backend: Backend,
) {
    let Some(app) = hostile()
        .config(|c| c.limits.login = budget(3, 60))
        .spawn(backend)
        .await
    else {
        return;
    };
    let attacker = "198.51.100.1";
    for i in 0..3 {
        let res = login_from(&app, attacker, "nobody@example.com", "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // Every answer says where the client stands.
        assert_eq!(
            res.headers()["ratelimit-policy"],
            "\"general\";q=600;w=60, \"login\";q=3;w=60"
        );
        let state = res.headers()["ratelimit"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            state.contains(&format!("\"login\";r={};", 2 - i)),
            "{state}"
        );
    }
    let verified_before = metric(&app, "hearth_password_hashes_total{op=\"verify\"}").await;

    let res = login_from(&app, attacker, "nobody@example.com", "wrong password").await;
    let headers = res.headers().clone();
    let problem = assert_problem(res, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    let retry_after: u64 = headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("secs");
    // One request refills every 60 / 3 = 20 seconds.
    assert!((1..=20).contains(&retry_after), "retry-after {retry_after}");
    assert_eq!(headers["ratelimit-policy"], "\"login\";q=3;w=60");
    assert_eq!(
        headers["ratelimit"],
        format!("\"login\";r=0;t={retry_after}").as_str()
    );
    assert!(problem["detail"]
        .as_str()
        .expect("detail")
        .contains("login"));
    // Refused before the handler: no password was checked.
    assert_eq!(
        metric(&app, "hearth_password_hashes_total{op=\"verify\"}").await,
        verified_before
    );
    assert_eq!(
        metric(&app, "hearth_rate_limited_total{budget=\"login\"}").await,
        1
    );

    // Another client, and another route for the same client, are unaffected.
    let res = login_from(&app, "198.51.100.2", "nobody@example.com", "wrong password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = send_from(
        &app,
        attacker,
        Method::GET,
        "/v1/listings",
        None,
        &json!({}),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Health checks spend nothing and carry no budget.
    let res = send_from(&app, attacker, Method::GET, "/healthz", None, &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("ratelimit"));
}

async fn ipv6_clients_share_a_budget_per_slash_64(backend: Backend) {
    let Some(app) = hostile()
        .config(|c| c.limits.register = budget(2, 3600))
        .spawn(backend)
        .await
    else {
        return;
    };
    let register = |from: &'static str, n: u32| {
        let app = &app;
        async move {
            send_from(
                app,
                from,
                Method::POST,
                "/v1/auth/register",
                None,
                &json!({ "email": format!("v6-{n}@example.com"), "password": "correct horse battery", "display_name": "V6" }),
            )
            .await
            .status()
        }
    };
    assert_eq!(register("2001:db8:1:2::1", 1).await, StatusCode::CREATED);
    assert_eq!(register("2001:db8:1:2::2", 2).await, StatusCode::CREATED);
    // A fresh address in the same /64 is the same client.
    assert_eq!(
        register("2001:db8:1:2:ffff:ffff:ffff:ffff", 3).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The next /64 is another.
    assert_eq!(register("2001:db8:1:3::1", 4).await, StatusCode::CREATED);
    assert_eq!(
        crate::helpers::sql_count(&app, "SELECT COUNT(*) FROM accounts").await,
        3,
        "the refused registration created nothing"
    );
}

async fn an_account_over_its_budget_is_refused_from_every_address(backend: Backend) {
    let Some(app) = hostile()
        .config(|c| c.limits.password = budget(2, 600))
        .spawn(backend)
        .await
    else {
        return;
    };
    let guest = app.guest().await;
    let other = app.guest().await;
    let rename = |from: &'static str, token: String| {
        let app = &app;
        async move {
            send_from(
                app,
                from,
                Method::PATCH,
                "/v1/me",
                Some(&token),
                &json!({ "display_name": "Renamed" }),
            )
            .await
            .status()
        }
    };
    assert_eq!(
        rename("198.51.100.1", guest.token.clone()).await,
        StatusCode::OK
    );
    assert_eq!(
        rename("198.51.100.2", guest.token.clone()).await,
        StatusCode::OK
    );
    // A third address does not buy the account a fresh budget.
    assert_eq!(
        rename("198.51.100.3", guest.token.clone()).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account at a fresh address is unaffected.
    assert_eq!(
        rename("198.51.100.4", other.token.clone()).await,
        StatusCode::OK
    );
}

async fn a_budget_switched_off_never_refuses(backend: Backend) {
    let Some(app) = hostile()
        .config(|c| {
            c.limits.login = budget(1, 3600);
            c.limits.login.enabled = false;
        })
        .spawn(backend)
        .await
    else {
        return;
    };
    for _ in 0..3 {
        let res = login_from(&app, "198.51.100.9", "nobody@example.com", "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["ratelimit-policy"], "\"general\";q=600;w=60");
    }
}

async fn every_node_spends_from_one_budget(backend: Backend) {
    if backend == Backend::Sqlite {
        // One node per SQLite file: nothing to share.
        return;
    }
    let tweak = |c: &mut hearth::config::Config| c.limits.login = budget(2, 60);
    let Some(node_a) = hostile().config(tweak).spawn(backend).await else {
        return;
    };
    let node_b = hostile()
        .config(tweak)
        .spawn_on(node_a.stores.clone())
        .await;
    let from = "198.51.100.5";
    for node in [&node_a, &node_b] {
        let res = login_from(node, from, "nobody@example.com", "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login_from(&node_a, from, "nobody@example.com", "wrong password").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = login_from(&node_b, from, "nobody@example.com", "wrong password").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}
