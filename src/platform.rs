//! Platforms tasks run on, and their rules (valid sizes, start-up, billing).
//! Scenario section `[platform]`.
//!
//! Only `ideal` exists so far: tasks exist from t = 0, cost nothing, and any
//! size is allowed — the textbook case the queueing formulas describe.

use serde::{Deserialize, Serialize};

/// The `[platform]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlatformSpec {
    /// Tasks exist from t = 0, cost nothing, any size is allowed.
    Ideal {},
}

/// A compiled platform.
#[derive(Debug, Clone, PartialEq)]
pub enum Platform {
    /// See [`PlatformSpec::Ideal`].
    Ideal,
}

impl PlatformSpec {
    /// Compiles the spec.
    pub fn compile(&self) -> Platform {
        match self {
            PlatformSpec::Ideal {} => Platform::Ideal,
        }
    }

    /// The platform's name as written in scenarios.
    pub fn kind(&self) -> &'static str {
        match self {
            PlatformSpec::Ideal {} => "ideal",
        }
    }
}
