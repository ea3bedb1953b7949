//! Each lower layer's error mapped to what a client sees: status, stable code, detail.

use axum::http::StatusCode;

use super::{ApiError, FieldError, RateLimited};
use crate::auth::AuthError;
use crate::data::DataError;
use crate::domain::updates::WatchEnded;
use crate::domain::{DomainError, Invalid, Resource};

/// How long a provider is asked to wait before sending an early webhook again.
const WEBHOOK_RETRY_SECS: u64 = 5;

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::EmailTaken => {
                let mut e = Self::new(
                    StatusCode::CONFLICT,
                    "email_taken",
                    "Email already registered",
                )
                .detail("An account with this email already exists.");
                e.errors = vec![FieldError {
                    field: "email".into(),
                    message: "is already registered".into(),
                }];
                e
            }
            AuthError::InvalidCredentials => {
                Self::unauthenticated("invalid_credentials", "The email or password is incorrect.")
            }
            AuthError::Throttled {
                retry_after_secs,
                max_failures,
                window_secs,
            } => Self::too_many_requests(
                "too_many_login_attempts",
                "Too many failed logins",
                RateLimited {
                    policy: "login-failures",
                    quota: max_failures,
                    window_secs,
                    reset_secs: retry_after_secs,
                },
            )
            .detail(format!(
                "Too many failed login attempts; try again in {retry_after_secs} seconds."
            )),
            AuthError::Busy { retry_after_secs } => Self::overloaded(
                "password_hashing_busy",
                "Too many password checks are running; try again shortly.",
                retry_after_secs,
            ),
            AuthError::CurrentPasswordRequired => Self::validation(vec![FieldError {
                field: "current_password".into(),
                message: "is required to change the email or the password".into(),
            }]),
            AuthError::Unauthenticated => Self::unauthenticated(
                "invalid_token",
                "The session token is missing, expired or revoked; log in again.",
            ),
            AuthError::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .detail("Your role does not allow this."),
            AuthError::WrongCurrentPassword => Self::validation(vec![FieldError {
                field: "current_password".into(),
                message: "is not your current password".into(),
            }]),
            AuthError::AccountNotFound => Self::new(
                StatusCode::NOT_FOUND,
                "account_not_found",
                "Account not found",
            ),
            AuthError::Data(e) => e.into(),
            AuthError::Internal(cause) => Self::internal(cause),
        }
    }
}

impl From<WatchEnded> for ApiError {
    fn from(e: WatchEnded) -> Self {
        match e {
            WatchEnded::Missed(_) => Self::new(
                StatusCode::CONFLICT,
                "updates_missed",
                "Updates were missed",
            )
            .detail(e.to_string()),
            WatchEnded::Auth(e) => e.into(),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let fields = |v: Vec<Invalid>| v.into_iter().map(FieldError::from).collect();
        match e {
            DomainError::Invalid(v) => Self::validation(fields(v)),
            DomainError::NotFound(what) => {
                let code = match what {
                    Resource::Listing => "listing_not_found",
                    Resource::Notification => "notification_not_found",
                    Resource::Booking => "booking_not_found",
                    Resource::Review => "review_not_found",
                    Resource::PaymentsPlugin => "plugin_not_found",
                };
                Self::new(StatusCode::NOT_FOUND, code, "Not found")
                    .detail(format!("No such {}.", what.name()))
            }
            DomainError::Forbidden => Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden")
                .detail("You may not change this resource."),
            DomainError::DatesUnavailable(v) => Self::new(
                StatusCode::CONFLICT,
                "dates_unavailable",
                "Dates unavailable",
            )
            .detail("Some nights of the stay are not available.")
            .with_errors(fields(v)),
            DomainError::Pricing(cause) => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "pricing_unavailable",
                    "Pricing unavailable",
                )
                .detail("The stay could not be priced right now; try again later.");
                e.internal = Some(cause.to_string());
                e
            }
            DomainError::Conflict { code, detail } => {
                Self::new(StatusCode::CONFLICT, code, "Conflict").detail(detail)
            }
            DomainError::TooManyUnconfirmed { limit } => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_unconfirmed_bookings",
                "Too many unconfirmed bookings",
            )
            .detail(format!(
                "You have {limit} bookings waiting for payment or for the host's answer; \
                 book again once one is confirmed, declined or expired."
            )),
            DomainError::OwnListing => Self::new(StatusCode::FORBIDDEN, "own_listing", "Forbidden")
                .detail("You cannot book your own listing."),
            DomainError::PaymentDeclined { booking_id, code } => Self::new(
                StatusCode::PAYMENT_REQUIRED,
                "payment_declined",
                "Payment declined",
            )
            .detail(format!(
                "The payment was declined ({code}); booking {booking_id} was cancelled."
            )),
            DomainError::PaymentUnavailable(cause) => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "payment_unavailable",
                    "Payments unavailable",
                )
                .detail("The payment provider did not answer; nothing was confirmed, and any hold is settled or released automatically.");
                e.internal = Some(cause);
                e
            }
            DomainError::PolicyUnavailable(cause) => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "review_policy_unavailable",
                    "Reviews unavailable",
                )
                .detail("The review policy could not decide right now; try again later.");
                e.internal = Some(cause);
                e
            }
            DomainError::ReviewRejected(reason) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "review_rejected",
                "Review rejected",
            )
            .detail(reason),
            DomainError::IdempotencyKeyInUse => Self::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "Request in progress",
            )
            .detail("A request with this Idempotency-Key is still running; retry shortly."),
            DomainError::IdempotencyKeyReused => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency-Key reused",
            )
            .detail("This Idempotency-Key was used for a different request."),
            DomainError::InvalidWebhook(why) => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_webhook",
                "Webhook rejected",
            )
            .detail(why),
            DomainError::WebhookEarly => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "webhook_early",
                    "Webhook too early",
                )
                .detail(
                    "This may be about a payment whose answer is not recorded yet; nothing \
                     was recorded: send it again.",
                );
                e.retry_after_secs = Some(WEBHOOK_RETRY_SECS);
                e
            }
            DomainError::Auth(e) => e.into(),
            DomainError::Data(e) => e.into(),
        }
    }
}

impl From<DataError> for ApiError {
    fn from(e: DataError) -> Self {
        Self::internal(e)
    }
}

impl From<Invalid> for FieldError {
    fn from(i: Invalid) -> Self {
        Self {
            field: i.field,
            message: i.message,
        }
    }
}

/// The 422 naming every field a request got wrong (the edge collects them with
/// [`crate::model::Problems`], as the domain does).
impl From<Vec<Invalid>> for ApiError {
    fn from(problems: Vec<Invalid>) -> Self {
        ApiError::validation(problems.into_iter().map(FieldError::from).collect())
    }
}
