//! Data-layer tests for what differs per backend: typed values stored as TEXT (statuses,
//! currencies) and as JSON (`sqlx::types::Json`: TEXT on SQLite, JSONB on PostgreSQL), the one
//! definition of an active booking, and `hold_nights`, which refuses an overlap by a write-locked
//! check on SQLite and by the exclusion constraint on PostgreSQL; and idempotency keys, claimed
//! and finished inside the caller's transaction.

use chrono::NaiveDate;
use hearth::data::bookings::{self, BookingRecord};
use hearth::data::idempotency as keys;
use hearth::data::{DataError, Exec};
use hearth::model::{BookingStatus, CancellationPolicy, Currency, KeyState, QuoteLine};
use sqlx::types::Json;
use uuid::Uuid;

use crate::helpers::{sql_count, sql_exec, TestApp};

/// Runs `$body` with `$c` bound to the app's connection, whichever backend it is.
macro_rules! on_conn {
    ($app:expr, $c:ident => $body:expr) => {{
        let mut conn = $app.kernel.db.acquire().await.expect("connection");
        match conn.exec() {
            Exec::Sqlite($c) => $body,
            Exec::Postgres($c) => $body,
        }
    }};
}

crate::on_both_backends!(
    statuses_currencies_and_json_round_trip,
    a_stored_name_outside_an_enum_is_an_error_naming_it,
    a_held_night_cannot_be_held_again,
    preparation_nights_keep_nights_free_around_a_booking,
    a_blocked_night_cannot_be_held,
    an_ended_booking_frees_its_nights,
    unconfirmed_bookings_are_counted_in_all_and_per_listing,
    an_idempotency_claim_commits_or_rolls_back_with_its_transaction,
    an_idempotency_claim_is_finished_or_released_only_by_its_owner,
);

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn eur() -> Currency {
    Currency::parse("EUR").expect("ISO 4217")
}

fn line() -> QuoteLine {
    QuoteLine {
        code: "nightly".into(),
        description: "Night of 2027-03-01".into(),
        amount_minor: 12_000,
        night: Some(day("2027-03-01")),
        source: "kernel".into(),
    }
}

/// A probe table shaped like the kernel's: TEXT statuses and currencies, a JSON column typed the
/// way the migrations type it on each backend.
async fn probe_table(app: &TestApp) {
    let json = if app.kernel.db.backend() == hearth::config::DatabaseBackend::Postgres {
        "JSONB"
    } else {
        "TEXT"
    };
    sql_exec(
        app,
        &format!("CREATE TABLE probe (status TEXT NOT NULL, currency TEXT NOT NULL, lines {json} NOT NULL)"),
    )
    .await;
}

async fn statuses_currencies_and_json_round_trip(app: TestApp) {
    probe_table(&app).await;
    let lines = vec![line()];
    let insert = "INSERT INTO probe (status, currency, lines) VALUES ($1, $2, $3)";
    let select = "SELECT status, currency, lines FROM probe";
    type Row = (BookingStatus, Currency, Json<Vec<QuoteLine>>);
    let row: Row = on_conn!(app, c => {
        sqlx::query(insert)
            .bind(BookingStatus::PendingPayment)
            .bind(eur())
            .bind(Json(&lines))
            .execute(&mut *c)
            .await
            .expect("insert");
        sqlx::query_as(select).fetch_one(&mut *c).await.expect("select")
    });
    assert_eq!(row.0, BookingStatus::PendingPayment);
    assert_eq!(row.1, eur());
    assert_eq!(row.2 .0, lines);
    // Stored under the wire names, so SQL and CHECK constraints read them as written.
    assert_eq!(
        sql_count(
            &app,
            "SELECT COUNT(*) FROM probe WHERE status = 'pending_payment' AND currency = 'EUR'"
        )
        .await,
        1
    );
}

async fn a_stored_name_outside_an_enum_is_an_error_naming_it(app: TestApp) {
    probe_table(&app).await;
    sql_exec(
        &app,
        "INSERT INTO probe (status, currency, lines) VALUES ('teleported', 'EUR', '[]')",
    )
    .await;
    let err = on_conn!(app, c => sqlx::query_scalar::<_, BookingStatus>("SELECT status FROM probe")
        .fetch_one(&mut *c)
        .await
        .expect_err("not a status"));
    assert!(
        err.to_string()
            .contains("`teleported` is not a BookingStatus"),
        "{err}"
    );
}

/// An account and a listing staged directly (ids bound, as the kernel binds them), so these
/// tests depend on nothing above `data`.
async fn listing(app: &TestApp) -> (Uuid, Uuid) {
    let (account, listing) = (Uuid::now_v7(), Uuid::now_v7());
    let at = chrono::Utc::now();
    on_conn!(app, c => sqlx::query(
        "INSERT INTO accounts (id, email, display_name, password_hash, role, created_at, updated_at) \
         VALUES ($1, 'host@example.com', 'X', 'x', 'host', $2, $2)",
    )
    .bind(account)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ())
    .expect("account"));
    on_conn!(app, c => sqlx::query(
        "INSERT INTO listings (id, host_id, title, description, property_type, address, city, city_key, \
         country, latitude, longitude, max_guests, bedrooms, beds, bathrooms, amenities, photo_urls, \
         nightly_price_minor, currency, min_nights, max_nights, instant_book, cancellation_policy, status, \
         rating_count, created_at, updated_at) VALUES ($1, $2, 'T', 'D', 'house', 'A', 'Paris', 'paris', \
         'FR', 48.8, 2.3, 4, 1, 1, 1, '[]', '[]', 10000, 'EUR', 1, 30, false, 'flexible', 'published', 0, $3, $3)",
    )
    .bind(listing)
    .bind(account)
    .bind(at)
    .execute(&mut *c)
    .await
    .map(|_| ())
    .expect("listing"));
    (listing, account)
}

fn booking(listing: Uuid, guest: Uuid, check_in: &str, check_out: &str) -> BookingRecord {
    let now = chrono::Utc::now();
    BookingRecord {
        id: Uuid::now_v7(),
        listing_id: listing,
        guest_id: guest,
        host_id: guest,
        check_in: day(check_in),
        check_out: day(check_out),
        guests: 1,
        status: BookingStatus::PendingPayment,
        currency: eur(),
        total_minor: 12_000,
        line_items: Json(vec![line()]),
        quote_id: None,
        cancellation_policy: CancellationPolicy::Flexible,
        instant_book: false,
        provider: "sandbox".into(),
        expires_at: None,
        end_reason: None,
        refund_minor: None,
        created_at: now,
        updated_at: now,
        check_in_at: now,
    }
}

async fn hold(app: &TestApp, b: &BookingRecord) -> Result<(), DataError> {
    hold_with(app, b, 0).await
}

async fn hold_with(
    app: &TestApp,
    b: &BookingRecord,
    preparation_nights: u32,
) -> Result<(), DataError> {
    let mut tx = app.kernel.db.begin().await.expect("begin");
    bookings::hold_nights(tx.exec(), b, preparation_nights).await?;
    tx.commit().await.expect("commit");
    Ok(())
}

async fn a_held_night_cannot_be_held_again(app: TestApp) {
    let (listing, guest) = listing(&app).await;
    hold(&app, &booking(listing, guest, "2027-03-01", "2027-03-04"))
        .await
        .expect("free nights are held");
    let overlapping = hold(&app, &booking(listing, guest, "2027-03-03", "2027-03-05")).await;
    assert!(
        matches!(overlapping, Err(DataError::NightsTaken)),
        "{overlapping:?}"
    );
    // Back to back is not an overlap: the stay is half-open.
    hold(&app, &booking(listing, guest, "2027-03-04", "2027-03-06"))
        .await
        .expect("check-out day is free");
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 2);
}

async fn preparation_nights_keep_nights_free_around_a_booking(app: TestApp) {
    let (listing, guest) = listing(&app).await;
    hold(&app, &booking(listing, guest, "2027-03-10", "2027-03-13"))
        .await
        .expect("free nights are held");
    // Two nights kept free on each side: [03-08, 03-15) is off limits to a new stay.
    for (check_in, check_out) in [("2027-03-13", "2027-03-15"), ("2027-03-05", "2027-03-09")] {
        let held = hold_with(&app, &booking(listing, guest, check_in, check_out), 2).await;
        assert!(
            matches!(held, Err(DataError::NightsTaken)),
            "{check_in}..{check_out}: {held:?}"
        );
    }
    hold_with(
        &app,
        &booking(listing, guest, "2027-03-15", "2027-03-17"),
        2,
    )
    .await
    .expect("two nights after check-out is free");
    hold_with(
        &app,
        &booking(listing, guest, "2027-03-05", "2027-03-08"),
        2,
    )
    .await
    .expect("checking out two nights before check-in is free");
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 3);
}

async fn a_blocked_night_cannot_be_held(app: TestApp) {
    let (listing, guest) = listing(&app).await;
    on_conn!(app, c => sqlx::query(
        "INSERT INTO calendar_days (listing_id, day, blocked, price_minor) VALUES ($1, $2, true, NULL)",
    )
    .bind(listing)
    .bind(day("2027-03-02"))
    .execute(&mut *c)
    .await
    .map(|_| ())
    .expect("blocked day"));
    let held = hold(&app, &booking(listing, guest, "2027-03-01", "2027-03-04")).await;
    assert!(matches!(held, Err(DataError::NightsTaken)), "{held:?}");
    assert_eq!(sql_count(&app, "SELECT COUNT(*) FROM bookings").await, 0);
}

async fn an_ended_booking_frees_its_nights(app: TestApp) {
    let (listing, guest) = listing(&app).await;
    for status in BookingStatus::ALL {
        let mut ended = booking(listing, guest, "2027-03-01", "2027-03-04");
        ended.status = *status;
        let second = booking(listing, guest, "2027-03-01", "2027-03-04");
        hold(&app, &ended).await.expect("free nights are held");
        let again = hold(&app, &second).await;
        assert_eq!(
            again.is_err(),
            status.is_active(),
            "a {status} booking holds its nights iff it is active: {again:?}"
        );
        sql_exec(&app, "DELETE FROM bookings").await;
    }
}

async fn unconfirmed_bookings_are_counted_in_all_and_per_listing(app: TestApp) {
    let (listing, guest) = listing(&app).await;
    let stays = [
        (BookingStatus::PendingPayment, "2027-03-01", "2027-03-03"),
        (BookingStatus::Requested, "2027-03-05", "2027-03-07"),
        (BookingStatus::Confirmed, "2027-03-09", "2027-03-11"),
        (BookingStatus::Cancelled, "2027-03-13", "2027-03-15"),
    ];
    for (status, check_in, check_out) in stays {
        let mut b = booking(listing, guest, check_in, check_out);
        b.status = status;
        hold(&app, &b).await.expect("free nights are held");
    }
    let count = |guest: Uuid, listing: Uuid| {
        let app = &app;
        async move {
            let mut tx = app.kernel.db.begin().await.expect("begin");
            let counted = bookings::unconfirmed_of_guest(tx.exec(), guest, listing)
                .await
                .expect("counted");
            tx.commit().await.expect("commit");
            (counted.total, counted.of_listing)
        }
    };
    assert_eq!(
        count(guest, listing).await,
        (2, 2),
        "pending_payment and requested"
    );
    assert_eq!(
        count(guest, Uuid::now_v7()).await,
        (2, 0),
        "none of another listing"
    );
    assert_eq!(
        count(Uuid::now_v7(), listing).await,
        (0, 0),
        "none of another guest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_active_set_is_the_one_the_exclusion_constraint_names() {
    let Some(app) = TestApp::spawn(crate::helpers::Backend::Postgres).await else {
        return;
    };
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    let Exec::Postgres(c) = conn.exec() else {
        panic!("a PostgreSQL app");
    };
    let definition: String = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'bookings_no_overlap'",
    )
    .fetch_one(&mut *c)
    .await
    .expect("the constraint exists");
    for status in BookingStatus::ALL {
        let named = definition.contains(&format!("'{status}'"));
        assert_eq!(named, status.is_active(), "{status} in {definition}");
    }
}

/// A booking moving between active statuses while another hold of its nights is inserted: the
/// hold's exclusion check waits on the moving booking's transaction, and the move's own check
/// (a new status is a new index entry) would wait on the uncommitted hold, a deadlock PostgreSQL
/// breaks by failing one of them (a 500 where a 409 belongs). Both take the listing's lock first,
/// so the hold waits, then finds the nights taken. The move is made in two steps, as confirming
/// does (lock the booking, then move it), which opens the window deterministically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_racing_a_status_change_of_its_nights_is_refused_not_deadlocked() {
    let Some(app) = TestApp::spawn(crate::helpers::Backend::Postgres).await else {
        return;
    };
    let (listing, guest) = listing(&app).await;
    let held = booking(listing, guest, "2027-03-01", "2027-03-04");
    hold(&app, &held).await.expect("free nights are held");
    let pending = [BookingStatus::PendingPayment];
    let mut settle = app.kernel.db.begin().await.expect("begin");
    let now = chrono::Utc::now();
    let unchanged = bookings::Changes::default();
    let locked = bookings::transition(
        settle.exec(),
        &held,
        &pending,
        BookingStatus::PendingPayment,
        &unchanged,
        now,
    )
    .await
    .expect("the booking is locked")
    .expect("it was pending");

    let rival = tokio::spawn({
        let db = app.kernel.db.clone();
        let b = booking(listing, guest, "2027-03-02", "2027-03-05");
        async move {
            let mut tx = db.begin().await.expect("begin");
            bookings::hold_nights(tx.exec(), &b, 0).await
        }
    });
    // Until the rival waits on a lock (before the fix, on the settle's transaction; with it, on
    // the listing's row).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting = sql_count(
            &app,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock'",
        )
        .await;
        if waiting > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the rival never waited"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let moved = bookings::transition(
        settle.exec(),
        &locked,
        &pending,
        BookingStatus::Requested,
        &unchanged,
        now,
    )
    .await
    .expect("the move is not a deadlock victim")
    .expect("it was pending");
    assert_eq!(moved.status, BookingStatus::Requested);
    settle.commit().await.expect("commit");
    let refused = rival.await.expect("the rival ran");
    assert!(
        matches!(refused, Err(DataError::NightsTaken)),
        "{refused:?}"
    );
}

/// The active set's SQL list is spelled as `bookings_active_idx`'s predicate, so SQLite (which
/// matches a partial index's terms as written) serves the overlap check from that index instead
/// of reading every booking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overlap_check_is_served_by_the_active_index() {
    let Some(app) = TestApp::spawn(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    let Exec::Sqlite(c) = conn.exec() else {
        panic!("a SQLite app");
    };
    let index: String =
        sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE name = 'bookings_active_idx'")
            .fetch_one(&mut *c)
            .await
            .expect("the index exists");
    let predicate = format!("status IN {}", bookings::ACTIVE_STATUSES);
    assert!(index.contains(&predicate), "{predicate} in {index}");
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!(
        "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM bookings WHERE listing_id = $1 AND {predicate} \
         AND check_in < $2 AND check_out > $3"
    ))
    .bind(Uuid::now_v7())
    .bind(day("2027-03-04"))
    .bind(day("2027-03-01"))
    .fetch_all(&mut *c)
    .await
    .expect("a plan");
    assert!(
        plan.iter()
            .any(|(.., detail)| detail.contains("bookings_active_idx")),
        "{plan:?}"
    );
}

fn micros_now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}

/// A key claimed in a transaction exists only if that transaction commits; a second claim of a
/// committed key gets the first request's record back.
async fn an_idempotency_claim_commits_or_rolls_back_with_its_transaction(app: TestApp) {
    let (_, account) = listing(&app).await;
    let at = micros_now();
    let mut tx = app.kernel.db.begin().await.expect("begin");
    let taken = keys::claim(tx.exec(), account, "k", "fp", at)
        .await
        .expect("claim");
    assert!(taken.is_none(), "a fresh key is ours");
    drop(tx);
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    let found = keys::find(conn.exec(), account, "k").await.expect("find");
    assert!(found.is_none(), "a rolled-back claim leaves no key");
    drop(conn);

    let mut tx = app.kernel.db.begin().await.expect("begin");
    assert!(keys::claim(tx.exec(), account, "k", "fp", at)
        .await
        .expect("claim")
        .is_none());
    tx.commit().await.expect("commit");
    let mut tx = app.kernel.db.begin().await.expect("begin");
    let taken = keys::claim(tx.exec(), account, "k", "other", micros_now())
        .await
        .expect("claim")
        .expect("the key is taken");
    assert_eq!(
        (taken.fingerprint.as_str(), taken.state.as_str()),
        ("fp", "running")
    );
    assert_eq!(taken.updated_at, at, "the claim is named by its time");
}

/// `finish` and `release` act only on the claim made at the time they name, and only while it
/// runs; `take_over` only on a claim older than its cut-off.
async fn an_idempotency_claim_is_finished_or_released_only_by_its_owner(app: TestApp) {
    let (_, account) = listing(&app).await;
    let at = micros_now() - chrono::Duration::seconds(120);
    let mut conn = app.kernel.db.acquire().await.expect("connection");
    assert!(keys::claim(conn.exec(), account, "k", "fp", at)
        .await
        .expect("claim")
        .is_none());
    let later = micros_now();
    let other = at + chrono::Duration::seconds(1);
    assert!(
        !keys::finish(conn.exec(), account, "k", other, 201, "{}", later)
            .await
            .expect("finish")
    );
    assert!(!keys::release(conn.exec(), account, "k", other)
        .await
        .expect("release"));
    // Not stale before a cut-off older than the claim; stale after one newer.
    let cutoff = at - chrono::Duration::seconds(1);
    assert!(!keys::take_over(conn.exec(), account, "k", cutoff, later)
        .await
        .expect("take over"));
    assert!(keys::take_over(conn.exec(), account, "k", later, later)
        .await
        .expect("take over"));
    // The first owner's name no longer holds; the new one's does.
    assert!(
        !keys::finish(conn.exec(), account, "k", at, 201, "{}", later)
            .await
            .expect("finish")
    );
    assert!(keys::finish(
        conn.exec(),
        account,
        "k",
        later,
        201,
        r#"{"id":1}"#,
        micros_now()
    )
    .await
    .expect("finish"));
    let done = keys::find(conn.exec(), account, "k")
        .await
        .expect("find")
        .expect("kept");
    assert_eq!(done.state, KeyState::Done);
    assert_eq!(done.status_code, Some(201));
    assert_eq!(done.body.as_deref(), Some(r#"{"id":1}"#));
    assert!(
        !keys::release(conn.exec(), account, "k", done.updated_at)
            .await
            .expect("release"),
        "a finished key is kept"
    );
    assert!(keys::claim(conn.exec(), account, "r", "fp", later)
        .await
        .expect("claim")
        .is_none());
    assert!(keys::release(conn.exec(), account, "r", later)
        .await
        .expect("release"));
    assert!(keys::find(conn.exec(), account, "r")
        .await
        .expect("find")
        .is_none());
}

/// A managed PostgreSQL that requires TLS can be used: `sslmode=require` in the URL connects
/// over TLS (the test server has `ssl = on`, Debian's default), and the server says so.
#[tokio::test]
async fn postgres_urls_with_sslmode_require_connect_over_tls() {
    use hearth::config::{DatabaseConfig, DatabaseUrl};
    use hearth::data::Database;
    let Some(stores) = crate::helpers::Stores::fresh(crate::helpers::Backend::Postgres).await
    else {
        return;
    };
    let separator = if stores.database_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!("{}{separator}sslmode=require", stores.database_url);
    let db = Database::connect(&DatabaseConfig {
        url: DatabaseUrl::parse(&url).expect("url"),
        max_connections: std::num::NonZeroU32::new(1).expect("not zero"),
        busy_timeout_ms: std::num::NonZeroU64::new(5000).expect("not zero"),
    })
    .await
    .expect("a TLS connection");
    let mut conn = db.acquire().await.expect("connection");
    let Exec::Postgres(c) = conn.exec() else {
        panic!("a PostgreSQL URL gives a PostgreSQL connection");
    };
    let over_tls: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&mut *c)
            .await
            .expect("pg_stat_ssl");
    assert!(over_tls, "the session is encrypted");
}

async fn insert(exec: Exec<'_>, who: &str) {
    let Exec::Sqlite(c) = exec else {
        panic!("a SQLite URL gives a SQLite connection");
    };
    sqlx::query("INSERT INTO probe (who) VALUES ($1)")
        .bind(who)
        .execute(&mut *c)
        .await
        .expect("insert");
}

/// SQLite's one writer at a time: a lone write outside a transaction waits in the same line as
/// transactions (it neither fails nor sleeps in SQLite's busy handler), and a request's write
/// goes before background work's that queued first.
#[tokio::test]
async fn sqlite_writers_wait_in_one_line_with_requests_first() {
    use std::sync::{Arc, Mutex};

    use hearth::config::{DatabaseConfig, DatabaseUrl};
    use hearth::data::{in_background, Database};

    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("line.db").display());
    let db = Database::connect(&DatabaseConfig {
        url: DatabaseUrl::parse(&url).expect("url"),
        max_connections: std::num::NonZeroU32::new(4).expect("not zero"),
        busy_timeout_ms: std::num::NonZeroU64::new(5000).expect("not zero"),
    })
    .await
    .expect("database");
    {
        let mut conn = db.write().await.expect("connection");
        let Exec::Sqlite(c) = conn.exec() else {
            panic!("SQLite");
        };
        sqlx::query("CREATE TABLE probe (seq INTEGER PRIMARY KEY, who TEXT NOT NULL)")
            .execute(&mut *c)
            .await
            .expect("table");
    }

    let mut first = db.begin().await.expect("the line is free");
    insert(first.exec(), "first").await;
    let started = Arc::new(Mutex::new(Vec::new()));
    let background = tokio::spawn({
        let (db, started) = (db.clone(), started.clone());
        in_background(async move {
            let mut conn = db.write().await.expect("a turn");
            started.lock().expect("order").push("background");
            insert(conn.exec(), "background").await;
        })
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let request = tokio::spawn({
        let (db, started) = (db.clone(), started.clone());
        async move {
            let mut tx = db.begin().await.expect("a turn");
            started.lock().expect("order").push("request");
            insert(tx.exec(), "request").await;
            tx.commit().await.expect("commit");
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        started.lock().expect("order").is_empty(),
        "both wait while the first transaction is open"
    );
    first.commit().await.expect("commit");
    request.await.expect("request");
    background.await.expect("background");

    let mut conn = db.acquire().await.expect("connection");
    let Exec::Sqlite(c) = conn.exec() else {
        panic!("SQLite");
    };
    let order: Vec<String> = sqlx::query_scalar("SELECT who FROM probe ORDER BY seq")
        .fetch_all(&mut *c)
        .await
        .expect("rows");
    assert_eq!(order, ["first", "request", "background"]);
}
