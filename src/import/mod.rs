//! `capsim import`: scenarios from what users already have. Each importer
//! reads its sources (today `ecs`: the JSON the AWS CLI prints for a
//! service built by hand), and writes a scenario TOML where every imported
//! value carries a comment naming the file and field it came from, and
//! every value the sources cannot give (the load, the workload) is a
//! marked placeholder. It returns what it ignored, each with the reason;
//! the binary writes the file (never over one that exists unless asked)
//! and validates it.

pub mod alb;
pub mod cloudformation;
pub mod ecs;
pub mod terraform;

use std::fmt::Write as _;

/// What an importer produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The scenario TOML, commented.
    pub toml: String,
    /// What the sources held that the scenario does not use, and why.
    pub ignored: Vec<String>,
}

/// A TOML document written line by line, each value with its source.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    out: String,
}

impl Writer {
    /// A comment line (`# …`), or a blank line for an empty text.
    pub(crate) fn comment(&mut self, text: &str) {
        if text.is_empty() {
            self.out.push('\n');
        } else {
            for line in text.lines() {
                let _ = writeln!(self.out, "# {line}");
            }
        }
    }

    /// `[name]`, after a blank line, with an optional comment.
    pub(crate) fn table(&mut self, name: &str, note: &str) {
        self.out.push('\n');
        if note.is_empty() {
            let _ = writeln!(self.out, "[{name}]");
        } else {
            let _ = writeln!(self.out, "[{name}]  # {note}");
        }
    }

    /// `[[name]]` (one more element of an array of tables).
    pub(crate) fn array_table(&mut self, name: &str) {
        let _ = writeln!(self.out, "\n[[{name}]]");
    }

    /// `key = value  # source` (the value already in TOML form).
    pub(crate) fn raw(&mut self, key: &str, value: &str, source: &str) {
        if source.is_empty() {
            let _ = writeln!(self.out, "{key} = {value}");
        } else {
            let _ = writeln!(self.out, "{key} = {value}  # {source}");
        }
    }

    /// `key = value  # source`, the value written as TOML writes it.
    pub(crate) fn value(&mut self, key: &str, value: impl Into<toml::Value>, source: &str) {
        let v: toml::Value = value.into();
        self.raw(key, &v.to_string(), source);
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}
