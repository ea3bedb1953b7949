//! Quotes: the stay to price, and the priced quote.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::quotes::{self as domain, QuoteRequest};
use crate::model::{Currency, GuestCount, Invalid, Problems, QuoteLine, StayRange};

/// The query of a quote.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuoteParams {
    /// First night, YYYY-MM-DD.
    #[param(format = Date, required = true)]
    pub check_in: Option<String>,
    /// Departure day, YYYY-MM-DD.
    #[param(format = Date, required = true)]
    pub check_out: Option<String>,
    /// Number of guests (default 1).
    #[param(minimum = 1)]
    pub guests: Option<u32>,
}

impl QuoteParams {
    /// The stay to price, each bad field named.
    pub fn parse(&self) -> Result<QuoteRequest, Vec<Invalid>> {
        let stay = StayRange::parse(self.check_in.as_deref(), self.check_out.as_deref());
        let mut p = Problems::default();
        let stay = match stay {
            Ok(stay) => Some(stay),
            Err(problems) => {
                p.extend(problems);
                None
            }
        };
        let guests = p.parsed("guests", GuestCount::new(self.guests.unwrap_or(1)));
        match (stay, guests) {
            (Some(stay), Some(guests)) => Ok(QuoteRequest { stay, guests }),
            _ => Err(p.into_vec()),
        }
    }
}

/// A priced stay.
#[derive(Debug, Clone, Serialize, ToSchema, async_graphql::SimpleObject)]
pub struct Quote {
    /// Use it to book at this price before `expires_at`. `null` for an anonymous caller: only a
    /// signed-in caller's quote is stored and can be booked.
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
    pub guests: u32,
    /// Currency of every amount.
    pub currency: Currency,
    /// The lines, in chain order.
    pub line_items: Vec<QuoteLine>,
    /// The sum of the lines.
    pub total_minor: i64,
    /// After this the quote no longer holds.
    pub expires_at: DateTime<Utc>,
}

impl From<domain::Quote> for Quote {
    fn from(q: domain::Quote) -> Self {
        Self {
            quote_id: q.quote_id,
            listing_id: q.listing_id,
            check_in: q.check_in,
            check_out: q.check_out,
            nights: q.nights,
            guests: q.guests.get(),
            currency: q.currency,
            line_items: q.line_items,
            total_minor: q.total_minor,
            expires_at: q.expires_at,
        }
    }
}
