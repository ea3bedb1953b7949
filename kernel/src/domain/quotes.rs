//! Quotes: a stay priced by the kernel's base nightly rates (the listing's price or the
//! calendar's overrides) followed by the ordered pricing-plugin chain. A quote is stored with an
//! expiry so a booking can hold its price.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::listings::calendar::{nights_of, DayStatus};
use super::listings::{Listing, Listings};
use super::{DomainError, Invalid, PricingError, Problems};
use crate::auth::Principal;
use crate::data::quotes::{self as store, QuoteRecord};
use crate::data::Database;
pub use crate::model::QuoteLine;
use crate::model::{Currency, GuestCount, ListingId, StayRange};
use crate::plugins::kinds::{pricing, Money};
use crate::plugins::PluginHost;

/// A stay to price: its dates and guests, parsed. Whether the listing takes them (its guest
/// limit and stay lengths) is the service's to check.
#[derive(Debug, Clone, Copy)]
pub struct QuoteRequest {
    /// The nights.
    pub stay: StayRange,
    /// Who stays.
    pub guests: GuestCount,
}

/// A priced stay.
#[derive(Debug, Clone)]
pub struct Quote {
    /// Use it to book at this price before `expires_at`. Only a signed-in caller's quote is
    /// stored (and so has one): an anonymous quote writes nothing.
    pub quote_id: Option<Uuid>,
    /// The listing.
    pub listing_id: Uuid,
    /// First night.
    pub check_in: NaiveDate,
    /// Departure day.
    pub check_out: NaiveDate,
    /// Nights.
    pub nights: u32,
    /// Guests.
    pub guests: GuestCount,
    /// Currency of every amount.
    pub currency: Currency,
    /// The lines, in chain order.
    pub line_items: Vec<QuoteLine>,
    /// The sum of the lines.
    pub total_minor: i64,
    /// When it was priced.
    pub created_at: DateTime<Utc>,
    /// After this the quote no longer holds.
    pub expires_at: DateTime<Utc>,
}

/// The quotes service.
#[derive(Clone, Debug)]
pub struct Quotes {
    db: Database,
    listings: Listings,
    plugins: Arc<PluginHost>,
    ttl: chrono::Duration,
}

impl Quotes {
    /// Builds the service; quotes live `ttl`.
    pub fn new(
        db: Database,
        listings: Listings,
        plugins: Arc<PluginHost>,
        ttl: chrono::Duration,
    ) -> Self {
        Self {
            db,
            listings,
            plugins,
            ttl,
        }
    }

    /// Prices a stay at a listing the caller can see, and stores a signed-in caller's quote.
    pub async fn quote(
        &self,
        viewer: Option<&Principal>,
        listing_id: ListingId,
        req: &QuoteRequest,
    ) -> Result<Quote, DomainError> {
        let (mut quote, _) = self.price(viewer, listing_id, req).await?;
        // Anonymous callers write nothing: a flood of anonymous quotes costs plugin calls (under
        // the quote budget), never rows.
        let Some(viewer) = viewer else {
            return Ok(quote);
        };
        let record = quote.to_record(viewer);
        let mut conn = self.db.write().await?;
        store::insert(conn.exec(), &record).await?;
        quote.quote_id = Some(record.id);
        Ok(quote)
    }

    /// Prices a stay at a listing the caller can see, storing nothing; the quote (without an
    /// id) and the listing it priced.
    pub async fn price(
        &self,
        viewer: Option<&Principal>,
        listing_id: ListingId,
        req: &QuoteRequest,
    ) -> Result<(Quote, Listing), DomainError> {
        // Dates first: nothing is read for a stay outside the platform's window.
        let today = super::now().date_naive();
        self.listings.window().check_stay(&req.stay, today)?;
        let listing = self.listings.get(viewer, listing_id.as_uuid()).await?;
        let stay = req.stay;
        let guests = req.guests.get();
        let mut p = Problems::default();
        // The listing's own rules in time: not in the past where it is, not inside its notice,
        // not beyond its window.
        if let Err(problems) = listing.stay_rules().check(&stay, super::now()) {
            p.extend(problems);
        }
        if guests > listing.max_guests {
            p.add(
                "guests",
                format!("this listing hosts at most {} guests", listing.max_guests),
            );
        }
        if stay.nights() < listing.min_nights {
            p.add(
                "check_out",
                format!("the stay must be at least {} nights", listing.min_nights),
            );
        }
        if stay.nights() > listing.max_nights {
            p.add(
                "check_out",
                format!("the stay must be at most {} nights", listing.max_nights),
            );
        }
        p.finish()?;

        let nights = nights_of(&self.listings, &listing, stay.check_in(), stay.check_out()).await?;
        let taken: Vec<Invalid> = nights
            .iter()
            .filter(|n| n.status != DayStatus::Available)
            .map(|n| Invalid::new("check_in", format!("{} is not available", n.date)))
            .collect();
        if !taken.is_empty() {
            return Err(DomainError::DatesUnavailable(taken));
        }

        let currency = listing.currency;
        let base: Vec<pricing::LineItem> = nights
            .iter()
            .map(|n| pricing::LineItem {
                code: "nightly".into(),
                description: format!("Night of {}", n.date),
                amount: Money::new(n.price_minor, currency),
                night: Some(n.date),
                source: "kernel".into(),
            })
            .collect();
        let plugin_stay = pricing::Stay {
            listing_id: listing.id.to_string(),
            check_in: stay.check_in(),
            check_out: stay.check_out(),
            guests,
            country: listing.country.clone(),
            city: listing.city.clone(),
            currency,
        };
        let set = self.plugins.current();
        let priced = pricing::run_chain(&set, &plugin_stay, base)
            .await
            .map_err(|e| DomainError::Pricing(e.into()))?;
        for skipped in &priced.skipped {
            tracing::warn!(listing.id = %listing.id, error = %skipped.redacted(), "fail-open pricing plugin skipped");
        }
        let total = priced
            .items
            .iter()
            .try_fold(0i64, |sum, item| sum.checked_add(item.amount.minor))
            .ok_or(DomainError::Pricing(PricingError::Overflow))?;
        if total < 0 {
            return Err(DomainError::Pricing(PricingError::Negative(total)));
        }
        let line_items: Vec<QuoteLine> = priced
            .items
            .into_iter()
            .map(|i| QuoteLine {
                code: i.code,
                description: i.description,
                amount_minor: i.amount.minor,
                night: i.night,
                source: i.source,
            })
            .collect();
        let now = super::now();
        let quote = Quote {
            quote_id: None,
            listing_id: listing.id,
            check_in: stay.check_in(),
            check_out: stay.check_out(),
            nights: stay.nights(),
            guests: req.guests,
            currency,
            line_items,
            total_minor: total,
            created_at: now,
            expires_at: now + self.ttl,
        };
        Ok((quote, listing))
    }
}

impl Quote {
    /// The row that stores this quote for `owner`, under a new id.
    pub fn to_record(&self, owner: &Principal) -> QuoteRecord {
        QuoteRecord {
            id: Uuid::now_v7(),
            listing_id: self.listing_id,
            account_id: Some(owner.account_id.as_uuid()),
            check_in: self.check_in,
            check_out: self.check_out,
            guests: i32::from(self.guests),
            currency: self.currency,
            total_minor: self.total_minor,
            line_items: sqlx::types::Json(self.line_items.clone()),
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// The scheduled job that deletes quotes a day after they expired (a booking made from a quote
/// has copied its price by then).
#[derive(Debug, Clone)]
pub struct PurgeExpiredQuotes(pub Database);

impl crate::jobs::JobHandler for PurgeExpiredQuotes {
    fn kind(&self) -> &'static str {
        "purge_expired_quotes"
    }

    fn run<'a>(
        &'a self,
        _run: &'a crate::jobs::JobRun,
    ) -> futures_util::future::BoxFuture<'a, Result<(), crate::jobs::JobError>> {
        Box::pin(async move {
            let mut conn = self.0.write().await?;
            let cutoff = super::now() - chrono::Duration::days(1);
            let purged = store::delete_expired(conn.exec(), cutoff).await?;
            tracing::info!(purged, "expired quotes purged");
            Ok(())
        })
    }
}
