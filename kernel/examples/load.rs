//! A bounded loopback load generator for a running Hearth: `GET /v1/listings/{id}`, a search,
//! a quote, the GraphQL listing page and a booking (`POST /v1/bookings`: priced, held, authorized through the payments
//! plugin, events written), each for a fixed time with a fixed number of concurrent clients.
//! Prints requests/s, p50 and p99. Refuses any address that is not loopback. Used by
//! `scripts/load`.
//!
//! ```text
//! cargo run --release -p hearth --example load -- --base http://127.0.0.1:8080 --seconds 10 --clients 16 [--only bookings]
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

struct Args {
    base: String,
    seconds: u64,
    clients: usize,
    /// Only the scenarios whose name contains this.
    only: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        base: "http://127.0.0.1:8080".into(),
        seconds: 10,
        clients: 16,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().context("every flag takes a value")?;
        match flag.as_str() {
            "--base" => args.base = value,
            "--seconds" => args.seconds = value.parse()?,
            "--clients" => args.clients = value.parse()?,
            "--only" => args.only = Some(value),
            other => bail!("unknown flag {other}"),
        }
    }
    let host = url::Url::parse(&args.base)?
        .host_str()
        .unwrap_or_default()
        .to_owned();
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
        || host == "[::1]";
    if !loopback {
        bail!("refusing to load {host}: only loopback addresses may be targeted");
    }
    args.seconds = args.seconds.clamp(1, 60);
    args.clients = args.clients.clamp(1, 256);
    Ok(args)
}

/// Builds request number `n` of a scenario, made by client `worker`.
type MakeRequest =
    dyn Fn(&reqwest::Client, &str, usize, usize) -> reqwest::RequestBuilder + Send + Sync;

/// A scenario of GETs cycling through `paths`.
fn gets(paths: Vec<String>) -> Arc<MakeRequest> {
    Arc::new(move |client, base, n, _| client.get(format!("{base}{}", paths[n % paths.len()])))
}

/// Runs a scenario's requests from `clients` tasks for `seconds`; returns (count, errors,
/// sorted latencies).
async fn run(
    client: &reqwest::Client,
    args: &Args,
    make: Arc<MakeRequest>,
) -> (usize, usize, Vec<Duration>) {
    let counter = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for worker in 0..args.clients {
        let client = client.clone();
        let base = args.base.clone();
        let (make, counter) = (make.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            // Bounded twice: by time and by count.
            while Instant::now() < deadline && latencies.len() < 2_000_000 {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                match make(&client, &base, n, worker).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(started.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    all.sort();
    (all.len(), errors, all)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// The listing page's GraphQL query (the listing, its host, rating and latest reviews) for the
/// listings in turn, checked once to answer without errors (GraphQL errors come with 200).
async fn graphql_listing_page(
    client: &reqwest::Client,
    base: &str,
    listings: &[(String, String)],
) -> anyhow::Result<Arc<MakeRequest>> {
    const QUERY: &str = "query($id: UUID!) { listing(id: $id) { id title description \
        nightlyPriceMinor currency ratingAvg ratingCount photoUrls city \
        host { displayName } reviews(first: 3) { edges { node { rating text author { displayName } } } } } }";
    let bodies: Vec<Value> = listings
        .iter()
        .map(|(id, _)| serde_json::json!({ "query": QUERY, "variables": { "id": id } }))
        .collect();
    let probe: Value = client
        .post(format!("{base}/graphql"))
        .json(&bodies[0])
        .send()
        .await?
        .json()
        .await?;
    if !probe["errors"].is_null() {
        bail!("the GraphQL listing page query failed: {probe}");
    }
    Ok(Arc::new(move |client, base, n, _| {
        client
            .post(format!("{base}/graphql"))
            .json(&bodies[n % bodies.len()])
    }))
}

/// One guest account per client, logged in; their tokens.
async fn guests(client: &reqwest::Client, args: &Args) -> anyhow::Result<Vec<String>> {
    let run = std::process::id();
    let mut tokens = Vec::new();
    for i in 0..args.clients {
        let email = format!("load-{run}-{i}@example.com");
        let credentials = serde_json::json!({ "email": email, "password": "load test password" });
        let mut register = credentials.clone();
        register["display_name"] = "Load".into();
        client
            .post(format!("{}/v1/auth/register", args.base))
            .json(&register)
            .send()
            .await?
            .error_for_status()?;
        let session: Value = client
            .post(format!("{}/v1/auth/login", args.base))
            .json(&credentials)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        tokens.push(session["token"].as_str().context("token")?.to_owned());
    }
    Ok(tokens)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    // Collect listing ids and their cities from search pages.
    let mut listings: Vec<(String, String)> = Vec::new();
    let mut cursor: Option<String> = None;
    while listings.len() < 500 {
        let mut url = format!("{}/v1/listings?sort=newest&limit=100", args.base);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = client
            .get(&url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        for l in page["listings"].as_array().context("listings")? {
            listings.push((
                l["id"].as_str().unwrap_or_default().to_owned(),
                l["city"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    if listings.is_empty() {
        bail!("no listings: seed first (hearth seed --listings 10000)");
    }
    let check_in = (chrono::Utc::now() + chrono::Duration::days(200)).date_naive();
    let check_out = check_in + chrono::Duration::days(3);
    let tokens = guests(&client, &args).await?;
    let ids: Vec<String> = listings.iter().map(|(id, _)| id.clone()).collect();
    let book: Arc<MakeRequest> = Arc::new(move |client, base, n, worker| {
        // Every request takes nights no other request takes: listing n mod L, a 3-night stay
        // in week n / L of the second year out.
        let check_in = chrono::Utc::now().date_naive()
            + chrono::Duration::days(400 + 4 * i64::try_from(n / ids.len()).unwrap_or(0));
        let body = serde_json::json!({
            "listing_id": ids[n % ids.len()],
            "check_in": check_in.to_string(),
            "check_out": (check_in + chrono::Duration::days(3)).to_string(),
            "payment_method": "4242424242424242",
        });
        client
            .post(format!("{base}/v1/bookings"))
            .bearer_auth(&tokens[worker % tokens.len()])
            .json(&body)
    });
    let scenarios: Vec<(&str, Arc<MakeRequest>)> = vec![
        ("GET /v1/listings/{id}", gets(listings.iter().map(|(id, _)| format!("/v1/listings/{id}")).collect())),
        (
            "GET /v1/listings?city&guests&sort=price",
            gets(listings
                .iter()
                .map(|(_, city)| format!("/v1/listings?city={}&guests=2&sort=price&limit=20", city.replace(' ', "%20")))
                .collect()),
        ),
        (
            "GET /v1/listings/{id}/quote",
            gets(listings
                .iter()
                .map(|(id, _)| format!("/v1/listings/{id}/quote?check_in={check_in}&check_out={check_out}&guests=1"))
                .collect()),
        ),
        ("POST /graphql (listing page)", graphql_listing_page(&client, &args.base, &listings).await?),
        ("POST /v1/bookings (sandbox card)", book),
    ];
    println!(
        "{:<42} {:>10} {:>9} {:>9} {:>8}",
        "scenario", "req/s", "p50 ms", "p99 ms", "errors"
    );
    let chosen = |name: &str| args.only.as_deref().is_none_or(|only| name.contains(only));
    for (name, make) in scenarios.into_iter().filter(|(name, _)| chosen(name)) {
        let started = Instant::now();
        let (count, errors, latencies) = run(&client, &args, make).await;
        let rate = count as f64 / started.elapsed().as_secs_f64();
        println!(
            "{:<42} {:>10.0} {:>9.2} {:>9.2} {:>8}",
            name,
            rate,
            pct(&latencies, 0.50),
            pct(&latencies, 0.99),
            errors
        );
    }
    Ok(())
}
