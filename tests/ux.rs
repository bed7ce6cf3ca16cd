//! The three questions users bring, asked end to end through the binary on
//! the bundled scenarios: every output must end in the answer.
//!
//! 1. Architect: which platform is cheapest while meeting the p99 SLO?
//! 2. Finance: what will this service cost next month, and how sure is it?
//! 3. Autoscaling tuner: which target value keeps p99 under the SLO at
//!    least cost?

mod common;
use std::path::Path;
use std::process::{Command, Output};

fn capsim(args: &[&str], cwd: &Path) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_capsim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "capsim {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn quickstart() -> String {
    common::root()
        .join("scenarios/quickstart.toml")
        .display()
        .to_string()
}

/// The fields of one CSV line (quoted fields may hold commas; no newlines
/// inside fields in these files).
fn fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Column `name` of data row `row` of a CSV text.
fn cell(csv: &str, row: usize, name: &str) -> String {
    let mut lines = csv.lines();
    let head = fields(lines.next().unwrap());
    let i = head
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {head:?}"));
    fields(lines.nth(row).unwrap()).swap_remove(i)
}

#[test]
fn an_architect_learns_which_platform_meets_the_slo_at_least_cost() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("cmp");
    let o = capsim(
        &[
            "compare",
            &quickstart(),
            "--platforms",
            "fargate,ecs-ec2",
            "--set",
            "duration=6h",
            "--out",
            out.to_str().unwrap(),
        ],
        d.path(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let first = text.lines().next().unwrap();
    // The answer comes first: a winner, or that none meets the SLO.
    assert!(
        first.contains("meets the SLO at the least cost") || first.contains("No option meets"),
        "{text}"
    );
    // Each option is judged, with its reason when it fails.
    for p in ["fargate", "ecs-ec2"] {
        assert!(
            text.lines().any(
                |l| l.starts_with(p) && (l.contains("fails") || l.contains("meets"))
                    || first.starts_with(p)
            ),
            "{p} is not judged:\n{text}"
        );
    }
    // Fair start: the EC2 option begins warm, with a cluster that holds
    // the initial tasks, so it loses no request at the start.
    let csv = std::fs::read_to_string(out.join("compare.csv")).unwrap();
    let row = csv
        .lines()
        .skip(1)
        .position(|l| l.starts_with("ecs-ec2"))
        .unwrap();
    assert_eq!(cell(&csv, row, "rejected"), "0", "{csv}");
    assert_eq!(cell(&csv, row, "timed_out"), "0", "{csv}");
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    for needle in [
        "<h2>Answer</h2>",
        "What each option ran with",
        "rejected",
        "timed out",
        "The monthly figures are projections",
    ] {
        assert!(page.contains(needle), "the compare page lacks {needle:?}");
    }
    // In a real browser the page shows the same answer and paints.
    let Some(browser) = common::chromium() else {
        assert!(
            std::env::var_os("CAPSIM_REQUIRE_BROWSER").is_none(),
            "CAPSIM_REQUIRE_BROWSER is set but no Chromium was found"
        );
        println!("skipped: the browser check (no Chromium found)");
        return;
    };
    let url = format!("file://{}", out.join("index.html").display());
    let profile = d.path().join("profile");
    let dom = common::headless(&browser, &profile)
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(dom.status.success());
    let dom = String::from_utf8_lossy(&dom.stdout);
    let answer = first.split(':').next().unwrap();
    assert!(
        dom.contains(&answer.replace('&', "&amp;")),
        "the rendered page does not state {answer:?}"
    );
    let shot = d.path().join("compare.png");
    let o = common::headless(&browser, &profile)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1300,2400")
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
fn finance_gets_a_monthly_figure_and_is_told_when_it_is_a_stretch() {
    let d = tempfile::tempdir().unwrap();
    // A whole day of the daily cycle: a projection without caveat.
    let day = capsim(&["run", &quickstart(), "--json", "--quiet"], d.path());
    let day: serde_json::Value = serde_json::from_slice(&day.stdout).unwrap();
    let monthly = day["cost_usd"]["monthly_projection"].as_f64().unwrap();
    assert!(monthly > 0.0);
    let caveat = |v: &serde_json::Value| {
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("monthly projection:"))
    };
    assert!(!caveat(&day), "{}", day["notes"]);
    assert!(day["slo"]["meets"].is_boolean(), "a verdict is given");
    // Six hours of it: the projection is flagged, in the summary, on the
    // terminal and on the page.
    let o = capsim(
        &["run", &quickstart(), "--set", "duration=6h", "--out", "six"],
        d.path(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("see the monthly projection note"), "{text}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("monthly projection:"));
    let page = std::fs::read_to_string(d.path().join("six/index.html")).unwrap();
    assert!(page.contains("per 730 h — ⚠ monthly projection:"));
    let six: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("six/summary.json")).unwrap())
            .unwrap();
    assert!(caveat(&six));
    // The six night-and-morning hours project far below the whole day:
    // exactly the error the caveat warns about.
    assert!(six["cost_usd"]["monthly_projection"].as_f64().unwrap() < monthly * 0.8);
}

#[test]
fn a_tuner_learns_which_target_value_meets_the_slo_at_least_cost() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("sweep.toml"),
        format!(
            "base = {:?}\nname = \"tuning\"\n[sweep]\nreplications = 2\nautoscaling.target_value = [50, 70, 90]\nduration = [\"3h\"]\n",
            quickstart()
        ),
    )
    .unwrap();
    let o = capsim(
        &["sweep", "sweep.toml", "--out", "tuning", "--quiet"],
        d.path(),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("is the cheapest point that meets the SLO in every replication")
            || text.contains("No point meets the SLO"),
        "{text}"
    );
    assert!(text.contains("Only 2 replication(s)"), "{text}");
    let page = std::fs::read_to_string(d.path().join("tuning/index.html")).unwrap();
    assert!(page.contains("<h2>Answer</h2>"));
    assert!(page.contains("simulation noise only"));
    let csv = std::fs::read_to_string(d.path().join("tuning/points.csv")).unwrap();
    let verdicts: Vec<String> = (0..3).map(|r| cell(&csv, r, "slo_meets")).collect();
    assert!(
        verdicts.iter().all(|v| v == "true" || v == "false"),
        "{verdicts:?}"
    );
}
