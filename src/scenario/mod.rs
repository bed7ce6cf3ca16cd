//! Scenario files: the TOML a user writes, `--set dotted.path=value`
//! overrides, validation, and the safe directory name of a scenario.
//!
//! Loading is strict: unknown keys are errors (a typo must not be silently
//! ignored), and every error names the file and the key (and its line when
//! the key is written in the file).

mod compile;
mod locate;
pub mod overrides;
mod shared;

pub use compile::{Compiled, PodCompiled};
pub use locate::line_col;
use locate::{locate, refine_key_with, relocate, user_terms, value_at};
use shared::{Overrides, service_override, shared_from_table};
pub use shared::{SERVICE_PLATFORM_KEYS, SERVICE_SECTIONS, SharedScenario};

use crate::error::{Error, ScenarioError};
use crate::load::LoadSpec;
use crate::platform::PlatformSpec;
use crate::scaling::AutoscalingSpec;
use crate::service::{LoadBalancerSpec, ServiceSpec, TaskSpec};
use crate::time::{Duration, SimTime};
use crate::workload::WorkloadSpec;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn default_seed() -> u64 {
    1
}

fn default_region() -> String {
    "us-east-1".to_string()
}

pub use crate::report::verdict::SloSpec;

/// Longest run capsim simulates: 400 days.
pub const MAX_DURATION: SimTime = 400 * crate::time::DAY;

fn default_fluid_step() -> Duration {
    Duration(crate::time::SECOND)
}

fn default_true() -> bool {
    true
}

fn default_fluid_threshold() -> f64 {
    1e8
}

/// A scenario as written in its TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name; the default output directory is `reports/<safe name>/`.
    pub name: String,
    /// Seed of every random stream. Default 1.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated time span.
    pub duration: Duration,
    /// AWS region (prices and limits). Default `us-east-1`.
    #[serde(default = "default_region")]
    pub region: String,
    /// Which data plane serves the requests: `request` (default: every
    /// request simulated), `fluid` (requests counted per step, for months
    /// and large sweeps) or `auto` (fluid above `fluid_threshold` requests).
    #[serde(default)]
    pub fidelity: crate::service::Fidelity,
    /// The fluid plane's step. Default 1s; a divisor of 20s.
    #[serde(default = "default_fluid_step")]
    pub fluid_step: Duration,
    /// The fluid plane's per-step counts and CPU time vary as they would
    /// request by request (Poisson arrivals, a sum of CPU draws) rather
    /// than being their means. Default true: the autoscalers then see a
    /// CPU metric as noisy as the request-level plane's, which brings the
    /// agreement suite's SLO-breach minutes and the EKS HPA's timing in
    /// line (BENCHMARKS.md); false is faster (about half the time).
    #[serde(default = "default_true")]
    pub fluid_noise: bool,
    /// With `fidelity = "auto"`: the expected requests above which the
    /// fluid plane runs. Default 10⁸ (about half a minute of the
    /// request-level plane).
    #[serde(default = "default_fluid_threshold")]
    pub fluid_threshold: f64,
    /// Offered load.
    pub load: LoadSpec,
    /// What each request needs.
    pub workload: WorkloadSpec,
    /// Task size and concurrency.
    pub task: TaskSpec,
    /// Fleet and routing (optional when a manifest gives the replicas).
    #[serde(default)]
    pub service: ServiceSpec,
    /// Where tasks run.
    pub platform: PlatformSpec,
    /// Service-level objective.
    #[serde(default)]
    pub slo: SloSpec,
    /// The load balancer.
    #[serde(default)]
    pub load_balancer: LoadBalancerSpec,
    /// Service Auto Scaling (none: the desired count stays fixed). ECS only.
    #[serde(default)]
    pub autoscaling: Option<AutoscalingSpec>,
    /// The Horizontal Pod Autoscaler (EKS only).
    #[serde(default)]
    pub hpa: Option<crate::k8s::spec::HpaSpec>,
    /// `capsim compare`'s per-platform settings (`[compare.<platform>]`,
    /// merged into that option's `[platform]`); ignored by `run`.
    #[serde(default)]
    pub compare: std::collections::BTreeMap<String, toml::Table>,
    /// Directory relative paths in the scenario are resolved against (the
    /// scenario file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// Where the scenario came from (for error messages).
    #[serde(skip)]
    pub origin: PathBuf,
    /// The TOML text it was read from, and the keys `--set` overrode: used
    /// to give the line of a key named in an error.
    #[serde(skip)]
    source: Option<(Arc<str>, Vec<String>)>,
    /// For a service of a shared cluster: the dotted prefix
    /// (`services.<name>`) of the sections it gives itself, which error keys
    /// get so that they name what is written in the file.
    #[serde(skip)]
    own_sections: Option<(String, Vec<String>)>,
    /// Notes a tool that wrote this scenario adds to the run's (e.g. what a
    /// `compare` translation between orchestrators could not carry over).
    #[serde(skip)]
    pub extra_notes: Vec<String>,
}

/// A scenario file: one service, or several sharing a cluster.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// One service (everything but `capsim run` and `validate` takes only these).
    Single(Box<Scenario>),
    /// Services sharing one EC2 cluster.
    Shared(SharedScenario),
}

/// Reads a scenario file of either kind, with `--set` overrides
/// (`services.<name>.load.rps=…` reaches one service).
pub fn load(path: &Path, overrides: &[String]) -> Result<Loaded, Error> {
    let wrap = |problem| Error::Scenario {
        file: path.to_path_buf(),
        problem,
    };
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES)
        .map_err(|e| wrap(ScenarioError::Read(e)))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    load_str(&text, &base, path, overrides)
}

/// Parses scenario TOML of either kind; `base_dir` resolves relative paths,
/// `origin` names the source in errors.
pub fn load_str(
    text: &str,
    base_dir: &Path,
    origin: &Path,
    overrides: &[String],
) -> Result<Loaded, Error> {
    let file = parse_table(text, origin)?;
    refuse_sweep(&file, text, origin)?;
    let mut table = file.clone();
    let mut top = Vec::new();
    let mut sets = Vec::new();
    for o in overrides {
        let wrap = |message: String| Error::Scenario {
            file: origin.to_path_buf(),
            problem: ScenarioError::Override {
                arg: o.clone(),
                message,
            },
        };
        // Overrides of one service apply to its merged table, after every
        // top-level one, whatever their order on the command line.
        if let Some(set) = service_override(&file, o).map_err(wrap)? {
            sets.push(set);
            continue;
        }
        overrides::apply(&mut table, o).map_err(|problem| Error::Scenario {
            file: origin.to_path_buf(),
            problem,
        })?;
        top.push(o.clone());
    }
    let overridden: Vec<String> = overrides
        .iter()
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect();
    if !table.contains_key("services") {
        return Scenario::from_table(table, text, base_dir, origin, overridden)
            .map(|s| Loaded::Single(Box::new(s)));
    }
    shared_from_table(
        table,
        &file,
        text,
        base_dir,
        origin,
        overridden,
        &Overrides { top, sets },
    )
    .map(Loaded::Shared)
}

impl Scenario {
    /// Reads a scenario file and applies `--set` overrides (`key=value`).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, Error> {
        match load(path, overrides)? {
            Loaded::Single(s) => Ok(*s),
            Loaded::Shared(_) => Err(Error::Scenario {
                file: path.to_path_buf(),
                problem: ScenarioError::invalid(
                    "services",
                    "services sharing a cluster run with `capsim run` and `capsim validate` only; sweeps and comparisons take a single-service scenario",
                ),
            }),
        }
    }

    /// Parses scenario TOML; `base_dir` resolves relative paths, `origin`
    /// names the source in errors.
    pub fn from_toml_str(
        text: &str,
        base_dir: &Path,
        origin: &Path,
        overrides: &[String],
    ) -> Result<Scenario, Error> {
        let mut table = parse_table(text, origin)?;
        refuse_sweep(&table, text, origin)?;
        for o in overrides {
            overrides::apply(&mut table, o).map_err(|problem| Error::Scenario {
                file: origin.to_path_buf(),
                problem,
            })?;
        }
        let overridden: Vec<String> = overrides
            .iter()
            .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim().to_string()))
            .collect();
        Scenario::from_table(table, text, base_dir, origin, overridden)
    }

    /// Builds a scenario from a TOML table read from `text` and then changed
    /// at the `overridden` dotted keys (by `--set` or a sweep).
    pub fn from_table(
        table: toml::Table,
        text: &str,
        base_dir: &Path,
        origin: &Path,
        overridden: Vec<String>,
    ) -> Result<Scenario, Error> {
        if table.contains_key("services") {
            return Err(Error::Scenario {
                file: origin.to_path_buf(),
                problem: ScenarioError::invalid(
                    "services",
                    "services sharing a cluster run with `capsim run` and `capsim validate` only; sweeps and comparisons take a single-service scenario",
                ),
            });
        }
        Scenario::from_table_in(table, text, base_dir, origin, overridden, None, None)
    }

    fn from_table_in(
        table: toml::Table,
        text: &str,
        base_dir: &Path,
        origin: &Path,
        overridden: Vec<String>,
        own_sections: Option<(String, Vec<String>)>,
        file_table: Option<toml::Table>,
    ) -> Result<Scenario, Error> {
        let wrap = |problem| Error::Scenario {
            file: origin.to_path_buf(),
            problem,
        };
        let probe = table.clone();
        let mut scenario: Scenario = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| {
                let message = e.inner().message().trim().to_string();
                let at = refine(&probe, &e.path().to_string(), &message);
                let key = relocate(&own_sections, at.clone());
                // Serde reports errors inside tagged tables (`[load]`, `[platform]`,
                // distributions) at the table. Whether the file alone has the same
                // error tells the file from an override apart.
                let in_file = !overridden.is_empty()
                    && file_table
                        .clone()
                        .or_else(|| toml::from_str::<toml::Table>(text).ok())
                        .and_then(|mut t| {
                            t.remove("sweep");
                            let ft = t.clone();
                            serde_path_to_error::deserialize::<_, Scenario>(toml::Value::Table(t))
                                .err()
                                .map(|f| (ft, f))
                        })
                        .is_some_and(|(ft, f)| {
                            let m = f.inner().message().trim().to_string();
                            relocate(&own_sections, refine(&ft, &f.path().to_string(), &m)) == key
                                && m == message
                        });
                let blamed: Vec<String> = if in_file {
                    Vec::new()
                } else {
                    overridden.clone()
                };
                // A table's error that the file alone does not have, with
                // one override inside the table: that override's key.
                let (key, at) = match sole_key_under(&key, &blamed) {
                    Some(k) => {
                        // In the service's own table, the key has no prefix.
                        let own = own_sections
                            .as_ref()
                            .and_then(|(p, _)| k.strip_prefix(&format!("{p}.")));
                        let at = own.unwrap_or(&k).to_string();
                        (k, at)
                    }
                    None => (key, at),
                };
                let (key, message) = match list_for_table(&probe, &at) {
                    Some(base) => (
                        relocate(&own_sections, base),
                        "expected a table, got a list".to_string(),
                    ),
                    None => (key, user_message(&probe, &at, &message)),
                };
                let problem = if !overridden.is_empty()
                    && !in_file
                    && !blamed
                        .iter()
                        .any(|o| key == *o || key.starts_with(&format!("{o}.")))
                {
                    ScenarioError::Invalid {
                        key,
                        line: None,
                        message: format!("{message} (value from --set)"),
                    }
                } else {
                    locate(text, &blamed, key, message)
                };
                wrap(problem)
            })?;
        scenario.base_dir = base_dir.to_path_buf();
        scenario.origin = origin.to_path_buf();
        scenario.source = Some((Arc::from(text), overridden));
        scenario.own_sections = own_sections;
        Ok(scenario)
    }

    /// The scenario name made safe to use as one directory name.
    pub fn safe_name(&self) -> String {
        safe_name(&self.name)
    }
}

/// The first error reading a table as a scenario: its path and message.
fn first_error(table: &toml::Table) -> Option<String> {
    serde_path_to_error::deserialize::<_, Scenario>(toml::Value::Table(table.clone()))
        .err()
        .map(|e| format!("{}: {}", e.path(), e.inner().message().trim()))
}

/// The key an error is about: inside a tagged table, the value serde
/// could not name; a table `{ x = … }` given for a name (which serde reads
/// as variant `x`), the key of the table.
fn refine(table: &toml::Table, path: &str, message: &str) -> String {
    let key = refine_key_with(table, path, message, first_error);
    let variant = message
        .strip_prefix("unknown variant `")
        .and_then(|r| r.split('`').next());
    if let Some(name) = variant
        && let Some(parent) = key.strip_suffix(&format!(".{name}"))
        && let Some(toml::Value::Table(t)) = value_at(table, parent)
        && t.len() == 1
        && t.contains_key(name)
    {
        return parent.to_string();
    }
    key
}

/// The names the enum at `key` accepts, as serde lists them for a name it
/// does not know (`one of `a`, `b``, or `` `a` or `b` ``).
fn variant_names(table: &toml::Table, key: &str) -> Option<String> {
    if key.contains('[') {
        return None;
    }
    let mut t = table.clone();
    let segments: Vec<&str> = key.split('.').collect();
    let bogus = "\u{1}";
    overrides::set_path(&mut t, &segments, toml::Value::String(bogus.into())).ok()?;
    let e = serde_path_to_error::deserialize::<_, Scenario>(toml::Value::Table(t)).err()?;
    e.inner()
        .message()
        .trim()
        .strip_prefix(&format!("unknown variant `{bogus}`, expected "))
        .map(str::to_string)
}

/// A list written where a table is expected (serde then reads the table's
/// keys from the list's items and names `key[i]`): the list's key.
fn list_for_table(table: &toml::Table, key: &str) -> Option<String> {
    let base = key.split('[').next()?;
    if base == key || !matches!(value_at(table, base), Some(toml::Value::Array(_))) {
        return None;
    }
    let mut t = table.clone();
    let segments: Vec<&str> = base.split('.').collect();
    overrides::set_path(&mut t, &segments, toml::Value::Table(toml::Table::new())).ok()?;
    let wants_list =
        first_error(&t).is_some_and(|m| m.contains("invalid type: map, expected a sequence"));
    (!wants_list).then(|| base.to_string())
}

/// Serde's message about `key` of `table` in the user's terms.
fn user_message(table: &toml::Table, key: &str, message: &str) -> String {
    let names = ["variant identifier", "string only", "string or map"]
        .iter()
        .any(|w| message.ends_with(w))
        .then(|| variant_names(table, key))
        .flatten();
    user_terms(message, value_at(table, key), names.as_deref())
}

/// The one key of `keys` strictly inside the table `key`, if exactly one is.
fn sole_key_under(key: &str, keys: &[String]) -> Option<String> {
    let prefix = format!("{key}.");
    let mut under = keys.iter().filter(|k| k.starts_with(&prefix));
    match (under.next(), under.next()) {
        (Some(one), None) => Some(one.clone()),
        _ => None,
    }
}

/// A sweep file (`base = "…"` and `[sweep]`) or a scenario with a `[sweep]`
/// table is not one run: say so, and what runs it.
fn refuse_sweep(table: &toml::Table, text: &str, origin: &Path) -> Result<(), Error> {
    if table.contains_key("services") {
        // Services sharing a cluster say themselves that they cannot be swept.
        return Ok(());
    }
    let file = origin.display();
    let base_path = |base: &str| origin.parent().unwrap_or(Path::new("")).join(base);
    let (key, message) = match (table.get("base"), table.contains_key("sweep")) {
        (Some(toml::Value::String(base)), true) => (
            "base",
            format!(
                "this is a sweep file (a base scenario and its [sweep]), not a scenario: run the sweep with `capsim sweep {file}`, or its base scenario alone with `capsim run {}`",
                base_path(base).display()
            ),
        ),
        (Some(toml::Value::String(base)), false) => (
            "base",
            format!(
                "`base` belongs to a sweep file, which also needs a [sweep] table of values; to run the base scenario alone: `capsim run {}`",
                base_path(base).display()
            ),
        ),
        (Some(_), _) => (
            "base",
            "`base` belongs to a sweep file (base = \"scenario.toml\" and a [sweep] table); a scenario has no `base`".to_string(),
        ),
        (None, true) => (
            "sweep",
            format!(
                "this scenario has a [sweep] table, so it is a sweep: run it with `capsim sweep {file}`; to run the scenario alone, remove its [sweep] table"
            ),
        ),
        (None, false) => return Ok(()),
    };
    Err(Error::Scenario {
        file: origin.to_path_buf(),
        problem: ScenarioError::Invalid {
            key: key.to_string(),
            line: locate::line_of_key(text, key),
            message,
        },
    })
}

/// Parses TOML text into a table; a syntax error names its line and column.
pub fn parse_table(text: &str, origin: &Path) -> Result<toml::Table, Error> {
    toml::from_str(text).map_err(|e: toml::de::Error| {
        let (line, column) = e.span().map_or((1, 1), |s| line_col(text, s.start));
        Error::Scenario {
            file: origin.to_path_buf(),
            problem: ScenarioError::Syntax {
                line,
                column,
                message: e.message().trim().to_string(),
            },
        }
    })
}

/// Turns any name into one safe path component: only ASCII letters, digits,
/// `-`, `_` and `.` are kept (others become `_`), no leading dot (so never
/// `.` or `..`), never empty, at most 100 characters. A name that is already
/// such a component is kept as it is; any other gets a digest of the name
/// appended, so two names never share a folder.
pub fn safe_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    while s.starts_with('.') {
        s.replace_range(..1, "_");
    }
    if s.is_empty() {
        s.push_str("scenario");
    }
    // Names Windows reserves for devices, whatever the extension, and a
    // trailing dot it strips: a report folder must be the same everywhere.
    let stem = s.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        s.insert(0, '_');
    }
    if s.ends_with('.') {
        s.pop();
        s.push('_');
    }
    // A name that had to change is told apart from every other name that
    // changes to the same text (`web/api` and `web_api`, two long names with
    // one prefix): a stable digest of the name as written follows it.
    if s != name {
        let digest = crate::rng::derive_seed(0, name) as u32;
        s.truncate(91);
        s.push_str(&format!("-{digest:08x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn safe_names() {
        // Already safe: kept as written.
        for name in ["web-api", "console", "web_api", "a.b"] {
            assert_eq!(safe_name(name), name);
        }
        // Changed: the safe text, then a digest of the name as written.
        for (name, stem) in [
            ("../../etc/passwd", "_._.._etc_passwd-"),
            ("..", "__-"),
            ("", "scenario-"),
            ("a/b\\c", "a_b_c-"),
            ("CON", "_CON-"),
            ("nul.txt", "_nul.txt-"),
            ("com1", "_com1-"),
            ("web.", "web_-"),
        ] {
            let s = safe_name(name);
            assert!(
                s.starts_with(stem) && s.len() == stem.len() + 8,
                "{name:?} → {s}"
            );
        }
        // Names that change to the same text are told apart; the digest is
        // stable from run to run.
        assert_ne!(safe_name("web/api"), safe_name("web_api"));
        assert_ne!(safe_name("web/api"), safe_name("web api"));
        let long = "x".repeat(120);
        assert_ne!(safe_name(&(long.clone() + "a")), safe_name(&(long + "b")));
        assert_eq!(safe_name("web/api"), safe_name("web/api"));
    }

    proptest! {
        #[test]
        fn safe_name_is_one_harmless_component(name in ".*") {
            let s = safe_name(&name);
            prop_assert!(!s.is_empty());
            prop_assert!(!s.starts_with('.'));
            prop_assert!(!s.contains('/') && !s.contains('\\'));
            let p = std::path::Path::new(&s);
            prop_assert_eq!(p.components().count(), 1);
            prop_assert!(matches!(p.components().next(), Some(std::path::Component::Normal(_))));
            prop_assert!(s.len() <= 100);
        }
    }
}
