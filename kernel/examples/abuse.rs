//! A bounded loopback abuse drill for a running Hearth: many clients, each from its own loopback
//! address (127.1.x.y: Linux routes all of 127.0.0.0/8 to `lo`, so every attacker is a distinct
//! client address to the server), flood registration, wrong-password logins against one account,
//! anonymous quotes and searches for a fixed time. Meanwhile one legitimate client, from
//! 127.0.0.1, polls `/healthz` and books a stay. Prints what the legitimate client saw (booking
//! status, `/healthz` p50/p99) and how the abusive requests were answered. Refuses any address
//! that is not loopback. Used by `scripts/abuse`.
//!
//! ```text
//! cargo run --release -p hearth --example abuse -- --base http://127.0.0.1:8080 --seconds 20 --attackers 64
//! ```

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

struct Args {
    base: String,
    seconds: u64,
    attackers: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut args = Args {
        base: "http://127.0.0.1:8080".into(),
        seconds: 20,
        attackers: 64,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().context("every flag takes a value")?;
        match flag.as_str() {
            "--base" => args.base = value,
            "--seconds" => args.seconds = value.parse()?,
            "--attackers" => args.attackers = value.parse()?,
            other => bail!("unknown flag {other}"),
        }
    }
    let url = url::Url::parse(&args.base)?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    if !loopback {
        bail!(
            "refusing to target {}: only loopback addresses may be",
            args.base
        );
    }
    args.seconds = args.seconds.clamp(1, 120);
    args.attackers = args.attackers.clamp(1, 512);
    Ok(args)
}

/// The four abusive requests, in turn.
const ATTACKS: [&str; 4] = ["register", "login", "quote", "search"];

/// How one kind of abusive request was answered: status class → count.
type Tally = BTreeMap<String, usize>;

fn class(result: &Result<reqwest::Response, reqwest::Error>) -> String {
    match result {
        Ok(r) => r.status().as_u16().to_string(),
        Err(e) if e.is_timeout() => "timeout".into(),
        Err(_) => "error".into(),
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// A client whose connections come from `address`.
fn client_from(address: IpAddr) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .local_address(address)
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// Registers and logs in an account from `client`; its token.
async fn account(client: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let credentials = json!({ "email": email, "password": "abuse drill password" });
    let mut register = credentials.clone();
    register["display_name"] = "Drill".into();
    client
        .post(format!("{base}/v1/auth/register"))
        .json(&register)
        .send()
        .await?
        .error_for_status()?;
    let session: Value = client
        .post(format!("{base}/v1/auth/login"))
        .json(&credentials)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(session["token"].as_str().context("token")?.to_owned())
}

/// One attacker: from its own address, the four attacks in turn until `deadline`.
async fn attacker(
    n: usize,
    base: Arc<str>,
    listing: Arc<str>,
    victim: Arc<str>,
    deadline: Instant,
) -> anyhow::Result<BTreeMap<&'static str, Tally>> {
    let [a, b] = u16::try_from(n + 1)?.to_be_bytes();
    let client = client_from(IpAddr::V4(Ipv4Addr::new(127, 1, a, b)))?;
    let run = std::process::id();
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(60);
    let mut tally: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut i = 0usize;
    while Instant::now() < deadline {
        let attack = ATTACKS[i % ATTACKS.len()];
        let request = match attack {
            "register" => client
                .post(format!("{base}/v1/auth/register"))
                .json(&json!({
                    "email": format!("drill-{run}-{n}-{i}@example.com"),
                    "password": "a new password of the drill",
                    "display_name": "Drill",
                })),
            "login" => client
                .post(format!("{base}/v1/auth/login"))
                .json(&json!({ "email": &*victim, "password": format!("wrong guess {i}") })),
            // Three nights: every seeded listing takes them (`min_nights` is 1 to 3), so a
            // quote that is not refused by a budget is priced, not refused by the listing.
            "quote" => client.get(format!(
                "{base}/v1/listings/{listing}/quote?check_in={}&check_out={}&guests=1",
                day,
                day + chrono::Duration::days(3)
            )),
            _ => client.get(format!("{base}/v1/listings?guests={}&limit=20", 1 + i % 4)),
        };
        let result = request.send().await;
        *tally
            .entry(attack)
            .or_default()
            .entry(class(&result))
            .or_default() += 1;
        if let Ok(r) = result {
            let _ = r.bytes().await;
        }
        i += 1;
    }
    Ok(tally)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let base: Arc<str> = args.base.trim_end_matches('/').into();
    let legit = client_from(IpAddr::V4(Ipv4Addr::LOCALHOST))?;

    // Before the flood: a listing to book, the legitimate guest, and the attacked account.
    let page: Value = legit
        .get(format!("{base}/v1/listings?limit=1"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let listing: Arc<str> = page["listings"][0]["id"]
        .as_str()
        .context("no listings: seed first (hearth seed --listings 200)")?
        .into();
    let run = std::process::id();
    let guest = account(&legit, &base, &format!("guest-{run}@example.com")).await?;
    let victim: Arc<str> = format!("victim-{run}@example.com").into();
    account(&legit, &base, &victim).await?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let attackers: Vec<_> = (0..args.attackers)
        .map(|n| {
            tokio::spawn(attacker(
                n,
                base.clone(),
                listing.clone(),
                victim.clone(),
                deadline,
            ))
        })
        .collect();

    // The legitimate client: /healthz every 20 ms for the whole drill, and one booking a
    // third of the way in (when the flood is at full strength).
    let health = {
        let (legit, base) = (legit.clone(), base.clone());
        tokio::spawn(async move {
            let (mut ok, mut failed) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                match legit.get(format!("{base}/healthz")).send().await {
                    Ok(r) if r.status().is_success() => ok.push(t.elapsed()),
                    _ => failed += 1,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            ok.sort();
            (ok, failed)
        })
    };
    tokio::time::sleep(Duration::from_secs(args.seconds / 3)).await;
    let check_in = chrono::Utc::now().date_naive() + chrono::Duration::days(300);
    let t = Instant::now();
    let booking = legit
        .post(format!("{base}/v1/bookings"))
        .bearer_auth(&guest)
        .json(&json!({
            "listing_id": &*listing,
            "check_in": check_in.to_string(),
            "check_out": (check_in + chrono::Duration::days(3)).to_string(),
            "payment_method": "4242424242424242",
        }))
        .send()
        .await;
    let booking_ms = t.elapsed().as_secs_f64() * 1000.0;
    let booking = match booking {
        Ok(r) => {
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            format!(
                "{} {}",
                status.as_u16(),
                body["status"].as_str().unwrap_or("-")
            )
        }
        Err(e) => format!("failed: {e}"),
    };

    let (healthz, health_failed) = health.await?;
    let mut totals: BTreeMap<&'static str, Tally> = BTreeMap::new();
    for a in attackers {
        for (attack, tally) in a.await?? {
            for (status, count) in tally {
                *totals.entry(attack).or_default().entry(status).or_default() += count;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("legitimate booking: {booking} in {booking_ms:.0} ms");
    println!(
        "legitimate /healthz: {} ok, {} failed, p50 {:.1} ms, p99 {:.1} ms",
        healthz.len(),
        health_failed,
        pct(&healthz, 0.50),
        pct(&healthz, 0.99)
    );
    let (mut all, mut refused) = (0usize, 0usize);
    for (attack, tally) in &totals {
        let n: usize = tally.values().sum();
        let r: usize = tally
            .iter()
            .filter(|(s, _)| *s == "429" || *s == "503")
            .map(|(_, c)| c)
            .sum();
        all += n;
        refused += r;
        println!("abusive {attack:<8} {n:>7} sent, {r:>7} refused (429/503); by status {tally:?}");
    }
    println!(
        "abusive total: {all} in {elapsed:.1} s from {} addresses, {refused} refused",
        args.attackers
    );
    Ok(())
}
