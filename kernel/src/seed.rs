//! `hearth seed`: demo data for trying and benchmarking Hearth. Creates hosts and published
//! listings spread over a handful of cities, with some blocked nights and price overrides.
//! Deterministic for a given `--seed`. Writes through the data layer in batches; run it while
//! the server is stopped (or expect cached searches to lag for up to a minute).

use anyhow::Context;
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use crate::auth::{self, AccountId, Password};
use crate::data::accounts::{self, AccountRecord};
use crate::data::calendar::{self, CalendarDay};
use crate::data::listings::{self, ListingRecord};
use crate::data::Database;
use crate::model::{
    Amenity, CancellationPolicy, Currency, ListingStatus, PropertyType, TimeOfDay, Timezone,
};
use sqlx::types::Json;

/// The password of every seeded host (`host-<n>@seed.hearth.test`).
pub const SEED_PASSWORD: &str = "hearth-demo-password";

/// (city, country, latitude, longitude, currency, time zone)
const CITIES: &[(&str, &str, f64, f64, &str, &str)] = &[
    ("Paris", "FR", 48.8566, 2.3522, "EUR", "Europe/Paris"),
    ("Lyon", "FR", 45.7640, 4.8357, "EUR", "Europe/Paris"),
    ("Lisbon", "PT", 38.7223, -9.1393, "EUR", "Europe/Lisbon"),
    ("Porto", "PT", 41.1579, -8.6291, "EUR", "Europe/Lisbon"),
    ("Barcelona", "ES", 41.3874, 2.1686, "EUR", "Europe/Madrid"),
    ("Rome", "IT", 41.9028, 12.4964, "EUR", "Europe/Rome"),
    ("Berlin", "DE", 52.5200, 13.4050, "EUR", "Europe/Berlin"),
    (
        "Amsterdam",
        "NL",
        52.3676,
        4.9041,
        "EUR",
        "Europe/Amsterdam",
    ),
    ("London", "GB", 51.5072, -0.1276, "GBP", "Europe/London"),
    (
        "New York",
        "US",
        40.7128,
        -74.0060,
        "USD",
        "America/New_York",
    ),
    ("Austin", "US", 30.2672, -97.7431, "USD", "America/Chicago"),
    (
        "Mexico City",
        "MX",
        19.4326,
        -99.1332,
        "MXN",
        "America/Mexico_City",
    ),
];

/// What was created.
#[derive(Debug)]
pub struct Seeded {
    /// Hosts created.
    pub hosts: usize,
    /// Listings created.
    pub listings: usize,
}

/// Creates `hosts` hosts and `count` listings.
pub async fn seed(db: &Database, count: usize, hosts: usize, seed: u64) -> anyhow::Result<Seeded> {
    let mut rng = StdRng::seed_from_u64(seed);
    let password = Password::parse(SEED_PASSWORD).map_err(anyhow::Error::msg)?;
    // One hash for every host: hashing thousands of passwords would only measure Argon2.
    let hash = auth::hash_password(&password)
        .await
        .context("hashing the demo password")?;
    let now = Utc::now();
    let run = Uuid::now_v7().simple().to_string();
    let mut host_ids = Vec::with_capacity(hosts);
    let mut tx = db.begin().await?;
    for n in 0..hosts.max(1) {
        let id = AccountId::new();
        accounts::insert(
            tx.exec(),
            &AccountRecord {
                id: id.as_uuid(),
                email: format!("host-{n}-{}@seed.hearth.test", &run[..8]),
                display_name: format!("Host {n}"),
                password_hash: hash.clone(),
                role: "host".into(),
                created_at: now,
                updated_at: now,
            },
        )
        .await?;
        host_ids.push(id.as_uuid());
    }
    tx.commit().await?;

    let today = now.date_naive();
    for chunk_start in (0..count).step_by(500) {
        let mut tx = db.begin().await?;
        for n in chunk_start..(chunk_start + 500).min(count) {
            let (city, country, lat, lng, currency, timezone) =
                CITIES[rng.gen_range(0..CITIES.len())];
            let property = PropertyType::ALL[rng.gen_range(0..PropertyType::ALL.len())];
            let amenities: Vec<Amenity> = Amenity::ALL
                .iter()
                .filter(|_| rng.gen_bool(0.35))
                .copied()
                .collect();
            let min_nights = rng.gen_range(1..=3);
            let record = ListingRecord {
                id: Uuid::now_v7(),
                host_id: host_ids[n % host_ids.len()],
                title: format!("{} in {city} #{n}", property.as_str()),
                description: format!("A seeded {} for trying Hearth.", property.as_str()),
                property_type: property,
                address: format!("{} Demo Street", rng.gen_range(1..400)),
                city: city.to_owned(),
                city_key: crate::domain::listings::city_key(city),
                country: country.to_owned(),
                latitude: lat + rng.gen_range(-0.06..0.06),
                longitude: lng + rng.gen_range(-0.08..0.08),
                max_guests: rng.gen_range(1..=8),
                bedrooms: rng.gen_range(0..=4),
                beds: rng.gen_range(1..=5),
                bathrooms: f64::from(rng.gen_range(2..=6)) / 2.0,
                amenities: Json(amenities.clone()),
                photo_urls: Json(Vec::new()),
                nightly_price_minor: i64::from(rng.gen_range(40..=400)) * 100,
                currency: Currency::parse(currency)?,
                min_nights,
                max_nights: rng.gen_range(14..=365),
                instant_book: rng.gen_bool(0.5),
                cancellation_policy: CancellationPolicy::ALL[rng.gen_range(0..3)],
                status: if rng.gen_bool(0.95) {
                    ListingStatus::Published
                } else {
                    ListingStatus::Draft
                },
                rating_avg: None,
                rating_count: 0,
                created_at: now,
                updated_at: now,
                deleted_at: None,
                timezone: Timezone::parse(timezone)
                    .map_err(|e| anyhow::anyhow!("{timezone}: {e}"))?,
                check_in_time: TimeOfDay::DEFAULT_CHECK_IN,
                check_out_time: TimeOfDay::DEFAULT_CHECK_OUT,
                advance_notice_hours: 0,
                availability_window_days: None,
                preparation_nights: 0,
            };
            listings::insert(tx.exec(), &record, &amenities).await?;
            if rng.gen_bool(0.3) {
                let start = today + Duration::days(rng.gen_range(1..90));
                let days: Vec<CalendarDay> = (0..rng.gen_range(1..6))
                    .map(|i| CalendarDay {
                        day: start + Duration::days(i),
                        blocked: rng.gen_bool(0.7),
                        price_minor: rng
                            .gen_bool(0.5)
                            .then(|| record.nightly_price_minor + 2_000),
                    })
                    .collect();
                calendar::upsert(tx.exec(), record.id, &days).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(Seeded {
        hosts: host_ids.len(),
        listings: count,
    })
}
