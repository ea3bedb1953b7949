//! Money: integer minor units of an ISO 4217 currency, never a float. A [`Currency`] is one of
//! the codes ISO 4217 lists (with its minor-unit exponent: EUR 2, JPY 0, KWD 3); an unknown code
//! is refused by name at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An ISO 4217 currency with minor units (funds and metals such as `XAU` have none and are
/// refused: an amount in them cannot be written as integer minor units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses `EUR`, `usd`, ... (stored upper-case).
    pub fn parse(s: &str) -> Result<Self, CurrencyError> {
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(CurrencyError::Malformed);
        }
        let code = s.to_ascii_uppercase();
        match iso_currency::Currency::from_code(&code) {
            Some(c) if c.exponent().is_some() => Ok(Self(c)),
            Some(_) => Err(CurrencyError::NoMinorUnits(code)),
            None => Err(CurrencyError::Unknown(code)),
        }
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &'static str {
        self.0.code()
    }

    /// Digits after the decimal point of one major unit: 2 for EUR, 0 for JPY, 3 for KWD.
    pub fn exponent(&self) -> u32 {
        // `parse` admits only currencies with an exponent.
        self.0.exponent().map_or(0, u32::from)
    }
}

/// Why a currency code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// Not three letters.
    #[error("must be an ISO 4217 currency code such as EUR")]
    Malformed,
    /// Three letters, but not a code ISO 4217 lists.
    #[error("`{0}` is not an ISO 4217 currency code")]
    Unknown(String),
    /// A fund or metal (`XAU`, `XDR`): no minor units.
    #[error("`{0}` has no minor units and cannot be used for prices")]
    NoMinorUnits(String),
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Currency::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[A-Za-z]{3}$"))
            .description(Some("An ISO 4217 currency code with minor units, e.g. EUR"))
            .examples(["EUR"])
            .into()
    }
}

impl utoipa::ToSchema for Currency {}

text_column!(Currency, |text| Ok(Currency::parse(text)?));

/// An amount of money: minor units (negative for discounts and refunds) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    /// Minor units (cents for EUR, yen for JPY).
    pub minor: i64,
    /// Currency.
    pub currency: Currency,
}

/// Why two amounts could not be combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Amounts in different currencies.
    #[error("cannot add {0} to {1}")]
    CurrencyMismatch(Currency, Currency),
    /// The sum does not fit in 64 bits.
    #[error("the amount overflows")]
    Overflow,
}

impl Money {
    /// `minor` units of `currency`.
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Nothing, in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The sum, refused across currencies or on overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(other.currency, self.currency));
        }
        self.minor
            .checked_add(other.minor)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or(MoneyError::Overflow)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.minor, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_currency_is_stored_upper_case() {
        assert_eq!(Currency::parse("eur").expect("valid").as_str(), "EUR");
    }

    #[test]
    fn a_currency_that_is_not_three_letters_is_refused() {
        assert_eq!(Currency::parse("EURO"), Err(CurrencyError::Malformed));
        assert_eq!(Currency::parse("E1R"), Err(CurrencyError::Malformed));
    }

    #[test]
    fn an_unknown_code_is_refused_by_name() {
        let err = Currency::parse("ABC").expect_err("not ISO 4217");
        assert_eq!(err.to_string(), "`ABC` is not an ISO 4217 currency code");
    }

    #[test]
    fn a_fund_without_minor_units_is_refused() {
        assert_eq!(
            Currency::parse("XAU"),
            Err(CurrencyError::NoMinorUnits("XAU".into()))
        );
    }

    #[test]
    fn each_currency_knows_its_minor_unit_exponent() {
        let exponent = |c: &str| Currency::parse(c).expect("valid").exponent();
        assert_eq!(exponent("EUR"), 2);
        assert_eq!(exponent("JPY"), 0);
        assert_eq!(exponent("KWD"), 3);
    }

    #[test]
    fn amounts_add_only_in_one_currency_and_without_overflow() {
        let eur = Currency::parse("EUR").expect("valid");
        let usd = Currency::parse("USD").expect("valid");
        assert_eq!(
            Money::new(150, eur).checked_add(Money::new(-50, eur)),
            Ok(Money::new(100, eur))
        );
        assert_eq!(
            Money::new(1, eur).checked_add(Money::new(1, usd)),
            Err(MoneyError::CurrencyMismatch(usd, eur))
        );
        assert_eq!(
            Money::new(i64::MAX, eur).checked_add(Money::new(1, eur)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn money_reads_and_writes_as_minor_units_and_a_code() {
        let m: Money = serde_json::from_str(r#"{"minor":1250,"currency":"jpy"}"#).expect("valid");
        assert_eq!(m, Money::new(1250, Currency::parse("JPY").expect("valid")));
        assert_eq!(
            serde_json::to_string(&m).expect("serializes"),
            r#"{"minor":1250,"currency":"JPY"}"#
        );
        assert!(serde_json::from_str::<Money>(r#"{"minor":1,"currency":"ZZZ"}"#).is_err());
    }
}
