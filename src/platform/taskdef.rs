//! ECS task definitions in the `register-task-definition` JSON shape
//! (`family`, `cpu`/`memory` as strings, `requiresCompatibilities`,
//! `runtimePlatform`, `containerDefinitions`, `ephemeralStorage`, …).
//!
//! Fields capsim models are read; every other field is accepted and listed
//! once as ignored; fields it needs and that are missing are errors.

use super::{Arch, Os};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One container of a task definition (the fields capsim reads).
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    /// Name.
    pub name: String,
    /// Image reference.
    pub image: Option<String>,
    /// CPU units reserved for the container.
    pub cpu: Option<u32>,
    /// Hard memory limit (MiB): above it the container is OOM-killed.
    pub memory: Option<u32>,
    /// Soft memory reservation (MiB).
    pub memory_reservation: Option<u32>,
    /// Container ports.
    pub ports: Vec<u32>,
    /// Static host ports (`hostPort` > 0).
    pub host_ports: Vec<u32>,
    /// Whether the task stops when this container stops (default true).
    pub essential: bool,
    /// `stopTimeout` (s): from SIGTERM to SIGKILL.
    pub stop_timeout_s: Option<u32>,
}

/// A parsed task definition.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefinition {
    /// The file it was read from.
    pub file: PathBuf,
    /// `family`.
    pub family: String,
    /// Task-level CPU (units).
    pub cpu_units: Option<u32>,
    /// Task-level memory (MiB).
    pub memory_mib: Option<u32>,
    /// `requiresCompatibilities`.
    pub compatibilities: Vec<String>,
    /// `networkMode`.
    pub network_mode: Option<String>,
    /// `runtimePlatform.cpuArchitecture`.
    pub arch: Option<Arch>,
    /// `runtimePlatform.operatingSystemFamily`.
    pub os: Option<Os>,
    /// `ephemeralStorage.sizeInGiB`.
    pub ephemeral_storage_gib: Option<u32>,
    /// `containerDefinitions`.
    pub containers: Vec<Container>,
    /// Dotted paths of fields present but not modelled.
    pub ignored: Vec<String>,
}

impl TaskDefinition {
    /// Host ports the task holds exclusively on an instance: container ports
    /// in `host` mode, static host ports in `bridge` mode, none in `awsvpc`.
    pub fn exclusive_host_ports(&self, mode: &str) -> Vec<u16> {
        let ports: Vec<u32> = match mode {
            "host" => self
                .containers
                .iter()
                .flat_map(|c| c.ports.iter().copied())
                .collect(),
            "bridge" => self
                .containers
                .iter()
                .flat_map(|c| c.host_ports.iter().copied())
                .collect(),
            _ => Vec::new(),
        };
        ports
            .into_iter()
            .map(|p| p.min(u16::MAX as u32) as u16)
            .collect()
    }

    /// The hard memory limit of the task: the smallest of the task memory
    /// and, when every essential container sets one, the sum of their hard limits.
    pub fn memory_limit_mib(&self) -> Option<u32> {
        match (self.memory_mib, self.containers_memory_mib()) {
            (Some(t), Some(c)) => Some(t.min(c)),
            (t, c) => t.or(c),
        }
    }

    /// The sum of the essential containers' hard memory limits (MiB), when
    /// every essential container sets one.
    pub fn containers_memory_mib(&self) -> Option<u32> {
        let essential: Vec<&Container> = self.containers.iter().filter(|c| c.essential).collect();
        (!essential.is_empty() && essential.iter().all(|c| c.memory.is_some())).then(|| {
            // Each is at most MAX_MEMORY_MIB; the sum saturates rather than wraps.
            essential
                .iter()
                .map(|c| c.memory.unwrap_or(0))
                .fold(0u32, u32::saturating_add)
        })
    }

    /// The longest `stopTimeout` of its containers (s), if any sets one.
    pub fn stop_timeout_s(&self) -> Option<u32> {
        self.containers
            .iter()
            .filter_map(|c| c.stop_timeout_s)
            .max()
    }

    /// The memory ECS counts as reserved per task for the memory-utilisation
    /// metric: `memoryReservation` (summed) when set, else the task memory.
    pub fn memory_reserved_mib(&self) -> Option<u32> {
        let soft: u32 = self
            .containers
            .iter()
            .filter_map(|c| c.memory_reservation)
            .sum();
        if soft > 0 {
            Some(soft)
        } else {
            self.memory_mib
        }
    }
}

/// Most CPU units a task or container may have: 196,608 (192 vCPU), the
/// ECS task definition limit for EC2 (AWS ECS developer guide, task
/// definition parameters: "between 128 CPU units (0.125 vCPUs) and 196608
/// CPU units (192 vCPUs)").
pub const MAX_CPU_UNITS: u64 = 196_608;

/// Most memory (MiB) a task or container may have: 24 TiB, the largest EC2
/// instance's memory (u-24tb1); ECS sets no lower bound of its own.
pub const MAX_MEMORY_MIB: u64 = 24 * 1024 * 1024;

/// `x` as a `u32` when `x ≤ max`, else an error naming the range.
fn within(x: f64, max: u64, what: &str, shown: &dyn std::fmt::Display) -> Result<u32, String> {
    if x.is_finite() && x >= 0.0 && x <= max as f64 {
        Ok(x.round() as u32)
    } else {
        Err(format!(
            "expected {what} from 0 to {max}, got {}",
            crate::input::excerpt(&shown.to_string(), 80)
        ))
    }
}

/// Parses `"256"`, `"1024"`, `"1 vCPU"`, `"0.25 vcpu"` into CPU units.
pub fn parse_cpu(v: &Value) -> Result<u32, String> {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(x) => within(x as f64, MAX_CPU_UNITS, "CPU units", n),
            None => Err(format!("expected CPU units, got {n}")),
        },
        Value::String(s) => {
            let t = s.trim().to_ascii_lowercase();
            if let Some(num) = t.strip_suffix("vcpu") {
                let vcpu: f64 = num.trim().parse().map_err(|_| {
                    format!(
                        "expected CPU like \"256\" or \"1 vCPU\", got \"{}\"",
                        crate::input::excerpt(s, 80)
                    )
                })?;
                within(
                    vcpu * 1024.0,
                    MAX_CPU_UNITS,
                    "CPU units",
                    &format!("\"{s}\""),
                )
            } else {
                let x = t.parse::<u64>().map_err(|_| {
                    format!(
                        "expected CPU like \"256\" or \"1 vCPU\", got \"{}\"",
                        crate::input::excerpt(s, 80)
                    )
                })?;
                within(x as f64, MAX_CPU_UNITS, "CPU units", &format!("\"{s}\""))
            }
        }
        other => Err(format!(
            "expected CPU like \"256\" or \"1 vCPU\", got {other}"
        )),
    }
}

/// Parses `"512"` (MiB), `"1 GB"`, `"0.5GB"` into MiB.
pub fn parse_memory(v: &Value) -> Result<u32, String> {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(x) => within(x as f64, MAX_MEMORY_MIB, "MiB", n),
            None => Err(format!("expected MiB, got {n}")),
        },
        Value::String(s) => {
            let t = s.trim().to_ascii_lowercase();
            if let Some(num) = t.strip_suffix("gb") {
                let gb: f64 = num.trim().parse().map_err(|_| {
                    format!(
                        "expected memory like \"512\" or \"1 GB\", got \"{}\"",
                        crate::input::excerpt(s, 80)
                    )
                })?;
                within(gb * 1024.0, MAX_MEMORY_MIB, "MiB", &format!("\"{s}\""))
            } else {
                let x = t.parse::<u64>().map_err(|_| {
                    format!(
                        "expected memory like \"512\" or \"1 GB\", got \"{}\"",
                        crate::input::excerpt(s, 80)
                    )
                })?;
                within(x as f64, MAX_MEMORY_MIB, "MiB", &format!("\"{s}\""))
            }
        }
        other => Err(format!(
            "expected memory like \"512\" or \"1 GB\", got {other}"
        )),
    }
}

fn as_u32(v: &Value, what: &str) -> Result<u32, String> {
    v.as_u64()
        .and_then(|x| u32::try_from(x).ok())
        .ok_or_else(|| {
            format!(
                "{what}: expected an integer from 0 to {}, got {v}",
                u32::MAX
            )
        })
}

const TOP_LEVEL: &[&str] = &[
    "family",
    "cpu",
    "memory",
    "requiresCompatibilities",
    "networkMode",
    "runtimePlatform",
    "containerDefinitions",
    "ephemeralStorage",
];
const CONTAINER: &[&str] = &[
    "name",
    "image",
    "cpu",
    "memory",
    "memoryReservation",
    "portMappings",
    "essential",
    "stopTimeout",
];

/// Reads a task definition file.
pub fn load(path: &Path) -> Result<TaskDefinition, String> {
    let text = crate::input::read_text(path, crate::input::MAX_TEXT_BYTES)
        .map_err(|e| format!("cannot read the task definition: {e}"))?;
    parse(&text, path)
}

/// Parses task definition JSON.
pub fn parse(text: &str, path: &Path) -> Result<TaskDefinition, String> {
    let root: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    // `aws ecs describe-task-definition` wraps the definition in "taskDefinition".
    let root = match root.get("taskDefinition") {
        Some(inner) if root.as_object().is_some_and(|o| o.len() <= 2) => inner.clone(),
        _ => root,
    };
    let obj = root
        .as_object()
        .ok_or("expected a JSON object at the top level")?;
    let mut ignored: Vec<String> = obj
        .keys()
        .filter(|k| !TOP_LEVEL.contains(&k.as_str()))
        .cloned()
        .collect();
    let family = obj
        .get("family")
        .and_then(Value::as_str)
        .ok_or("missing \"family\" (a string): capsim needs it to name the task")?
        .to_string();
    let cpu_units = obj
        .get("cpu")
        .map(|v| parse_cpu(v).map_err(|e| format!("\"cpu\": {e}")))
        .transpose()?;
    let memory_mib = obj
        .get("memory")
        .map(|v| parse_memory(v).map_err(|e| format!("\"memory\": {e}")))
        .transpose()?;
    let compatibilities = match obj.get("requiresCompatibilities") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or("\"requiresCompatibilities\": expected strings")
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(
                "\"requiresCompatibilities\": expected an array such as [\"FARGATE\"]".into(),
            );
        }
    };
    let network_mode = obj
        .get("networkMode")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (mut arch, mut os) = (None, None);
    if let Some(rp) = obj.get("runtimePlatform") {
        let rp = rp
            .as_object()
            .ok_or("\"runtimePlatform\": expected an object")?;
        for (k, v) in rp {
            match k.as_str() {
                "cpuArchitecture" => {
                    arch = Some(match v.as_str() {
                        Some("X86_64") => Arch::X86_64,
                        Some("ARM64") => Arch::Arm64,
                        _ => {
                            return Err(format!(
                                "\"runtimePlatform.cpuArchitecture\": expected \"X86_64\" or \"ARM64\", got {v}"
                            ));
                        }
                    })
                }
                "operatingSystemFamily" => {
                    os = Some(match v.as_str() {
                        Some("LINUX") => Os::Linux,
                        Some(s) if s.starts_with("WINDOWS") => Os::Windows,
                        _ => {
                            return Err(format!(
                                "\"runtimePlatform.operatingSystemFamily\": expected \"LINUX\" or \"WINDOWS_SERVER_…\", got {v}"
                            ));
                        }
                    })
                }
                other => ignored.push(format!("runtimePlatform.{other}")),
            }
        }
    }
    let ephemeral_storage_gib = match obj.get("ephemeralStorage") {
        None => None,
        Some(e) => {
            let size = e
                .get("sizeInGiB")
                .ok_or("\"ephemeralStorage\": missing \"sizeInGiB\"")?;
            Some(as_u32(size, "\"ephemeralStorage.sizeInGiB\"")?)
        }
    };
    let defs = obj
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .ok_or("missing \"containerDefinitions\" (an array with at least one container)")?;
    if defs.is_empty() {
        return Err(
            "\"containerDefinitions\" is empty: a task needs at least one container".into(),
        );
    }
    let mut containers = Vec::new();
    for (i, c) in defs.iter().enumerate() {
        let at = |f: &str| format!("containerDefinitions[{i}].{f}");
        let c = c
            .as_object()
            .ok_or_else(|| format!("containerDefinitions[{i}]: expected an object"))?;
        ignored.extend(
            c.keys()
                .filter(|k| !CONTAINER.contains(&k.as_str()))
                .map(|k| at(k)),
        );
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{}: missing (a string)", at("name")))?
            .to_string();
        let num = |f: &str| c.get(f).map(|v| as_u32(v, &at(f))).transpose();
        let mut ports = Vec::new();
        let mut host_ports = Vec::new();
        if let Some(pm) = c.get("portMappings") {
            for (k, p) in pm
                .as_array()
                .ok_or_else(|| format!("{}: expected an array", at("portMappings")))?
                .iter()
                .enumerate()
            {
                let port = p
                    .get("containerPort")
                    .ok_or_else(|| format!("{}[{k}]: missing containerPort", at("portMappings")))?;
                ports.push(as_u32(
                    port,
                    &format!("{}[{k}].containerPort", at("portMappings")),
                )?);
                if let Some(h) = p.get("hostPort") {
                    let h = as_u32(h, &format!("{}[{k}].hostPort", at("portMappings")))?;
                    if h > 0 {
                        host_ports.push(h);
                    }
                }
                if let Some(o) = p.as_object() {
                    ignored.extend(
                        o.keys()
                            .filter(|k| k.as_str() != "containerPort" && k.as_str() != "hostPort")
                            .map(|f| format!("{}[{k}].{f}", at("portMappings"))),
                    );
                }
            }
        }
        containers.push(Container {
            name,
            image: c.get("image").and_then(Value::as_str).map(str::to_string),
            cpu: num("cpu")?,
            memory: num("memory")?,
            memory_reservation: num("memoryReservation")?,
            ports,
            host_ports,
            essential: c.get("essential").and_then(Value::as_bool).unwrap_or(true),
            stop_timeout_s: num("stopTimeout")?,
        });
    }
    ignored.sort();
    ignored.dedup();
    Ok(TaskDefinition {
        file: path.to_path_buf(),
        family,
        cpu_units,
        memory_mib,
        compatibilities,
        network_mode,
        arch,
        os,
        ephemeral_storage_gib,
        containers,
        ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_EXAMPLE: &str = r#"{
        "family": "sample-fargate",
        "networkMode": "awsvpc",
        "taskRoleArn": "arn:aws:iam::123456789012:role/ecsTaskRole",
        "containerDefinitions": [{
            "name": "web",
            "image": "public.ecr.aws/docker/library/httpd:latest",
            "portMappings": [{ "containerPort": 8080, "hostPort": 8080, "protocol": "tcp" }],
            "essential": true,
            "logConfiguration": { "logDriver": "awslogs" }
        }],
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512"
    }"#;

    #[test]
    fn reads_the_documentation_example() {
        let td = parse(DOC_EXAMPLE, Path::new("t.json")).unwrap();
        assert_eq!(td.family, "sample-fargate");
        assert_eq!((td.cpu_units, td.memory_mib), (Some(256), Some(512)));
        assert_eq!(td.compatibilities, vec!["FARGATE"]);
        assert_eq!(td.network_mode.as_deref(), Some("awsvpc"));
        assert_eq!(td.containers[0].ports, vec![8080]);
        assert!(td.ignored.contains(&"taskRoleArn".to_string()));
        assert_eq!(td.containers[0].host_ports, vec![8080]);
        assert!(
            td.ignored
                .contains(&"containerDefinitions[0].logConfiguration".to_string())
        );
        assert_eq!(td.memory_limit_mib(), Some(512));
    }

    #[test]
    fn unit_strings() {
        assert_eq!(parse_cpu(&Value::from("1 vCPU")).unwrap(), 1024);
        assert_eq!(parse_cpu(&Value::from("0.25 vcpu")).unwrap(), 256);
        assert_eq!(parse_memory(&Value::from("2 GB")).unwrap(), 2048);
        assert_eq!(parse_memory(&Value::from("0.5GB")).unwrap(), 512);
        assert!(parse_cpu(&Value::from("lots")).is_err());
    }

    #[test]
    fn missing_required_fields() {
        assert!(parse("{}", Path::new("x")).unwrap_err().contains("family"));
        assert!(
            parse(r#"{"family":"f"}"#, Path::new("x"))
                .unwrap_err()
                .contains("containerDefinitions")
        );
        assert!(
            parse(
                r#"{"family":"f","containerDefinitions":[{}]}"#,
                Path::new("x")
            )
            .unwrap_err()
            .contains("name")
        );
        assert!(
            parse("not json", Path::new("x"))
                .unwrap_err()
                .contains("JSON")
        );
    }
}
