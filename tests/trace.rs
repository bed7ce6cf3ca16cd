//! Trace import: formats, rescaling, windows, missing buckets, bad rows, and
//! the real NASA-HTTP 1995 trace end to end.

mod common;
use capsim::load::RateFn;
use capsim::time::{DAY, MINUTE, SECOND};
use std::io::Write;
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn trace_scenario(load: &str, duration: &str) -> String {
    format!(
        "name = \"trace\"\nseed = 3\nduration = \"{duration}\"\n[load]\nkind = \"trace\"\n{load}\n[workload]\ncpu_ms = {{ dist = \"exponential\", mean = 5 }}\n[task]\ncpu = 1024\nmemory = 2048\nconcurrency = 8\n[service]\ndesired = 4\n[platform]\nkind = \"ideal\"\n"
    )
}

fn rate(load: &str, duration: &str) -> Result<RateFn, String> {
    let sc =
        common::scenario_with(&trace_scenario(load, duration), &[]).map_err(|e| e.to_string())?;
    sc.compile().map(|c| c.rate).map_err(|e| e.to_string())
}

fn minute_csv(rows: &[&str]) -> String {
    let mut s = String::from("time,requests\n");
    for r in rows {
        s.push_str(r);
        s.push('\n');
    }
    s
}

#[test]
fn csv_counts_per_minute_become_rates() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "t.csv",
        &minute_csv(&[
            "2024-01-01T00:00,60",
            "2024-01-01T00:01,120",
            "2024-01-01T00:02,6000",
        ]),
    );
    let r = rate(
        &format!("file = \"{f}\"\ntime_column = \"time\"\ncolumn = \"requests\"\nbucket = \"1m\""),
        "3m",
    )
    .unwrap();
    assert_eq!(r.rate(0.0), 1.0);
    assert_eq!(r.rate((MINUTE + 1) as f64), 2.0);
    assert_eq!(r.rate((2 * MINUTE) as f64), 100.0);
    // End to end: the per-minute arrivals follow the counts.
    let out = common::run(&trace_scenario(
        &format!("file = \"{f}\"\ncolumn = 1\nbucket = \"1m\""),
        "3m",
    ));
    common::assert_conserved(&out);
    assert_eq!(out.minutes[2].offered_rps, 100.0);
    let n = out.minutes[2].arrived as f64;
    assert!((n - 6000.0).abs() < 5.0 * 6000f64.sqrt(), "{n}");
}

#[test]
fn rescaling_by_peak_mean_and_scale() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "v.txt", "10 20\n30 40\n");
    let peak = rate(
        &format!("file = \"{f}\"\nbucket = \"1s\"\npeak_rps = 400"),
        "4s",
    )
    .unwrap();
    assert_eq!(peak.peak(4 * SECOND), 400.0);
    assert_eq!(peak.rate(0.0), 100.0);
    let mean = rate(
        &format!("file = \"{f}\"\nbucket = \"1s\"\nmean_rps = 50"),
        "4s",
    )
    .unwrap();
    assert!((mean.integral(0, 4 * SECOND) / 4.0 - 50.0).abs() < 1e-9);
    let scaled = rate(
        &format!("file = \"{f}\"\nbucket = \"1s\"\nscale = 0.5"),
        "4s",
    )
    .unwrap();
    assert_eq!(scaled.rate((3 * SECOND) as f64), 20.0);
    let rps = rate(
        &format!("file = \"{f}\"\nbucket = \"1m\"\nunit = \"rps\""),
        "4m",
    )
    .unwrap();
    assert_eq!(rps.rate((MINUTE + 5) as f64), 20.0);
    let both = rate(
        &format!("file = \"{f}\"\nbucket = \"1s\"\nscale = 2\npeak_rps = 3"),
        "4s",
    )
    .unwrap_err();
    assert!(both.contains("at most one"), "{both}");
}

#[test]
fn window_and_repeat() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "v.txt", "1 2 3 4 5 6");
    let w = rate(
        &format!("file = \"{f}\"\nbucket = \"1s\"\nunit = \"rps\"\nstart = \"2s\"\nend = \"5s\""),
        "3s",
    )
    .unwrap();
    assert_eq!(w.rate(0.0), 3.0);
    assert_eq!(w.rate((2 * SECOND) as f64), 5.0);
    let long = rate(&format!("file = \"{f}\"\nbucket = \"1s\""), "10s").unwrap_err();
    assert!(
        long.contains("duration") && long.contains("repeat"),
        "{long}"
    );
    let looped = rate(
        &format!("file = \"{f}\"\nbucket = \"1s\"\nunit = \"rps\"\nrepeat = true"),
        "10s",
    )
    .unwrap();
    assert_eq!(looped.rate((7 * SECOND) as f64), 2.0);
    let misaligned = rate(
        &format!("file = \"{f}\"\nbucket = \"1s\"\nstart = \"1500ms\""),
        "1s",
    )
    .unwrap_err();
    assert!(misaligned.contains("load.start"), "{misaligned}");
}

#[test]
fn missing_buckets_follow_the_policy() {
    let d = tempfile::tempdir().unwrap();
    // Line 3 is empty, and 00:03 is absent (a gap).
    let f = write(
        d.path(),
        "m.csv",
        &minute_csv(&[
            "2024-01-01T00:00,60",
            "2024-01-01T00:01,",
            "2024-01-01T00:02,180",
            "2024-01-01T00:04,300",
        ]),
    );
    let base = format!("file = \"{f}\"\ntime_column = 0\ncolumn = 1\nbucket = \"1m\"");
    let e = rate(&base, "5m").unwrap_err();
    assert!(
        e.contains("m.csv") && e.contains("line 3") && e.contains("load.missing"),
        "{e}"
    );
    let zero = rate(&format!("{base}\nmissing = \"zero\""), "5m").unwrap();
    assert_eq!(zero.rate((MINUTE + 1) as f64), 0.0);
    assert_eq!(zero.rate((3 * MINUTE + 1) as f64), 0.0);
    let hold = rate(&format!("{base}\nmissing = \"hold\""), "5m").unwrap();
    assert_eq!(hold.rate((MINUTE + 1) as f64), 1.0);
    assert_eq!(hold.rate((3 * MINUTE + 1) as f64), 3.0);
    let interp = rate(&format!("{base}\nmissing = \"interpolate\""), "5m").unwrap();
    assert_eq!(interp.rate((MINUTE + 1) as f64), 2.0);
    assert_eq!(interp.rate((3 * MINUTE + 1) as f64), 4.0);
}

#[test]
fn bad_rows_name_the_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let bad = write(
        d.path(),
        "bad.csv",
        &minute_csv(&["2024-01-01T00:00,60", "2024-01-01T00:01,sixty"]),
    );
    let e = rate(
        &format!("file = \"{bad}\"\ntime_column = 0\ncolumn = 1\nbucket = \"1m\""),
        "2m",
    )
    .unwrap_err();
    assert!(
        e.contains("bad.csv") && e.contains("line 3") && e.contains("sixty"),
        "{e}"
    );

    let back = write(
        d.path(),
        "back.csv",
        &minute_csv(&[
            "2024-01-01T00:00,60",
            "2024-01-01T00:02,60",
            "2024-01-01T00:01,60",
        ]),
    );
    let e = rate(
        &format!("file = \"{back}\"\ntime_column = 0\ncolumn = 1\nbucket = \"1m\""),
        "2m",
    )
    .unwrap_err();
    assert!(
        e.contains("back.csv") && e.contains("line 4") && e.contains("increasing"),
        "{e}"
    );

    let neg = write(d.path(), "neg.txt", "1 2\n3 -4\n");
    let e = rate(&format!("file = \"{neg}\"\nbucket = \"1s\""), "2s").unwrap_err();
    assert!(
        e.contains("neg.txt") && e.contains("line 2") && e.contains("-4"),
        "{e}"
    );

    let short = write(
        d.path(),
        "short.csv",
        "time,requests\n2024-01-01T00:00,60\n2024-01-01T00:01\n",
    );
    let e = rate(
        &format!("file = \"{short}\"\ntime_column = 0\ncolumn = 1\nbucket = \"1m\""),
        "1m",
    )
    .unwrap_err();
    assert!(e.contains("short.csv") && e.contains("line 3"), "{e}");

    let nocol = write(d.path(), "nocol.csv", &minute_csv(&["2024-01-01T00:00,60"]));
    let e = rate(
        &format!("file = \"{nocol}\"\ncolumn = \"reqs\"\nbucket = \"1m\""),
        "1m",
    )
    .unwrap_err();
    assert!(e.contains("reqs") && e.contains("requests"), "{e}");

    let e = rate("file = \"no/such/trace.csv\"\nbucket = \"1m\"", "1m").unwrap_err();
    assert!(e.contains("no/such/trace.csv"), "{e}");
}

#[test]
fn gzip_values() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("v.txt.gz");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(b"5 6 7\n").unwrap();
    gz.finish().unwrap();
    let r = rate(
        &format!("file = \"{}\"\nbucket = \"1s\"", p.display()),
        "3s",
    )
    .unwrap();
    assert_eq!(r.rate((2 * SECOND) as f64), 7.0);
}

#[test]
fn nasa_http_1995_replays_end_to_end() {
    let Some(data) = common::reference_data() else {
        println!("skipped: reference data not found (../shared/data or $CAPSIM_REFERENCE_DATA)");
        return;
    };
    let per_minute = data.join("traces/nasa_http_1995_per_minute.csv");
    let per_second = data.join("traces/nasa_http_1995_per_second.txt.gz");

    // Both files read as their README describes: 1995-07-01 had 64,714 requests.
    let day1 = rate(&format!("file = \"{}\"\ntime_column = \"minute_local_edt\"\ncolumn = \"requests\"\nbucket = \"1m\"\nend = \"1d\"", per_minute.display()), "1d").unwrap();
    assert!(
        (day1.integral(0, DAY) - 64_714.0).abs() < 1e-6,
        "{}",
        day1.integral(0, DAY)
    );
    let sec = rate(
        &format!(
            "file = \"{}\"\nbucket = \"1s\"\nend = \"1d\"",
            per_second.display()
        ),
        "1d",
    )
    .unwrap();
    // Index 0 of the per-second file is 00:00:01, so its first day is shifted by a second.
    assert!(
        (sec.integral(0, DAY) - 64_714.0).abs() < 50.0,
        "{}",
        sec.integral(0, DAY)
    );

    // The whole two months, with the uncovered minutes (the gap between the
    // logs and the outage) as zero, rescaled to a 60 req/s peak, replayed.
    let toml = std::fs::read_to_string(common::root().join("scenarios/nasa-trace.toml")).unwrap();
    let sc = common::scenario_with(&toml, &[&format!("load.file=\"{}\"", per_minute.display())])
        .unwrap();
    let out = capsim::run(&sc).unwrap();
    common::assert_conserved(&out);
    let s = &out.summary;
    assert_eq!(
        out.minutes.len(),
        89_280,
        "one row per minute of July and August"
    );
    let expected: f64 = out.minutes.iter().map(|m| m.offered_rps * m.seconds).sum();
    let n = s.requests.arrived as f64;
    assert!(
        (n - expected).abs() < 5.0 * expected.sqrt(),
        "arrived {n}, expected {expected}"
    );
    // The busiest minute is the STS-70 launch, 1995-07-13 09:49 (minute 12 × 1440 + 589).
    let busiest = out
        .minutes
        .iter()
        .max_by(|a, b| a.offered_rps.total_cmp(&b.offered_rps))
        .unwrap();
    assert_eq!(busiest.minute, 12 * 1440 + 9 * 60 + 49);
    assert!((busiest.offered_rps - 60.0).abs() < 1e-9);
    // The Hurricane Erin outage (Aug 1 14:52 – Aug 3 04:36) offers nothing.
    let outage = (31 * 1440 + 16 * 60) as usize;
    assert_eq!(out.minutes[outage].arrived, 0);
}

/// What `aws cloudwatch get-metric-data` prints: newest first, two results.
const METRIC_DATA: &str = r#"{
    "MetricDataResults": [
        {
            "Id": "requests",
            "Label": "RequestCount",
            "Timestamps": [
                "2026-11-02T10:04:00+00:00",
                "2026-11-02T10:03:00+00:00",
                "2026-11-02T10:01:00+00:00",
                "2026-11-02T10:00:00+00:00"
            ],
            "Values": [
                240.0,
                180.0,
                120.0,
                60.0
            ],
            "StatusCode": "Complete"
        },
        {
            "Id": "errors",
            "Label": "HTTPCode_Target_5XX_Count",
            "Timestamps": ["2026-11-02T10:00:00+00:00"],
            "Values": [1.0],
            "StatusCode": "Complete"
        }
    ],
    "Messages": []
}
"#;

#[test]
fn cloudwatch_get_metric_data_replays_with_its_gaps() {
    let d = tempfile::tempdir().unwrap();
    let f = write(d.path(), "cw.json", METRIC_DATA);
    let load =
        |extra: &str| format!("file = \"{f}\"\nformat = \"cloudwatch\"\nbucket = \"1m\"\n{extra}");
    // Two results: the scenario must say which.
    let e = rate(&load(""), "5m").unwrap_err();
    assert!(
        e.contains("requests (RequestCount)") && e.contains("load.column"),
        "{e}"
    );
    // 10:02 has no datapoint: a missing bucket, refused unless filled.
    let e = rate(&load("column = \"RequestCount\""), "5m").unwrap_err();
    // The gap is reported at the datapoint after it (10:03, line 8).
    assert!(e.contains("bucket #3") && e.contains("line 8"), "{e}");
    let r = rate(&load("column = \"requests\"\nmissing = \"zero\""), "5m").unwrap();
    // Sorted oldest first: 60, 120, (none), 180, 240 per minute.
    for (m, want) in [(0, 1.0), (1, 2.0), (2, 0.0), (3, 3.0), (4, 4.0)] {
        assert_eq!(r.rate((m * MINUTE + 1) as f64), want, "minute {m}");
    }
    // The period must be the bucket.
    let e = rate(
        &load("column = \"requests\"").replace("bucket = \"1m\"", "bucket = \"2m\""),
        "6m",
    )
    .unwrap_err();
    assert!(e.contains("not a whole number of buckets"), "{e}");
}

#[test]
fn cloudwatch_get_metric_statistics_and_its_errors() {
    let d = tempfile::tempdir().unwrap();
    let stats = r#"{
    "Label": "RequestCount",
    "Datapoints": [
        { "Timestamp": "2026-11-02T10:01:00Z", "Sum": 600.0, "Average": 2.0, "Unit": "Count" },
        { "Timestamp": "2026-11-02T10:00:00Z", "Sum": 300.0, "Average": 1.0, "Unit": "Count" }
    ]
}"#;
    let f = write(d.path(), "s.json", stats);
    let load = format!("file = \"{f}\"\nformat = \"cloudwatch\"\nbucket = \"1m\"");
    // Sum is the default statistic when present.
    let r = rate(&load, "2m").unwrap();
    assert_eq!((r.rate(1.0), r.rate((MINUTE + 1) as f64)), (5.0, 10.0));
    let r = rate(
        &format!("{load}\ncolumn = \"Average\"\nunit = \"rps\""),
        "2m",
    )
    .unwrap();
    assert_eq!(r.rate(1.0), 1.0);
    let e = rate(&format!("{load}\ncolumn = \"p99\""), "2m").unwrap_err();
    assert!(e.contains("no p99") && e.contains("line 4"), "{e}");
    for (bad, column, want) in [
        (
            stats.replace("10:00:00Z", "10:01:00Z"),
            "Sum",
            "a second datapoint",
        ),
        (stats.replace("10:00:00Z", "10:00:00"), "Sum", "UTC offset"),
        (stats.replace("300.0", "-3"), "Sum", "≥ 0"),
        ("{\"Metrics\": []}".to_string(), "Sum", "get-metric-data"),
        ("{ not json".to_string(), "Sum", "line 1"),
        (
            METRIC_DATA.replace("\"Complete\"", "\"PartialData\""),
            "requests",
            "NextToken",
        ),
    ] {
        let f = write(d.path(), "bad.json", &bad);
        let e = rate(
            &format!(
                "file = \"{f}\"\nformat = \"cloudwatch\"\nbucket = \"1m\"\ncolumn = \"{column}\""
            ),
            "2m",
        )
        .unwrap_err();
        assert!(e.contains(want) && e.contains("bad.json"), "{want}: {e}");
    }
}

#[test]
fn csv_times_with_a_utc_offset_are_instants() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "t.csv",
        &minute_csv(&["2024-01-01T01:00:00+01:00,60", "2024-01-01T00:01:00Z,120"]),
    );
    let r = rate(
        &format!("file = \"{f}\"\ntime_column = \"time\"\ncolumn = \"requests\"\nbucket = \"1m\""),
        "2m",
    )
    .unwrap();
    assert_eq!((r.rate(1.0), r.rate((MINUTE + 1) as f64)), (1.0, 2.0));
}
