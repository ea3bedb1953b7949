//! [`ConfigError`]: what went wrong in the configuration, said so an operator can fix it.

use std::fmt;
use std::path::Path;

use figment::error::Kind;
use figment::Source;

use super::ENV_PREFIX;

/// A configuration problem: where it is (file or environment variable), which key, and what was
/// expected. Several problems found at once are all reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

/// One problem in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file or environment variable the value came from.
    pub origin: String,
    /// The dotted key, e.g. `server.bind` (empty for a file-level problem).
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ConfigError {
    pub(super) fn missing_file(path: &Path) -> Self {
        Self::single(Problem {
            origin: path.display().to_string(),
            key: String::new(),
            message: "the configuration file does not exist (pass --config FILE or run from the \
                      repository root)"
                .into(),
        })
    }

    /// `problems`, or `Ok` when there are none.
    pub(super) fn of(problems: Vec<Problem>) -> Result<(), Self> {
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Self { problems })
        }
    }

    fn single(problem: Problem) -> Self {
        Self {
            problems: vec![problem],
        }
    }

    /// The problems found, first to last.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    pub(super) fn from_figment(error: figment::Error, file: Option<&Path>) -> Self {
        let problems = error
            .into_iter()
            .map(|e| {
                let mut path = e.path.clone();
                let message = match &e.kind {
                    // figment's path already ends with the unknown key.
                    Kind::UnknownField(_, expected) => {
                        format!("unknown key; expected one of: {}", expected.join(", "))
                    }
                    Kind::MissingField(field) => {
                        path.push(field.to_string());
                        "missing required key".to_owned()
                    }
                    Kind::Message(msg) if msg.contains("TOML parse error") || path.is_empty() => {
                        msg.trim().to_owned()
                    }
                    Kind::Message(msg) => msg.clone(),
                    // `NonZero*` fields: serde's "a nonzero u64" says the type, not the rule.
                    Kind::InvalidValue(found, expected) if expected.starts_with("a nonzero") => {
                        format!("expected at least 1, found {found}")
                    }
                    Kind::UnknownVariant(found, expected) => format!(
                        "unknown value `{found}`; expected one of: {}",
                        expected
                            .iter()
                            .map(|v| format!("\"{v}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    other => other.to_string(),
                };
                let origin = match e.metadata.as_ref() {
                    Some(md) if md.name.contains("environment") => format!(
                        "environment variable {ENV_PREFIX}{}",
                        path.iter()
                            .map(|k| k.to_ascii_uppercase())
                            .collect::<Vec<_>>()
                            .join("__")
                    ),
                    Some(md) => match &md.source {
                        Some(Source::File(p)) => p.display().to_string(),
                        _ => file.map_or_else(|| md.name.to_string(), |p| p.display().to_string()),
                    },
                    None => {
                        file.map_or_else(|| "configuration".into(), |p| p.display().to_string())
                    }
                };
                Problem {
                    origin,
                    key: dotted(&path),
                    message,
                }
            })
            .collect();
        Self { problems }
    }
}

/// A figment path as the key operators write and [`Checks`] report: `plugins[0].limits.fuel`
/// rather than figment's `plugins.0.limits.fuel`.
fn dotted(path: &[String]) -> String {
    let mut key = String::new();
    for segment in path {
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) && !key.is_empty() {
            key.push_str(&format!("[{segment}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(segment);
        }
    }
    key
}

/// What the sections' `check`s found: rules serde cannot express, each under the dotted key of
/// the value that breaks it. Every section reports into one collector, so a file with several
/// mistakes is answered with all of them.
#[derive(Debug, Default)]
pub(super) struct Checks {
    found: Vec<(String, String)>,
}

impl Checks {
    /// Records that `key` holds a value other than `expected` (the message reads "expected …").
    pub(super) fn invalid(&mut self, key: impl Into<String>, expected: impl Into<String>) {
        self.found.push((key.into(), expected.into()));
    }

    /// The problems found, attributed to `file`, or `Ok` when there are none.
    pub(super) fn finish(self, file: Option<&Path>) -> Result<(), ConfigError> {
        if self.found.is_empty() {
            return Ok(());
        }
        let origin = file.map_or_else(|| "configuration".into(), |p| p.display().to_string());
        let problems = self
            .found
            .into_iter()
            .map(|(key, expected)| Problem {
                origin: origin.clone(),
                key,
                message: format!("expected {expected}"),
            })
            .collect();
        Err(ConfigError { problems })
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "{}: key `{}`: {}", self.origin, self.key, self.message)
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}
