//! Typed errors of the library. The binary wraps them with `anyhow` at its edge.
//!
//! Every error about user input names where the problem is (the scenario
//! file and the line or dotted key, the trace file and its line) and what was
//! expected there.

use std::path::PathBuf;

/// A problem with a scenario or with a file it refers to.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read the scenario: {0}")]
    Read(String),
    /// The TOML is malformed, or a key has the wrong type or is unknown.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A key has an invalid value.
    #[error("`{key}`{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Invalid {
        /// Dotted path of the key, e.g. `load.rps`.
        key: String,
        /// 1-based line of the key in the scenario file, when it is written there.
        line: Option<usize>,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A `--set key=value` override could not be applied.
    #[error("--set {arg}: {message}")]
    Override {
        /// The override as given.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// A trace file referenced by the scenario is bad.
    #[error("trace {}{}: {message}", file.display(), line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Trace {
        /// The trace file.
        file: PathBuf,
        /// 1-based line, when the problem is on one.
        line: Option<usize>,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl ScenarioError {
    /// An invalid value at a dotted key.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError::Invalid {
            key: key.into(),
            line: None,
            message: message.into(),
        }
    }
}

/// Any error the library returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario (or a file it names) is invalid.
    #[error("{}: {problem}", file.display())]
    Scenario {
        /// The scenario file (or `<test>`/`<inline>` for scenarios built in memory).
        file: PathBuf,
        /// The problem (shown in the message, not chained as a source).
        problem: ScenarioError,
    },
    /// A file given to `capsim import` is unreadable or not what it should be.
    #[error("{}: {message}", file.display())]
    Import {
        /// The file.
        file: PathBuf,
        /// What is wrong (with the field or line) and what was expected.
        message: String,
    },
    /// Writing an output file failed.
    #[error("cannot write {}: {error}", path.display())]
    Output {
        /// The file or directory being written.
        path: PathBuf,
        /// The I/O error (shown in the message, not chained as a source).
        error: std::io::Error,
    },
}

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
