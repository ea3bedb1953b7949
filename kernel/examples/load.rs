//! A bounded loopback load generator for a running Hearth: `GET /v1/listings/{id}`, a search,
//! and a quote, each for a fixed time with a fixed number of concurrent clients. Prints
//! requests/s, p50 and p99. Refuses any address that is not loopback. Used by `scripts/load`.
//!
//! ```text
//! cargo run --release -p hearth --example load -- --base http://127.0.0.1:8080 --seconds 10 --clients 16
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

struct Args {
    base: String,
    seconds: u64,
    clients: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        base: "http://127.0.0.1:8080".into(),
        seconds: 10,
        clients: 16,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().context("every flag takes a value")?;
        match flag.as_str() {
            "--base" => args.base = value,
            "--seconds" => args.seconds = value.parse()?,
            "--clients" => args.clients = value.parse()?,
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

/// Runs `make_path` requests from `clients` tasks for `seconds`; returns (count, errors, sorted
/// latencies).
async fn run(
    client: &reqwest::Client,
    args: &Args,
    paths: Arc<Vec<String>>,
) -> (usize, usize, Vec<Duration>) {
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for worker in 0..args.clients {
        let client = client.clone();
        let base = args.base.clone();
        let paths = paths.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            let mut i = worker;
            // Bounded twice: by time and by count.
            while Instant::now() < deadline && latencies.len() < 2_000_000 {
                let path = &paths[i % paths.len()];
                i += 7;
                let started = Instant::now();
                match client.get(format!("{base}{path}")).send().await {
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
    let scenarios: Vec<(&str, Vec<String>)> = vec![
        ("GET /v1/listings/{id}", listings.iter().map(|(id, _)| format!("/v1/listings/{id}")).collect()),
        (
            "GET /v1/listings?city&guests&sort=price",
            listings
                .iter()
                .map(|(_, city)| format!("/v1/listings?city={}&guests=2&sort=price&limit=20", city.replace(' ', "%20")))
                .collect(),
        ),
        (
            "GET /v1/listings/{id}/quote",
            listings
                .iter()
                .map(|(id, _)| format!("/v1/listings/{id}/quote?check_in={check_in}&check_out={check_out}&guests=1"))
                .collect(),
        ),
    ];
    println!(
        "{:<42} {:>10} {:>9} {:>9} {:>8}",
        "scenario", "req/s", "p50 ms", "p99 ms", "errors"
    );
    for (name, paths) in scenarios {
        let started = Instant::now();
        let (count, errors, latencies) = run(&client, &args, Arc::new(paths)).await;
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
