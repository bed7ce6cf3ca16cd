//! Replays the fuzz targets' checked-in corpus (`fuzz/corpus/<target>/`)
//! and every crash the fuzzer ever found (`fuzz/regressions/<target>/`)
//! through the same entry points the fuzzer drives: none may panic. The
//! coverage-guided runs themselves are `fuzz/run.sh`.

use capsim::fuzz::Reached;
use std::path::Path;

fn replay(target: &str, f: fn(&[u8]) -> Reached) -> Vec<(String, Reached)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut seen = Vec::new();
    for folder in ["corpus", "regressions"] {
        let dir = root.join(folder).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            match std::panic::catch_unwind(|| f(&data)) {
                Ok(r) => seen.push((file.file_name().unwrap().to_string_lossy().into_owned(), r)),
                Err(_) => panic!("{} panicked", file.display()),
            }
        }
    }
    assert!(!seen.is_empty(), "no corpus for the {target} target");
    seen
}

/// Every seed named here must get as far as it says: a seed that no longer
/// parses (the format moved on) would leave the fuzzer at the surface.
fn assert_reached(seen: &[(String, Reached)], want: &[(&str, Reached)]) {
    for (name, r) in want {
        let got = seen.iter().find(|(n, _)| n == name).map(|(_, r)| *r);
        assert_eq!(got, Some(*r), "seed {name}: {seen:?}");
    }
}

#[test]
fn scenario_corpus() {
    let seen = replay("scenario", capsim::fuzz::scenario);
    let all: Vec<(&str, Reached)> = [
        "ec2-web-api",
        "eks-fargate-web-api",
        "eks-web-api",
        "fargate-spot-web-api",
        "fargate-step-scaling",
        "mmc",
        "quickstart",
        "quickstart-fluid",
        "ec2-fluid-surge",
        "shared-cluster",
    ]
    .into_iter()
    .map(|n| (n, Reached::Ran))
    .collect();
    assert_reached(&seen, &all);
}

#[test]
fn trace_corpus() {
    let seen = replay("trace", capsim::fuzz::trace);
    let ran = Reached::Ran;
    assert_reached(
        &seen,
        &[
            ("values", ran),
            ("values-bom", ran),
            ("csv-header", ran),
            ("csv-missing-error", Reached::Refused),
            ("parquet", ran),
            ("csv-hold", ran),
            ("csv-interpolate", ran),
            ("csv-named", ran),
            ("csv-noheader", ran),
            ("csv-gzip", ran),
            ("csv-gzip-raw", ran),
            ("values-1s-rps-peak", ran),
            ("csv-window-scale", ran),
        ],
    );
}

#[test]
fn task_definition_corpus() {
    let seen = replay("task_definition", capsim::fuzz::task_definition);
    let ran = Reached::Ran;
    assert_reached(
        &seen,
        &[
            ("register", ran),
            ("describe", ran),
            ("ec2-bridge", ran),
            ("fargate-units", ran),
        ],
    );
}

#[test]
fn shards_corpus() {
    let seen = replay("shards", capsim::fuzz::shards);
    // Half a sweep is refused (jobs missing); the whole one is accepted.
    assert_reached(
        &seen,
        &[
            ("sh0", Reached::Refused),
            ("sh1", Reached::Refused),
            ("whole", Reached::Accepted),
        ],
    );
}
