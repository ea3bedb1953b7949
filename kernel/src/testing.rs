//! Helpers for unit tests that need the real services.

/// The URL of a test service from `var`, or `None` (with a note on stderr) when it is unset.
/// `scripts/test` sets `HEARTH_TEST_REQUIRE_SERVICES=1`, which turns a missing URL into a failure
/// so CI can never skip these tests silently.
pub(crate) fn service_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("HEARTH_TEST_REQUIRE_SERVICES").is_some() => {
            panic!("{var} must be set (HEARTH_TEST_REQUIRE_SERVICES is on)")
        }
        _ => {
            eprintln!("{var} is not set: skipping the part of this test that needs it");
            None
        }
    }
}
