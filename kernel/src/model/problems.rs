//! Per-field input problems, collected while parsing so one answer names every bad field. The
//! one collector for both the HTTP edge (parsing request DTOs) and the domain (checking rules).

/// A problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field's path, e.g. `check_out` or `address.city`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// A problem with `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Collects field problems while parsing input.
#[derive(Debug, Default)]
pub struct Problems(Vec<Invalid>);

impl Problems {
    /// Records a problem.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(Invalid::new(field, message));
    }

    /// Records a problem unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// Keeps the parsed value, or records its error against `field`.
    pub fn parsed<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message.to_string());
                None
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds everything another collector recorded.
    pub fn extend(&mut self, other: Vec<Invalid>) {
        self.0.extend(other);
    }

    /// `Err` with every recorded problem, if any.
    pub fn finish(self) -> Result<(), Vec<Invalid>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    /// Every recorded problem.
    pub fn into_vec(self) -> Vec<Invalid> {
        self.0
    }
}
