//! Fargate's rules: the valid task sizes.
//!
//! Source: AWS ECS TaskDefinition `memory` documentation (awsdocs/amazon-ecs-developer-guide
//! `doc_source/task-cpu-memory-error.md` @49232cf, and the current copy on docs.amazonaws.cn),
//! as tabulated in shared/reference/aws.md §1.1 and shared/data/catalogs/fargate_task_sizes.csv:
//! 74 CPU/memory pairs on Linux; Windows only the 1, 2 and 4 vCPU rows.

/// Valid memory values (MiB) for a Fargate task CPU size (CPU units), Linux.
pub fn valid_memory_mib(cpu_units: u32) -> Option<Vec<u32>> {
    let gib = |from: u32, to: u32, step: u32| {
        (from..=to)
            .step_by(step as usize)
            .map(|g| g * 1024)
            .collect::<Vec<u32>>()
    };
    Some(match cpu_units {
        256 => vec![512, 1024, 2048],
        512 => gib(1, 4, 1),
        1024 => gib(2, 8, 1),
        2048 => gib(4, 16, 1),
        4096 => gib(8, 30, 1),
        8192 => gib(16, 60, 4),
        16384 => gib(32, 120, 8),
        _ => return None,
    })
}

/// CPU sizes Fargate offers (CPU units) for an OS.
pub fn valid_cpu_units(windows: bool) -> &'static [u32] {
    if windows {
        &[1024, 2048, 4096]
    } else {
        &[256, 512, 1024, 2048, 4096, 8192, 16384]
    }
}

/// Checks a size; the error names the valid values.
pub fn check_size(cpu_units: u32, memory_mib: u32, windows: bool) -> Result<(), String> {
    let cpus = valid_cpu_units(windows);
    let os = if windows { "Windows" } else { "Linux" };
    if !cpus.contains(&cpu_units) {
        return Err(format!(
            "Fargate ({os}) has no task size with {cpu_units} CPU units; valid CPU values are {}",
            cpus.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mems = valid_memory_mib(cpu_units).expect("listed CPU sizes have memory values");
    if !mems.contains(&memory_mib) {
        return Err(format!(
            "Fargate has no {cpu_units} CPU / {memory_mib} MiB task; with cpu = {cpu_units} the valid memory values (MiB) are {}",
            mems.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seventy_four_linux_sizes() {
        let n: usize = valid_cpu_units(false)
            .iter()
            .map(|c| valid_memory_mib(*c).unwrap().len())
            .sum();
        assert_eq!(n, 74);
    }

    #[test]
    fn matches_the_shared_catalog_when_present() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/catalogs/fargate_task_sizes.csv");
        let Ok(text) = std::fs::read_to_string(&path) else {
            println!("skipped: reference data not found ({})", path.display());
            return;
        };
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let (cpu, mem): (u32, u32) = (f[0].parse().unwrap(), f[2].parse().unwrap());
            assert!(check_size(cpu, mem, false).is_ok(), "{cpu}/{mem}");
            rows += 1;
        }
        assert_eq!(rows, 74);
    }

    #[test]
    fn invalid_sizes_name_the_valid_values() {
        let e = check_size(256, 4096, false).unwrap_err();
        assert!(e.contains("512, 1024, 2048"), "{e}");
        let e = check_size(300, 512, false).unwrap_err();
        assert!(e.contains("256, 512, 1024"), "{e}");
        assert!(check_size(256, 512, true).is_err());
        assert!(check_size(1024, 2048, true).is_ok());
    }
}
