//! Clients that hang up mid-request: what the request began finishes, and the pool, the jobs
//! and the bus are left clean (no connection parked inside a transaction, no failed job, every
//! event handled), so the next requests are served as if nothing happened.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::fixtures::{host_with_listing, spawn_with_payments, stay, CARD_OK};
use crate::helpers::{sql_count, wait_until, Backend, TestApp};

crate::for_each_backend!(clients_that_hang_up_mid_booking_leave_nothing_half_done);

/// Bookings whose clients give up after `cut` each.
async fn hang_up(app: &TestApp, token: &str, listing: &str, first_day: i64, cut: &[u64]) {
    let requests = cut.iter().enumerate().map(|(i, ms)| {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(*ms))
            .build()
            .expect("client");
        let from = first_day + 2 * i64::try_from(i).expect("small");
        let body = stay(listing, from, from + 1, CARD_OK);
        let url = format!("{}/v1/bookings", app.address);
        async move {
            // Most of these are cut off mid-request: the point is that the client goes away.
            let _ = client.post(url).bearer_auth(token).json(&body).send().await;
        }
    });
    futures_util::future::join_all(requests).await;
}

async fn clients_that_hang_up_mid_booking_leave_nothing_half_done(backend: Backend) {
    let Some(app) = spawn_with_payments(backend, |_| {}).await else {
        return;
    };
    let (_, instant) = host_with_listing(&app, serde_json::json!({ "instant_book": true })).await;
    let guest = app.guest().await;
    // 3 rounds of 40 bookings, cut at 1 to 40 ms: before the handler starts, mid-transaction,
    // mid-payment, and after it answered.
    let cuts: Vec<u64> = (1..=40).collect();
    for round in 0..3 {
        hang_up(&app, &guest.token, &instant, 30 + 100 * round, &cuts).await;
    }
    // Every booking the server began finishes, though nobody waits for it any more: its
    // payment settles, its events are handled and its jobs are done.
    let settled = [
        "SELECT COUNT(*) FROM bookings WHERE status <> 'confirmed'",
        "SELECT COUNT(*) FROM payments WHERE status IN ('intent', 'pending')",
        "SELECT COUNT(*) FROM events WHERE published_at IS NULL",
        "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running') \
         AND run_at <= CURRENT_TIMESTAMP AND kind <> 'reconcile_payments'",
    ];
    assert!(
        wait_until(Duration::from_secs(30), || async {
            for query in settled {
                if sql_count(&app, query).await != 0 {
                    return false;
                }
            }
            true
        })
        .await,
        "every booking begun is confirmed and the background settles"
    );
    assert!(
        sql_count(&app, "SELECT COUNT(*) FROM bookings").await > 0,
        "some bookings got far enough to be made"
    );
    assert_eq!(
        sql_count(&app, "SELECT COUNT(*) FROM jobs WHERE state = 'dead'").await,
        0,
        "no job failed"
    );
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'redeliver_event'"
        )
        .await,
        0,
        "every event was handled"
    );
    if backend == Backend::Postgres {
        // The background's own transactions are idle for a moment between statements; one left
        // behind by a cancelled request stays idle for good.
        let parked = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND state LIKE 'idle in transaction%' \
             AND state_change < now() - interval '2 seconds'";
        assert!(
            wait_until(Duration::from_secs(10), || async {
                sql_count(&app, parked).await == 0
            })
            .await,
            "no connection is parked inside a transaction"
        );
    }
    // And the pool serves the next requests normally.
    for i in 0..10 {
        let res = guest
            .book_raw(&stay(&instant, 500 + 2 * i, 501 + 2 * i, CARD_OK), None)
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "booking {i} after the hang-ups"
        );
    }
}
