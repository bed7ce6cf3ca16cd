//! Reports: run charts and pages, escaping of scenario text, `compare`, a
//! Parquet trace, and the page rendered by headless Chromium.

mod common;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scenario() -> String {
    common::step_fargate("<script>alert(1)</script>", "30m", 250)
}

const CHARTS: [&str; 4] = ["demand", "latency", "tasks", "cost"];

fn capsim(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap()
}

fn run_report() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("s.toml"), scenario()).unwrap();
    let o = capsim(&["run", "s.toml"], d.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reports = d.path().join("reports");
    let dirs: Vec<PathBuf> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1);
    let dir = dirs[0].clone();
    (d, dir)
}

#[test]
fn run_report_has_every_chart_and_escapes_the_name() {
    let (_d, dir) = run_report();
    for c in CHARTS {
        let svg = std::fs::read_to_string(dir.join(format!("{c}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.len() > 2_000, "{c}.svg");
        let png = std::fs::read(dir.join(format!("{c}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{c}.png");
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for c in CHARTS {
        assert!(
            html.contains(&format!("id=\"chart-{c}\"")),
            "chart {c} missing from the page"
        );
    }
    assert_eq!(html.matches("<svg").count(), CHARTS.len());
    assert!(!html.contains("<script"), "scenario text must be escaped");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Self-contained: nothing for the browser to fetch.
    for fetch in ["src=", "<link", "@import", "url("] {
        assert!(
            !html.contains(fetch),
            "the page would fetch something: {fetch}"
        );
    }
    for f in [
        "summary.json",
        "timeseries.csv",
        "timeseries.parquet",
        "decisions.csv",
        "tasks.csv",
    ] {
        assert!(html.contains(&format!("href=\"{f}\"")), "link to {f}");
        assert!(dir.join(f).is_file(), "{f} written");
    }
    assert!(html.contains("0.04048"), "prices appear in the assumptions");
    // The run's time series as Parquet, typed.
    let ts =
        capsim::report::tables::read_parquet(&dir.join("timeseries.parquet"), 1_000_000).unwrap();
    assert_eq!(ts.height(), 30);
    assert_eq!(
        ts.column("arrived").unwrap().dtype(),
        &polars::prelude::DataType::Int64
    );
    assert_eq!(
        ts.column("offered_rps").unwrap().dtype(),
        &polars::prelude::DataType::Float64
    );
}

#[test]
fn the_page_renders_in_headless_chromium() {
    let Some(browser) = common::chromium() else {
        // CI sets CAPSIM_REQUIRE_BROWSER so that a missing browser fails there.
        assert!(
            std::env::var_os("CAPSIM_REQUIRE_BROWSER").is_none(),
            "CAPSIM_REQUIRE_BROWSER is set but no Chromium was found"
        );
        println!(
            "skipped: no Chromium found (install the Debian package `chromium`, or set CAPSIM_CHROMIUM)"
        );
        return;
    };
    let (d, dir) = run_report();
    let url = format!("file://{}", dir.join("index.html").display());
    let profile = d.path().join("profile");
    let dom = common::headless(&browser, &profile)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The browser parsed the whole page: every chart is an SVG element in the DOM.
    for c in CHARTS {
        assert!(
            dom.contains(&format!("id=\"chart-{c}\"")),
            "chart {c} not in the rendered DOM"
        );
    }
    assert!(dom.matches("<svg").count() >= CHARTS.len());
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name stays text in the DOM"
    );
    assert!(
        !dom.contains("<script>alert"),
        "no script element was created"
    );
    // And it paints: the screenshot is a real, non-blank image.
    let shot = d.path().join("shot.png");
    let o = common::headless(&browser, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,3000")
        .arg(&url)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "screenshot of {} bytes",
        png.len()
    );
}

#[test]
fn compare_runs_modelled_platforms_and_refuses_unknown_ones() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("s.toml"),
        scenario().replace("<script>alert(1)</script>", "cmp"),
    )
    .unwrap();
    let o = capsim(
        &["compare", "s.toml", "--platforms", "fargate,eks-autopilot"],
        d.path(),
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("unknown platform \"eks-autopilot\"") && e.contains("eks-karpenter"),
        "{e}"
    );
    let o = capsim(
        &[
            "compare",
            "s.toml",
            "--platforms",
            "fargate,fargate-spot,ideal",
            "--out",
            "cmp",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("fargate-spot") && table.contains("monthly USD"),
        "{table}"
    );
    let dir = d.path().join("cmp");
    let df = capsim::report::tables::read_parquet(&dir.join("compare.parquet"), 1_000_000).unwrap();
    assert_eq!(df.height(), 3);
    for c in [
        "platform",
        "monthly_cost_usd",
        "cost_per_million_requests_usd",
        "latency_p99_ms",
        "slo_breach_minutes",
        "scaling_lag_mean_s",
        "idle_cost_usd",
        "notes",
    ] {
        assert!(df.column(c).is_ok(), "compare table lacks {c}");
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(html.contains("id=\"chart-compare\""));
    for p in ["fargate", "fargate-spot", "ideal"] {
        assert!(dir.join(p).join("index.html").is_file(), "{p} report");
    }
    // The ideal platform costs nothing; Spot costs less than on-demand.
    let cost = |p: &str| {
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(p).join("summary.json")).unwrap(),
        )
        .unwrap();
        s["cost_usd"]["total"].as_f64().unwrap()
    };
    assert_eq!(cost("ideal"), 0.0);
    // Scaling on the ideal platform is instant but still measured.
    let ideal: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("ideal").join("summary.json")).unwrap(),
    )
    .unwrap();
    assert!(ideal["scaling"]["scale_out_events"].as_u64().unwrap() > 0);
    assert!(
        ideal["scaling"]["lag_s"]["mean"].is_number(),
        "{}",
        ideal["scaling"]
    );
    assert!(cost("fargate-spot") < cost("fargate"));
}

#[test]
fn parquet_traces_are_read_like_csv() {
    let d = tempfile::tempdir().unwrap();
    let recs: Vec<Vec<(String, serde_json::Value)>> = (0..3)
        .map(|i| {
            vec![
                ("t".to_string(), serde_json::json!(i * 60)),
                ("requests".to_string(), serde_json::json!(60 * (i + 1))),
            ]
        })
        .collect();
    capsim::report::tables::Table::from_records(recs)
        .write(d.path(), "trace")
        .unwrap();
    let toml = common::basic(
        "kind = \"trace\"\nfile = \"trace.parquet\"\ntime_column = \"t\"\ncolumn = \"requests\"\nbucket = \"1m\"",
        "cpu_ms = { dist = \"constant\", value = 1 }",
        "cpu = 1024\nmemory = 2048\nconcurrency = 4",
        "desired = 1",
    )
    .replace("duration = \"10m\"", "duration = \"3m\"");
    let sc = capsim::Scenario::from_toml_str(&toml, d.path(), Path::new("t.toml"), &[]).unwrap();
    let rate = sc.compile().unwrap().rate;
    assert_eq!(rate.rate(0.0), 1.0);
    assert_eq!(rate.rate(61e6), 2.0);
    assert_eq!(rate.rate(150e6), 3.0);
}

#[test]
fn the_shared_cluster_page_renders_in_headless_chromium() {
    let Some(browser) = common::chromium() else {
        assert!(
            std::env::var_os("CAPSIM_REQUIRE_BROWSER").is_none(),
            "CAPSIM_REQUIRE_BROWSER is set but no Chromium was found"
        );
        println!("skipped: no Chromium found");
        return;
    };
    // Two services, one with markup in its name: it must stay text.
    let text = std::fs::read_to_string(common::root().join("scenarios/shared-cluster.toml"))
        .unwrap()
        .replace("[services.accounts.", "[services.\"<i>accounts</i>\".");
    let capsim::scenario::Loaded::Shared(sc) = capsim::scenario::load_str(
        &text,
        &common::root().join("scenarios"),
        Path::new("shared.toml"),
        &["duration=\"1h\"".to_string()],
    )
    .unwrap() else {
        panic!("a shared scenario");
    };
    let mut out = capsim::run_shared_scenario(&sc).unwrap();
    let alone = capsim::run_alone(&sc).unwrap();
    capsim::report::add_alone(&mut out.cluster, &alone);
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("shared");
    capsim::report::write_shared(&dir, &out).unwrap();
    let folder = capsim::scenario::safe_name("<i>accounts</i>");
    assert!(folder.starts_with("_i_accounts__i_-"), "{folder}");
    assert!(dir.join(folder).join("index.html").is_file());
    let url = format!("file://{}", dir.join("index.html").display());
    let dom = common::headless(&browser, &d.path().join("profile"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    for id in ["chart-tasks", "chart-cost"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id} not in the DOM");
    }
    assert!(dom.contains("Each service on its own cluster"));
    assert!(
        dom.contains("&lt;i&gt;accounts&lt;/i&gt;"),
        "the name stays text"
    );
    assert!(
        !dom.contains("<i>accounts</i>"),
        "no element was created from a name"
    );
}

/// "Why didn't it scale at 00:12?" has an answer: a row per evaluation per
/// policy, each datapoint labelled with its minute, and the alarm's 3-of-3
/// wait as its own lag stage.
#[test]
fn the_decision_log_has_a_row_for_every_minute() {
    let out = common::run(&common::step_fargate("log", "30m", 250));
    let rows: Vec<_> = out
        .decisions
        .iter()
        .filter(|d| d.policy == "target-tracking")
        .collect();
    // Evaluations every minute once the first datapoint is published
    // (3 min 3 s after the first minute ends): 00:04:03 … 00:29:03.
    let times: Vec<f64> = rows.iter().map(|d| d.time_s).collect();
    assert_eq!(times.len(), 26, "{times:?}");
    assert!(times.windows(2).all(|w| w[1] - w[0] == 60.0), "{times:?}");
    let at = |clock: &str| rows.iter().find(|d| d.clock == clock).unwrap();
    let r = at("d0 00:12:03");
    // Each datapoint names the minute it measures.
    assert!(
        r.datapoints.starts_with("00:06=") && r.datapoints.contains(";00:08="),
        "{}",
        r.datapoints
    );
    assert!(!r.reason.is_empty());
    for d in &rows {
        assert!(
            !(d.reason.starts_with("suppressed: scale-in cooldown")
                && d.proposed.is_some_and(|p| p >= d.old_desired)),
            "a row that proposed no scale-in blames the cooldown: {d:?}"
        );
    }
    // The step at 5 min opens an episode; the 3-of-3 alarm waits two more
    // minutes after its first breaching datapoint.
    let st = &out.summary.scaling.stages_s;
    assert!(
        (st.alarm_datapoints - 120.0).abs() < 1e-6,
        "alarm datapoints {} s",
        st.alarm_datapoints
    );
    assert!(st.metric_period <= 60.0 + 1e-6, "{st:?}");
    assert!((st.total() - out.summary.scaling.lag_s.mean.unwrap()).abs() < 1e-6);
}

#[test]
fn decisions_changes_keeps_only_rows_where_something_breached() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("s.toml"), scenario()).unwrap();
    let lines = |args: &[&str]| {
        let o = capsim(args, d.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = args.iter().skip_while(|a| **a != "--out").nth(1).unwrap();
        std::fs::read_to_string(d.path().join(out).join("decisions.csv"))
            .unwrap()
            .lines()
            .count()
    };
    let all = lines(&["run", "s.toml", "--out", "all"]);
    let changes = lines(&["run", "s.toml", "--out", "ch", "--decisions", "changes"]);
    assert!(changes < all && changes > 1, "{changes} of {all}");
}
