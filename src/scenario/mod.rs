//! Scenario files: the TOML a user writes, `--set dotted.path=value`
//! overrides, validation, and the safe directory name of a scenario.
//!
//! Loading is strict: unknown keys are errors (a typo must not be silently
//! ignored), and every error names the file and the key (and its line when
//! the key is written in the file).

pub mod overrides;

use crate::error::{Error, ScenarioError};
use crate::load::{LoadSpec, RateFn};
use crate::platform::{Platform, PlatformKind, PlatformSpec, TaskFacts};
use crate::scaling::AutoscalingSpec;
use crate::service::{
    CompiledTask, LoadBalancerSpec, SchedulingStrategy, ServiceSpec, TaskShape, TaskSpec,
};
use crate::time::{Duration, SimTime};
use crate::workload::{Dist, WorkloadSpec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn default_seed() -> u64 {
    1
}

fn default_region() -> String {
    "us-east-1".to_string()
}

/// The `[slo]` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloSpec {
    /// Target 99th percentile latency (ms). A minute whose p99 exceeds it —
    /// counting timeouts, rejections and failures as infinitely slow — is a
    /// breach minute.
    #[serde(default)]
    pub p99_ms: Option<f64>,
}

/// Longest run capsim simulates: 400 days.
pub const MAX_DURATION: SimTime = 400 * crate::time::DAY;

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
}

/// Sections a service sharing a cluster may give itself (`[services.<name>.load]`, …).
pub const SERVICE_SECTIONS: [&str; 9] = [
    "load",
    "workload",
    "task",
    "service",
    "autoscaling",
    "hpa",
    "slo",
    "load_balancer",
    "platform",
];

/// `[platform]` keys that describe a service's tasks rather than the cluster,
/// which a service sharing a cluster may set for itself.
pub const SERVICE_PLATFORM_KEYS: [&str; 7] = [
    "network_mode",
    "image_mb",
    "pull_mbps",
    "pull_s",
    "task_start_s",
    "container_start_s",
    "app_start_s",
];

/// Files a shared cluster's report writes beside the services' folders.
const RESERVED_NAMES: [&str; 6] = [
    "cluster.json",
    "index.html",
    "tasks.svg",
    "tasks.png",
    "cost.svg",
    "cost.png",
];

/// Several services sharing one ECS-on-EC2 cluster (`[services.<name>]`):
/// each a whole [`Scenario`] (its sections from its own table, or from the
/// top level when it gives none), all with the top level's name, seed,
/// duration, region and `[platform]` cluster.
#[derive(Debug, Clone)]
pub struct SharedScenario {
    /// The scenario's name.
    pub name: String,
    /// Seed of the cluster's streams. With several services, each
    /// service's `seed` is derived from it and the service's name.
    pub seed: u64,
    /// Where it came from.
    pub origin: PathBuf,
    /// The services, in file order.
    pub services: Vec<Scenario>,
}

impl SharedScenario {
    /// The scenario name made safe to use as one directory name.
    pub fn safe_name(&self) -> String {
        safe_name(&self.name)
    }
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
    let text =
        std::fs::read_to_string(path).map_err(|e| wrap(ScenarioError::Read(e.to_string())))?;
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

/// One `--set services.<name>.<key>=<value>`.
#[derive(Debug, Clone)]
struct ServiceSet {
    /// The service.
    name: String,
    /// The key within the service's scenario (`load.rps`).
    key: String,
    /// The value as written.
    raw: String,
    /// The whole argument, for errors.
    arg: String,
}

/// The overrides of a shared scenario: top-level ones (already applied),
/// and those of single services.
struct Overrides {
    top: Vec<String>,
    sets: Vec<ServiceSet>,
}

/// Reads an override that reaches into `services.<name>`: it must name a
/// service the file defines (a typo must not add one) and a key a service
/// may set. `None` for any other override.
fn service_override(file: &toml::Table, arg: &str) -> Result<Option<ServiceSet>, String> {
    let Some((key, raw)) = arg.split_once('=') else {
        return Ok(None);
    };
    let segs: Vec<&str> = key.trim().split('.').collect();
    if segs[0] != "services" {
        return Ok(None);
    }
    let names: Vec<&str> = match file.get("services") {
        Some(toml::Value::Table(t)) => t.keys().map(String::as_str).collect(),
        _ => {
            return Err(
                "the file defines no [services.<name>]: set keys of its sections (load.rps, …)"
                    .into(),
            );
        }
    };
    let (Some(name), Some(section)) = (segs.get(1), segs.get(2)) else {
        return Err("name a service and a key, e.g. services.web.load.rps=300".into());
    };
    if !names.contains(name) {
        return Err(format!(
            "no service `{name}` in the file (it defines {})",
            names.join(", ")
        ));
    }
    if !SERVICE_SECTIONS.contains(section) {
        return Err(format!(
            "a service may set only {}; `{section}` belongs to the whole scenario",
            SERVICE_SECTIONS.join(", ")
        ));
    }
    if *section == "platform"
        && !segs
            .get(3)
            .is_some_and(|k| SERVICE_PLATFORM_KEYS.contains(k))
    {
        return Err(format!(
            "a service may set only these [platform] keys: {}; the others belong to the shared cluster",
            SERVICE_PLATFORM_KEYS.join(", ")
        ));
    }
    Ok(Some(ServiceSet {
        name: name.to_string(),
        key: segs[2..].join("."),
        raw: raw.to_string(),
        arg: arg.to_string(),
    }))
}

/// A service's whole scenario table: the top level (without `services`)
/// with the service's own sections in place of the top-level ones, and its
/// own task-level platform keys. Returns it with the dotted keys that came
/// from the service (`load`, `platform.image_mb`, …).
fn merge_service(
    base: &toml::Table,
    name: &str,
    entry: toml::Value,
) -> Result<(toml::Table, Vec<String>), (String, String)> {
    let key = format!("services.{name}");
    let toml::Value::Table(entry) = entry else {
        return Err((
            key,
            "expected a table with the service's own sections (load, workload, task, service, autoscaling, slo, load_balancer, platform)".into(),
        ));
    };
    let mut merged = base.clone();
    merged.remove("services");
    let mut own = Vec::new();
    for (section, value) in entry {
        if !SERVICE_SECTIONS.contains(&section.as_str()) {
            return Err((
                format!("{key}.{section}"),
                format!(
                    "a service may give itself only {}; `{section}` belongs to the whole scenario",
                    SERVICE_SECTIONS.join(", ")
                ),
            ));
        }
        if section == "platform" {
            // Only task-level platform keys; the cluster is shared.
            let toml::Value::Table(keys) = value else {
                return Err((format!("{key}.platform"), "expected a table".into()));
            };
            let Some(toml::Value::Table(platform)) = merged.get_mut("platform") else {
                return Err((
                    "platform".into(),
                    "services sharing a cluster need a top-level [platform] with kind = \"ecs_ec2\"".into(),
                ));
            };
            for (k, v) in keys {
                if !SERVICE_PLATFORM_KEYS.contains(&k.as_str()) {
                    return Err((
                        format!("{key}.platform.{k}"),
                        format!(
                            "`{k}` is a setting of the shared cluster: give it in the top-level [platform] (a service may set only {})",
                            SERVICE_PLATFORM_KEYS.join(", ")
                        ),
                    ));
                }
                own.push(format!("platform.{k}"));
                platform.insert(k, v);
            }
            continue;
        }
        if (section == "autoscaling" || section == "hpa") && value == toml::Value::Boolean(false) {
            // `autoscaling = false` / `hpa = false`: no autoscaler for this
            // service, whatever the top level has.
            merged.remove(&section);
            continue;
        }
        merged.insert(section.clone(), value);
        own.push(section);
    }
    merged.insert("name".into(), toml::Value::String(name.to_string()));
    Ok((merged, own))
}

fn shared_from_table(
    mut table: toml::Table,
    file: &toml::Table,
    text: &str,
    base_dir: &Path,
    origin: &Path,
    overridden: Vec<String>,
    sets: &Overrides,
) -> Result<SharedScenario, Error> {
    let override_err = |arg: &str, message: String| Error::Scenario {
        file: origin.to_path_buf(),
        problem: ScenarioError::Override {
            arg: arg.to_string(),
            message,
        },
    };
    let invalid = |key: String, message: String| {
        let (line, message) = if overridden.contains(&key) {
            (None, format!("{message} (value from --set)"))
        } else {
            (line_of_key(text, &key), message)
        };
        Error::Scenario {
            file: origin.to_path_buf(),
            problem: ScenarioError::Invalid { key, line, message },
        }
    };
    let Some(toml::Value::Table(services)) = table.remove("services") else {
        return Err(invalid(
            "services".into(),
            "expected a table of services, e.g. [services.web.load]".into(),
        ));
    };
    if services.is_empty() {
        return Err(invalid(
            "services".into(),
            "needs at least one service, e.g. [services.web.load]".into(),
        ));
    }
    if table.contains_key("sweep") {
        return Err(invalid(
            "sweep".into(),
            "services sharing a cluster cannot be swept yet: sweep a single-service scenario"
                .into(),
        ));
    }
    let file_services = match file.get("services") {
        Some(toml::Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
    };
    // A top-level override of a section every service gives itself would
    // change nothing: say so rather than ignore it.
    for arg in &sets.top {
        let section = arg.split(['.', '=']).next().unwrap_or_default().trim();
        let own_everywhere = services
            .values()
            .all(|e| e.as_table().is_some_and(|t| t.contains_key(section)));
        if section != "platform" && SERVICE_SECTIONS.contains(&section) && own_everywhere {
            return Err(override_err(
                arg,
                format!(
                    "every service gives itself its own [{section}], so this changes nothing: set services.<name>.{section}… instead"
                ),
            ));
        }
    }
    let mut out = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for (name, entry) in services {
        let key = format!("services.{name}");
        // Each service's report goes to a folder of its safe name, beside
        // the cluster's files.
        let dir = safe_name(&name);
        if RESERVED_NAMES.contains(&dir.as_str()) || dirs.contains(&dir) {
            return Err(invalid(
                key,
                format!(
                    "the service's report folder would be \"{dir}\", which another service or a cluster file ({}) already uses: rename the service",
                    RESERVED_NAMES.join(", ")
                ),
            ));
        }
        dirs.push(dir);
        let (mut merged, mut own) =
            merge_service(&table, &name, entry).map_err(|(k, m)| invalid(k, m))?;
        for set in sets.sets.iter().filter(|x| x.name == name) {
            overrides::apply(&mut merged, &format!("{}={}", set.key, set.raw)).map_err(|p| {
                let message = match p {
                    ScenarioError::Override { message, .. } => message,
                    other => other.to_string(),
                };
                override_err(&set.arg, message)
            })?;
            own.push(set.key.clone());
        }
        for k in ["autoscaling", "hpa"] {
            if merged.get(k) == Some(&toml::Value::Boolean(false)) {
                merged.remove(k);
            }
        }
        // The same service as the file alone has it: an error it shares was
        // written in the file, not given by --set.
        let from_file = file_services
            .get(&name)
            .cloned()
            .and_then(|e| merge_service(file, &name, e).ok())
            .map(|(t, _)| t);
        let sc = match Scenario::from_table_in(
            merged.clone(),
            text,
            base_dir,
            origin,
            overridden.clone(),
            Some((key.clone(), own.clone())),
            from_file,
        ) {
            Ok(sc) => sc,
            Err(Error::Scenario {
                problem:
                    ScenarioError::Invalid {
                        key: k, message, ..
                    },
                ..
            }) if k == "platform" && own.iter().any(|o| o.starts_with("platform.")) => {
                // Serde names the [platform] table; if it is fine without
                // the service's own platform keys, they are to blame.
                let mut without = merged;
                if let Some(p) = table.get("platform") {
                    without.insert("platform".into(), p.clone());
                }
                let fine =
                    serde_path_to_error::deserialize::<_, Scenario>(toml::Value::Table(without))
                        .is_ok();
                let blamed = if fine { format!("{key}.platform") } else { k };
                return Err(invalid(blamed, message));
            }
            Err(e) => return Err(e),
        };
        let on_nodes = match &sc.platform {
            PlatformSpec::EcsEc2 { .. } => true,
            PlatformSpec::Eks { compute, .. } => {
                *compute == crate::platform::eks::Compute::NodeGroups
            }
            _ => false,
        };
        if !on_nodes {
            return Err(invalid(
                "platform.kind".into(),
                format!(
                    "services share a cluster of instances: ECS on EC2 (\"ecs_ec2\") or EKS node groups (\"eks\" with compute = \"node_groups\"), got \"{}\"; on Fargate services share no capacity (EKS Fargate services would share only the control-plane fee, not modelled): run them one by one",
                    sc.platform.kind()
                ),
            ));
        }
        out.push(sc);
    }
    let seed = out[0].seed;
    if out.len() > 1 {
        // Each service's streams derive from the seed and its name, so that
        // two services with the same load do not draw the same arrivals; its
        // summary shows the seed it ran with.
        for sc in &mut out {
            sc.seed = crate::rng::derive_seed(seed, &format!("service/{}", sc.name));
        }
    }
    Ok(SharedScenario {
        // Checked non-empty when the services compiled (they inherit it
        // unless they are named, which they always are).
        name: match table.get("name") {
            Some(toml::Value::String(n)) if !n.trim().is_empty() => n.clone(),
            _ => {
                return Err(invalid(
                    "name".into(),
                    "expected the scenario's name, e.g. name = \"shared-cluster\"".into(),
                ));
            }
        },
        seed,
        origin: origin.to_path_buf(),
        services: out,
    })
}

/// A scenario checked and compiled into what the engine needs.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// End of the run (µs).
    pub end: SimTime,
    /// Offered rate over time.
    pub rate: RateFn,
    /// CPU demand per request (ms).
    pub cpu: Dist,
    /// I/O wait per request (ms).
    pub io: Option<Dist>,
    /// Request timeout (µs).
    pub timeout: Option<SimTime>,
    /// Task shape.
    pub shape: TaskShape,
    /// The compiled `[task]` (memory reserved, storage, task definition).
    pub task: CompiledTask,
    /// Platform.
    pub platform: Platform,
    /// Tasks (pods) at the start.
    pub desired: u32,
    /// Kubernetes: the pod's readiness, termination grace period, scheduling
    /// constraints and the HPA (`None` on ECS).
    pub pod: Option<PodCompiled>,
    /// Notes for the user (task definition fields that are not modelled, …).
    pub notes: Vec<String>,
}

/// A Kubernetes pod and its autoscaler, compiled.
#[derive(Debug, Clone)]
pub struct PodCompiled {
    /// Readiness probe: initial delay, period, success threshold.
    pub probe: (SimTime, SimTime, u32),
    /// `terminationGracePeriodSeconds`.
    pub grace: SimTime,
    /// Constraints for kube-scheduler (node selector, hard topology spread).
    pub constraints: Vec<crate::placement::Compiled>,
    /// Soft topology spread, as placement strategies ranked first.
    pub soft_spread: Vec<crate::placement::Strategy>,
    /// The HPA.
    pub hpa: Option<crate::k8s::spec::HpaConfig>,
}

/// Byte offset → (1-based line, 1-based column).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, col)
}

/// The line where a dotted key (or the deepest table of it that is written)
/// appears in the TOML text.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut found = None;
    for seg in key.split('.') {
        let (k, v) = table.iter().find(|(k, _)| k.get_ref().as_ref() == seg)?;
        found = Some(k.span().start);
        match v.get_ref() {
            toml::de::DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found.map(|off| line_col(text, off).0)
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
                let key = relocate(
                    &own_sections,
                    refine_key(&probe, &e.path().to_string(), &message),
                );
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
                            relocate(&own_sections, refine_key(&ft, &f.path().to_string(), &m))
                                == key
                                && m == message
                        });
                let blamed: Vec<String> = if in_file {
                    Vec::new()
                } else {
                    overridden.clone()
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

    /// Checks every section and compiles what the engine needs (reads trace
    /// files). Loading only checks the shape of the TOML; this checks values.
    pub fn compile(&self) -> Result<Compiled, Error> {
        self.compile_inner().map_err(|problem| {
            let problem = match (problem, &self.source) {
                (ScenarioError::Invalid { key, message, .. }, Some((text, overridden))) => {
                    locate(text, overridden, relocate(&self.own_sections, key), message)
                }
                (other, _) => other,
            };
            Error::Scenario {
                file: self.origin.clone(),
                problem,
            }
        })
    }

    fn compile_inner(&self) -> Result<Compiled, ScenarioError> {
        if self.name.trim().is_empty() {
            return Err(ScenarioError::invalid("name", "must not be empty"));
        }
        if self.duration.0 == 0 {
            return Err(ScenarioError::invalid(
                "duration",
                "must be longer than 0, e.g. \"1h\"",
            ));
        }
        if self.duration.0 > MAX_DURATION {
            return Err(ScenarioError::invalid(
                "duration",
                format!(
                    "capsim simulates at most {} (one report row per minute), got {}",
                    Duration(MAX_DURATION),
                    self.duration
                ),
            ));
        }
        if self.region.trim().is_empty() {
            return Err(ScenarioError::invalid(
                "region",
                "must not be empty, e.g. \"us-east-1\"",
            ));
        }
        if let Some(p) = self.slo.p99_ms
            && !(p.is_finite() && p > 0.0)
        {
            return Err(ScenarioError::invalid(
                "slo.p99_ms",
                format!("expected milliseconds > 0, got {p}"),
            ));
        }
        let end = self.duration.0;
        let rate = self.load.compile(&self.base_dir, end)?;
        let cpu = self.workload.cpu_ms.compile("workload.cpu_ms")?;
        let io = self
            .workload
            .io_ms
            .as_ref()
            .map(|d| d.compile("workload.io_ms"))
            .transpose()?;
        if self.workload.timeout.is_some_and(|t| t.0 == 0) {
            return Err(ScenarioError::invalid(
                "workload.timeout",
                "must be longer than 0 (leave it out for no timeout)",
            ));
        }
        let task = self.task.compile(
            &self.base_dir,
            self.workload.memory_base_mib,
            self.workload.memory_per_request_mib,
        )?;
        let mut shape = task.shape;
        let def = task.definition.as_ref();
        let deployment = task.manifest.as_ref().and_then(|m| m.deployment.as_ref());
        let eks = matches!(self.platform, PlatformSpec::Eks { .. });
        if !eks {
            for (k, given) in [
                ("task.manifest", task.manifest.is_some()),
                ("task.cpu_limit", self.task.cpu_limit.is_some()),
                ("task.memory_limit", self.task.memory_limit.is_some()),
                ("hpa", self.hpa.is_some()),
            ] {
                if given {
                    return Err(ScenarioError::invalid(
                        k,
                        format!(
                            "is a Kubernetes setting: it needs platform.kind = \"eks\"{}",
                            if k == "hpa" {
                                "; on ECS, Service Auto Scaling is [autoscaling]"
                            } else {
                                ""
                            }
                        ),
                    ));
                }
            }
        } else if self.autoscaling.is_some() {
            return Err(ScenarioError::invalid(
                "autoscaling",
                "Service Auto Scaling is ECS's; on EKS the Horizontal Pod Autoscaler is [hpa] (e.g. target_cpu_utilization = 60)",
            ));
        }
        let platform = self.platform.compile(
            &TaskFacts {
                base_dir: self.base_dir.clone(),
                network_mode: def.and_then(|d| d.network_mode.clone()),
                host_ports: (
                    def.map(|d| d.exclusive_host_ports("host"))
                        .unwrap_or_default(),
                    def.map(|d| d.exclusive_host_ports("bridge"))
                        .unwrap_or_default(),
                ),
                cpu_units: shape.cpu_units,
                memory_mib: shape.memory_mib,
                ephemeral_gb: task.ephemeral_gb,
                arch: def.and_then(|d| d.arch),
                os: def.and_then(|d| d.os),
                cpu_limit_units: task.cpu_limit_units,
                // On EKS the memory request is also the limit unless one is
                // given (an ECS task's memory is its hard limit): a modelling
                // default that keeps OOM kills comparable across platforms.
                memory_limit_mib: if task.manifest.is_some() {
                    task.memory_limit_mib
                } else {
                    Some(task.memory_limit_mib.unwrap_or(shape.memory_mib))
                },
                node_selector: deployment
                    .map(|d| d.node_selector.clone())
                    .unwrap_or_default(),
                topology_spread: Vec::new(),
            },
            &self.region,
        )?;
        let mut notes = Vec::new();
        let mut pod = None;
        if let Some(e) = &platform.eks {
            // The pod processes on its CPU limit (else its request on a
            // node, its Fargate size on Fargate); OOM at its memory limit.
            shape.cpu_units = e.cpu_capacity_units;
            shape.memory_limit_mib = e.memory_limit_mib.map_or(f64::INFINITY, f64::from);
            if shape.memory_base_mib >= shape.memory_limit_mib {
                return Err(ScenarioError::invalid(
                    "workload.memory_base_mib",
                    format!(
                        "{} MiB leaves no room under the pod's {} MiB memory limit",
                        shape.memory_base_mib, shape.memory_limit_mib
                    ),
                ));
            }
            if e.memory_limit_mib.is_none() {
                notes.push(
                    "the pod has no memory limit: it is never OOM-killed here (node-pressure eviction is not modelled)"
                        .to_string(),
                );
            }
            if task.cpu_limit_units.is_none() && e.fargate_size.is_none() {
                notes.push(format!(
                    "the pod has no CPU limit: capsim holds it to its request ({}m) — a modelling choice; a real pod may burst into its node's idle CPU, so p99 here is an upper bound when nodes have room",
                    e.request.cpu
                ));
            }
            if let Some((c, m)) = e.fargate_size {
                notes.push(format!(
                    "EKS Fargate runs the pod ({}m CPU, {} MiB requested) on a {} vCPU / {} GB Fargate size: requests + 256 MB, rounded up to a Fargate size (aws.md §1.6)",
                    e.request.cpu,
                    e.request.memory,
                    c as f64 / 1024.0,
                    m as f64 / 1024.0
                ));
            }
            let hpa = match (
                &self.hpa,
                task.manifest.as_ref().and_then(|m| m.hpa.as_ref()),
            ) {
                (Some(h), _) => Some(h.compile()?),
                (None, Some(h)) => Some(
                    crate::k8s::spec::HpaSpec::from_manifest(h)
                        .map_err(|m| ScenarioError::invalid("task.manifest", m))?
                        .compile()
                        .map_err(|e| match e {
                            ScenarioError::Invalid { key, message, .. } => ScenarioError::invalid(
                                "task.manifest",
                                format!("its HorizontalPodAutoscaler: {key}: {message}"),
                            ),
                            other => other,
                        })?,
                ),
                (None, None) => None,
            };
            let mut constraints = Vec::new();
            let mut soft_spread = Vec::new();
            let mut probe = (0, 10 * crate::time::SECOND, 1);
            let mut grace = 30 * crate::time::SECOND;
            if let Some(d) = deployment {
                if !d.node_selector.is_empty() {
                    constraints.push(crate::placement::Compiled::NodeSelector(
                        d.node_selector.clone(),
                    ));
                }
                for t in &d.topology_spread {
                    let key = match t.topology_key.as_str() {
                        "topology.kubernetes.io/zone" => crate::placement::TopologyKey::Zone,
                        "kubernetes.io/hostname" => crate::placement::TopologyKey::Hostname,
                        other => {
                            return Err(ScenarioError::invalid(
                                "task.manifest",
                                format!(
                                    "topologySpreadConstraints on `{other}` are not modelled (topology.kubernetes.io/zone and kubernetes.io/hostname are)"
                                ),
                            ));
                        }
                    };
                    match t.when_unsatisfiable {
                        crate::k8s::manifest::WhenUnsatisfiable::DoNotSchedule => {
                            constraints.push(crate::placement::Compiled::TopologySpread {
                                max_skew: t.max_skew,
                                key,
                            })
                        }
                        crate::k8s::manifest::WhenUnsatisfiable::ScheduleAnyway => soft_spread
                            .push(crate::placement::Strategy::Spread(match key {
                                crate::placement::TopologyKey::Zone => {
                                    crate::placement::SpreadField::AvailabilityZone
                                }
                                crate::placement::TopologyKey::Hostname => {
                                    crate::placement::SpreadField::InstanceId
                                }
                            })),
                    }
                }
                if let Some(p) = &d.readiness {
                    probe = (
                        p.initial_delay_s as SimTime * crate::time::SECOND,
                        p.period_s.max(1) as SimTime * crate::time::SECOND,
                        p.success_threshold.max(1),
                    );
                }
                grace = d.termination_grace_period_s as SimTime * crate::time::SECOND;
            }
            pod = Some(PodCompiled {
                probe,
                grace,
                constraints,
                soft_spread,
                hpa,
            });
        }
        if let Some(m) = &task.manifest {
            notes.extend(m.notes.iter().map(|n| format!("manifest: {n}")));
        }
        let desired = match (self.service.desired, deployment.and_then(|d| d.replicas)) {
            (Some(n), _) | (None, Some(n)) => n,
            (None, None) if pod.as_ref().is_some_and(|p| p.hpa.is_some()) => {
                // A Deployment without replicas has 1; the HPA takes it to its minimum.
                1
            }
            (None, None) => {
                return Err(ScenarioError::invalid(
                    "service.desired",
                    "missing: the number of tasks (pods) at the start",
                ));
            }
        };
        if let Some(d) = def {
            if platform.kind == PlatformKind::Fargate {
                if !d.compatibilities.is_empty()
                    && !d.compatibilities.iter().any(|c| c == "FARGATE")
                {
                    return Err(ScenarioError::invalid(
                        "task.definition",
                        format!(
                            "{}: requiresCompatibilities {:?} does not include FARGATE",
                            d.file.display(),
                            d.compatibilities
                        ),
                    ));
                }
                if d.network_mode.as_deref().is_some_and(|m| m != "awsvpc") {
                    return Err(ScenarioError::invalid(
                        "task.definition",
                        format!(
                            "{}: Fargate tasks need networkMode \"awsvpc\", got {:?}",
                            d.file.display(),
                            d.network_mode.as_deref().unwrap_or("")
                        ),
                    ));
                }
            }
            if !d.ignored.is_empty() {
                notes.push(format!(
                    "{}: fields not modelled, ignored: {}",
                    d.file.display(),
                    d.ignored.join(", ")
                ));
            }
        }
        if self.service.scheduling_strategy == SchedulingStrategy::Daemon
            && platform.kind != PlatformKind::Ideal
        {
            return Err(ScenarioError::invalid(
                "service.scheduling_strategy",
                format!(
                    "the daemon strategy runs one task per container instance and belongs to ECS on EC2; {} has no instances — use \"replica\"",
                    self.platform.kind()
                ),
            ));
        }
        if self.service.maximum_percent < 100 {
            return Err(ScenarioError::invalid(
                "service.maximum_percent",
                format!(
                    "must be at least 100 for a replica service, got {}",
                    self.service.maximum_percent
                ),
            ));
        }
        if self.service.minimum_healthy_percent > 100 {
            return Err(ScenarioError::invalid(
                "service.minimum_healthy_percent",
                format!(
                    "must be at most 100, got {}",
                    self.service.minimum_healthy_percent
                ),
            ));
        }
        for c in &self.service.placement_constraints {
            c.compile()
                .map_err(|m| ScenarioError::invalid("service.placement_constraints", m))?;
        }
        if eks
            && (!self.service.placement_constraints.is_empty()
                || self.service.placement_strategy != crate::placement::default_strategies())
        {
            return Err(ScenarioError::invalid(
                "service.placement_strategy",
                "ECS placement strategies and constraints do not apply to EKS: kube-scheduler places pods (platform.scheduler_scoring; nodeSelector and topologySpreadConstraints in the manifest)",
            ));
        }
        if platform.kind != PlatformKind::Ec2
            && (!self.service.placement_constraints.is_empty()
                || self.service.placement_strategy != crate::placement::default_strategies())
        {
            return Err(ScenarioError::invalid(
                "service.placement_strategy",
                "placement strategies and constraints apply to ECS on EC2 only (Fargate spreads tasks over zones itself)",
            ));
        }
        self.load_balancer.validate()?;
        if let Some(a) = &self.autoscaling {
            a.validate()?;
        }
        Ok(Compiled {
            end,
            rate,
            cpu,
            io,
            timeout: self.workload.timeout.map(|d| d.0),
            shape,
            task,
            platform,
            desired,
            pod,
            notes,
        })
    }

    /// The scenario name made safe to use as one directory name.
    pub fn safe_name(&self) -> String {
        safe_name(&self.name)
    }
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

/// A value quoted in a serde message (`invalid type: string "abc", …`).
#[derive(Debug, PartialEq)]
enum Quoted {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

fn quoted_value(message: &str) -> Option<Quoted> {
    let rest = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))?;
    let between = |r: &str, close: &str| r.find(close).map(|end| r[..end].to_string());
    if let Some(r) = rest.strip_prefix("string \"") {
        return between(r, "\", expected").map(Quoted::Str);
    }
    if let Some(r) = rest.strip_prefix("integer `") {
        return between(r, "`")?.parse().ok().map(Quoted::Int);
    }
    if let Some(r) = rest.strip_prefix("floating point `") {
        return between(r, "`")?.parse().ok().map(Quoted::Float);
    }
    if let Some(r) = rest.strip_prefix("boolean `") {
        return between(r, "`")?.parse().ok().map(Quoted::Bool);
    }
    None
}

fn matches_quoted(v: &toml::Value, q: &Quoted) -> bool {
    match (v, q) {
        (toml::Value::String(s), Quoted::Str(x)) => s == x,
        (toml::Value::Integer(i), Quoted::Int(x)) => i == x,
        (toml::Value::Float(f), Quoted::Float(x)) => f == x,
        (toml::Value::Boolean(b), Quoted::Bool(x)) => b == x,
        _ => false,
    }
}

fn find_quoted(v: &toml::Value, path: &str, q: &Quoted, hits: &mut Vec<String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, x) in t {
                find_quoted(x, &format!("{path}.{k}"), q, hits);
            }
        }
        // A value inside an array counts as the array's key: with another
        // match elsewhere the error stays on the table.
        toml::Value::Array(a) => {
            for x in a {
                find_quoted(x, path, q, hits);
            }
        }
        other if matches_quoted(other, q) => hits.push(path.to_string()),
        _ => {}
    }
}

/// Serde reports type errors inside tagged tables (`[load]`, `[platform]`,
/// distributions) at the table. When the message quotes the bad value and
/// exactly one value in that table is it, the error names that value's key.
fn refine_key(root: &toml::Table, key: &str, message: &str) -> String {
    let Some(q) = quoted_value(message) else {
        return key.to_string();
    };
    let mut v: Option<&toml::Value> = None;
    for seg in key.split('.') {
        let next = match v {
            None => root.get(seg),
            Some(toml::Value::Table(t)) => t.get(seg),
            Some(_) => None,
        };
        let Some(next) = next else {
            return key.to_string();
        };
        v = Some(next);
    }
    let Some(v @ toml::Value::Table(_)) = v else {
        return key.to_string();
    };
    let mut hits = Vec::new();
    find_quoted(v, key, &q, &mut hits);
    match hits.as_slice() {
        [one] => one.clone(),
        _ => key.to_string(),
    }
}

/// The key as written in the file: a service's own section is under
/// `services.<name>`.
fn relocate(own: &Option<(String, Vec<String>)>, key: String) -> String {
    match own {
        Some((prefix, sections))
            if sections
                .iter()
                .any(|s| key == *s || key.starts_with(&format!("{s}."))) =>
        {
            format!("{prefix}.{key}")
        }
        _ => key,
    }
}

/// Adds the line of `key` in the file (unless an override set it).
fn locate(text: &str, overridden: &[String], key: String, message: String) -> ScenarioError {
    // An error at or inside an overridden key comes from --set; an error on
    // a table that merely contains an overridden key is located in the file.
    let set_by_override = overridden
        .iter()
        .any(|o| key == *o || key.starts_with(&format!("{o}.")));
    let line = if set_by_override {
        None
    } else {
        line_of_key(text, &key)
    };
    let message = if set_by_override {
        format!("{message} (value from --set)")
    } else {
        message
    };
    ScenarioError::Invalid { key, line, message }
}

/// Turns any name into one safe path component: only ASCII letters, digits,
/// `-`, `_` and `.` are kept (others become `_`), no leading dot (so never
/// `.` or `..`), never empty, at most 100 characters.
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
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn safe_names() {
        assert_eq!(safe_name("web-api"), "web-api");
        assert_eq!(safe_name("../../etc/passwd"), "_._.._etc_passwd");
        assert_eq!(safe_name(".."), "_.");
        assert_eq!(safe_name(""), "scenario");
        assert_eq!(safe_name("a/b\\c"), "a_b_c");
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
        }
    }

    #[test]
    fn type_errors_in_tagged_tables_name_the_value() {
        let t: toml::Table = toml::from_str(
            "[load]\nkind = \"constant\"\nrps = \"abc\"\n[w]\nd = { dist = \"exponential\", mean = true }\n[p]\na = -3\nb = -3\n",
        )
        .unwrap();
        let m = "invalid type: string \"abc\", expected f64";
        assert_eq!(refine_key(&t, "load", m), "load.rps");
        assert_eq!(
            refine_key(&t, "w.d", "invalid type: boolean `true`, expected f64"),
            "w.d.mean"
        );
        let arr: toml::Table = toml::from_str("[p]\nt = [\"a\", 2]\nn = 2\n").unwrap();
        assert_eq!(
            refine_key(&arr, "p", "invalid type: integer `2`, expected a string"),
            "p"
        );
        // Ambiguous or unquoted: the table stays named.
        assert_eq!(
            refine_key(&t, "p", "invalid value: integer `-3`, expected u32"),
            "p"
        );
        assert_eq!(refine_key(&t, "load", "missing field `rps`"), "load");
    }

    #[test]
    fn line_and_column() {
        let t = "a = 1\nb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 8), (2, 3));
        assert_eq!(line_of_key("x = 1\n[load]\nrps = 3\n", "load.rps"), Some(3));
        assert_eq!(line_of_key("x = 1\n[load]\nrps = 3\n", "load"), Some(2));
    }
}
