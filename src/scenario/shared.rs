//! Scenarios of several services sharing one cluster (`[services.<name>]`):
//! which sections and platform keys a service may give itself, merging a
//! service's own sections over the top level's, `--set services.<name>.…`
//! overrides, and the checks that keep report folders apart.

use super::locate::line_of_key;
use super::{Scenario, overrides, safe_name};
use crate::error::{Error, ScenarioError};
use crate::platform::PlatformSpec;
use std::path::{Path, PathBuf};

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

/// One `--set services.<name>.<key>=<value>`.
#[derive(Debug, Clone)]
pub(super) struct ServiceSet {
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
pub(super) struct Overrides {
    pub(super) top: Vec<String>,
    pub(super) sets: Vec<ServiceSet>,
}

/// Reads an override that reaches into `services.<name>`: it must name a
/// service the file defines (a typo must not add one) and a key a service
/// may set. `None` for any other override.
pub(super) fn service_override(
    file: &toml::Table,
    arg: &str,
) -> Result<Option<ServiceSet>, String> {
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
pub(super) fn merge_service(
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

pub(super) fn shared_from_table(
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
