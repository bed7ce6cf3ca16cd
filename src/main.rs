//! The `capsim` command: parses arguments, calls the library, prints.

use anyhow::{Context, Result};
use capsim::scenario::Loaded;
use capsim::{Scenario, report};
use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "capsim",
    version,
    about = "Capacity-planning and cost simulator for containers on AWS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario: print a summary, write summary.json and timeseries.csv.
    Run {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Seed (overrides the scenario's `seed`; 0 to 2^63-1, as TOML integers are signed).
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
        seed: Option<u64>,
        /// Override a scenario key, e.g. --set load.rps=800 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Output directory. Default: reports/<scenario name>/.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print exactly the summary JSON on stdout, nothing else.
        #[arg(long)]
        json: bool,
        /// Services sharing a cluster: also run each alone on its own copy
        /// of the cluster, and report what sharing saves.
        #[arg(long)]
        alone: bool,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// decisions.csv: a row per evaluation per policy (`all`), or only
        /// the evaluations where a datapoint breached (`changes`).
        #[arg(long, value_enum, default_value_t = Decisions::All)]
        decisions: Decisions,
        /// Run even what would take hours or exhaust memory (see README: limits).
        #[arg(long)]
        force: bool,
    },
    /// Check a scenario (and the files it names) without running it.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Override a scenario key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A sweep with invalid points is still "ok" (they become failed jobs).
        #[arg(long)]
        allow_invalid: bool,
        /// Run even what would take hours or exhaust memory (see README: limits).
        #[arg(long)]
        force: bool,
    },
    /// Run a sweep (a scenario with [sweep], or a sweep file) in parallel.
    Sweep {
        /// Sweep file (TOML).
        file: PathBuf,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Output directory. Default: reports/<sweep name>/.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only shard K of N (0-based K, e.g. 0/4); writes a shard to merge.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Number of shards, with the index read from JOB_COMPLETION_INDEX
        /// (Kubernetes Indexed Job) or AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch).
        #[arg(long, value_name = "N", conflicts_with = "shard")]
        shards: Option<usize>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// Exit 0 even when some jobs failed (they are rows with their reason).
        #[arg(long)]
        allow_failures: bool,
        /// Run even what would take hours or exhaust memory (see README: limits).
        #[arg(long)]
        force: bool,
    },
    /// Merge shard directories into one sweep result.
    Merge {
        /// Shard directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Exit 0 even when some jobs failed.
        #[arg(long)]
        allow_failures: bool,
    },
    /// Run the same service and load on several platforms and compare them.
    Compare {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Comma-separated platforms (ideal, fargate, fargate-spot, ecs-ec2,
        /// eks-nodegroup, eks-karpenter, eks-fargate).
        #[arg(long, value_delimiter = ',', required = true)]
        platforms: Vec<String>,
        /// Seed (overrides the scenario's `seed`).
        #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
        seed: Option<u64>,
        /// Override a scenario key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Output directory. Default: reports/<scenario name>-compare/.
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long)]
        quiet: bool,
        /// decisions.csv of each option: `all` or `changes` (as for `run`).
        #[arg(long, value_enum, default_value_t = Decisions::All)]
        decisions: Decisions,
        /// Run even what would take hours or exhaust memory (see README: limits).
        #[arg(long)]
        force: bool,
    },
    /// Write a scenario from what describes your service already.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A service built by hand, from saved AWS CLI output.
    Ecs {
        /// `aws ecs describe-services --cluster C --services S` output.
        #[arg(long)]
        services: PathBuf,
        /// `aws ecs describe-task-definition --task-definition T` output
        /// (referenced by the scenario as it is).
        #[arg(long)]
        task_definition: PathBuf,
        /// `aws application-autoscaling describe-scalable-targets --service-namespace ecs` output.
        #[arg(long)]
        scalable_targets: Option<PathBuf>,
        /// `aws application-autoscaling describe-scaling-policies --service-namespace ecs` output.
        #[arg(long)]
        scaling_policies: Option<PathBuf>,
        /// `aws cloudwatch describe-alarms` output (the alarms of step policies).
        #[arg(long)]
        alarms: Option<PathBuf>,
        /// The service to import when the file holds several.
        #[arg(long)]
        service: Option<String>,
        /// The scenario file to write.
        #[arg(long)]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// A Terraform module: its ECS service, task definition and autoscaling.
    Terraform {
        /// The module's folder (its `*.tf`) or one `.tf` file.
        path: PathBuf,
        /// The scenario file to write (the task definition goes beside it,
        /// as `<name>.task-definition.json`).
        #[arg(long)]
        out: PathBuf,
        /// A variable's value, `name=value` (repeatable).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// A `.tfvars` file (repeatable; later ones win, `--var` wins over all).
        #[arg(long = "var-file")]
        var_files: Vec<PathBuf>,
        /// The `aws_ecs_service` to import when the module has several.
        #[arg(long)]
        service: Option<String>,
        /// EKS: the Kubernetes YAML of the pod (its Deployment and HPA),
        /// named in the scenario as given.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Replace the files if they exist.
        #[arg(long)]
        force: bool,
    },
    /// A CloudFormation template (JSON or YAML): its ECS service, task
    /// definition and autoscaling.
    Cloudformation {
        /// The template.
        template: PathBuf,
        /// The scenario file to write (the task definition goes beside it).
        #[arg(long)]
        out: PathBuf,
        /// A parameter's value, `Name=Value` (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// `AWS::Region` (and the scenario's region).
        #[arg(long)]
        region: Option<String>,
        /// The `AWS::ECS::Service` (logical id) when there are several.
        #[arg(long)]
        service: Option<String>,
        /// Replace the files if they exist.
        #[arg(long)]
        force: bool,
    },
    /// An ALB's access logs: a per-second trace and the workload fitted to
    /// the measured processing times.
    AlbLogs {
        /// A log file, or a folder of them (as AWS writes them; .gz read).
        path: PathBuf,
        /// Output folder (trace.csv, workload.toml, a Q-Q plot, index.html).
        #[arg(long)]
        out: PathBuf,
        /// Share of the processing time that is CPU (the rest: waiting).
        #[arg(long, default_value_t = 0.5)]
        cpu_share: f64,
        /// Write into the folder even if it holds files.
        #[arg(long)]
        force: bool,
    },
}

/// Which rows of the decision log to keep.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Decisions {
    /// Every evaluation of every policy.
    All,
    /// Evaluations where some datapoint breached, or something changed.
    Changes,
}

impl Decisions {
    fn apply(self, rows: &mut Vec<capsim::scaling::Decision>) {
        if self == Decisions::Changes {
            rows.retain(|d| !d.is_quiet());
        }
    }
}

/// A simulated clock: `3d 04:05:06` or `04:05:06`.
fn clock(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// A progress bar over simulated time (seconds), on a terminal only.
fn sim_bar(end_us: u64, quiet: bool, prefix: String) -> indicatif::ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let b = indicatif::ProgressBar::new(end_us.div_ceil(1_000_000));
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} {bar:40} simulated {sim} of {simlen}  ETA {eta}",
        )
        .expect("a valid template")
        .with_key(
            "sim",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&clock(s.pos()));
            },
        )
        .with_key(
            "simlen",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&clock(s.len().unwrap_or(0)));
            },
        ),
    );
    b.set_prefix(prefix);
    b
}

fn overrides(set: &[String], seed: Option<u64>) -> Vec<String> {
    let mut overrides = set.to_vec();
    if let Some(s) = seed {
        overrides.push(format!("seed={s}"));
    }
    overrides
}

fn load(path: &std::path::Path, set: &[String], seed: Option<u64>) -> Result<Scenario> {
    Ok(Scenario::load(path, &overrides(set, seed))?)
}

/// Whether a file is a sweep (has a `[sweep]` table), judged leniently:
/// a file that does not parse is left to the scenario loader to report.
fn is_sweep(path: &std::path::Path) -> bool {
    capsim::input::read_text(path, capsim::input::MAX_TEXT_BYTES)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
        .is_some_and(|t| t.contains_key("sweep"))
}

/// A note as printed on stderr: `warning: …` for the scenario's warnings,
/// `note: …` for the others; a service's name after it when there are several.
fn note_line(service: Option<&str>, n: &str) -> String {
    let (kind, text) = match n.strip_prefix("warning: ") {
        Some(w) => ("warning", w),
        None => ("note", n),
    };
    match service {
        Some(s) => format!("{kind}: {s}: {text}"),
        None => format!("{kind}: {text}"),
    }
}

fn main() -> ExitCode {
    // A panic inside the Parquet reader on a damaged file is contained and
    // reported as an error naming the file: say nothing more about it.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !capsim::report::tables::parquet_panic_contained() {
            default_hook(info);
        }
    }));
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Writes an imported scenario and the task definition beside it (never
/// over files unless `force`), prints what was ignored, and validates it.
fn write_import(
    out: &std::path::Path,
    force: bool,
    build: impl FnOnce(
        &str,
    )
        -> Result<(capsim::import::Imported, Option<serde_json::Value>), capsim::Error>,
) -> Result<()> {
    let stem = out.file_stem().map_or_else(
        || "scenario".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let td_name = format!("{stem}.task-definition.json");
    let td_path = out.with_file_name(&td_name);
    for f in [out, td_path.as_path()] {
        if f.exists() && !force {
            anyhow::bail!(
                "{} exists: choose another --out, or pass --force to replace it",
                f.display()
            );
        }
    }
    let (imported, task_definition) = build(&td_name)?;
    let mut files = vec![(out, imported.toml.clone())];
    if let Some(td) = &task_definition {
        files.insert(0, (td_path.as_path(), serde_json::to_string_pretty(td)?));
    }
    for (f, text) in files {
        capsim::report::fsio::write(f, text.as_bytes()).map_err(|error| capsim::Error::Output {
            path: f.to_path_buf(),
            error,
        })?;
    }
    for i in &imported.ignored {
        eprintln!("ignored: {i}");
    }
    let sc = match capsim::scenario::load(out, &[])? {
        Loaded::Single(sc) => *sc,
        Loaded::Shared(_) => unreachable!("an import writes one service"),
    };
    let c = sc.compile()?;
    for n in &c.notes {
        eprintln!("{}", note_line(None, n));
    }
    println!(
        "{}{}: written and valid — \"{}\", {} on {}; set the PLACEHOLDER values (the load and the workload) before trusting its figures",
        out.display(),
        if task_definition.is_some() {
            format!(" and {}", td_path.display())
        } else {
            String::new()
        },
        sc.name,
        sc.platform.kind(),
        sc.region
    );
    Ok(())
}

/// `NAME=VALUE` pairs.
fn pairs(flag: &str, items: &[String]) -> Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|v| {
            v.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| anyhow::anyhow!("{flag} {v}: expected NAME=VALUE"))
        })
        .collect()
}

fn real_main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Import {
            what:
                ImportCommand::Terraform {
                    path,
                    out,
                    vars,
                    var_files,
                    service,
                    manifest,
                    force,
                },
        } => {
            let vars = pairs("--var", &vars)?;
            write_import(&out, force, |td| {
                let t = capsim::import::terraform::import(
                    &capsim::import::terraform::Options {
                        path,
                        vars,
                        var_files,
                        service,
                        manifest,
                    },
                    td,
                )?;
                Ok((t.scenario, t.task_definition))
            })?;
        }
        Command::Import {
            what:
                ImportCommand::Cloudformation {
                    template,
                    out,
                    params,
                    region,
                    service,
                    force,
                },
        } => {
            let params = pairs("--param", &params)?;
            write_import(&out, force, |td| {
                let t = capsim::import::cloudformation::import(
                    &capsim::import::cloudformation::Options {
                        template,
                        params,
                        region,
                        service,
                    },
                    td,
                )?;
                Ok((t.scenario, Some(t.task_definition)))
            })?;
        }
        Command::Import {
            what:
                ImportCommand::AlbLogs {
                    path,
                    out,
                    cpu_share,
                    force,
                },
        } => {
            if !(cpu_share.is_finite() && (0.0..=1.0).contains(&cpu_share)) {
                anyhow::bail!("--cpu-share: expected a share from 0 to 1, got {cpu_share}");
            }
            if out.read_dir().is_ok_and(|mut d| d.next().is_some()) && !force {
                anyhow::bail!(
                    "{} holds files: choose another --out, or pass --force to write into it",
                    out.display()
                );
            }
            let a = capsim::import::alb::import(&path)?;
            capsim::import::alb::write(&out, &a, cpu_share, &path)?;
            println!(
                "{} requests over {} s; log-normal fit: mean {:.2} ms, p99 {:.2} ms, Kolmogorov-Smirnov distance {:.4} ({} requests{}); {:.3} % 5xx, {:.3} % without a target response",
                a.requests,
                a.per_second.len(),
                a.mean_ms(),
                a.p99_ms(),
                a.ks,
                a.samples,
                if a.quiet_only {
                    " of the quietest seconds"
                } else {
                    ", all: the quietest seconds held too few"
                },
                a.share_5xx * 100.0,
                a.share_no_response * 100.0
            );
            println!("report     {}", out.display());
        }
        Command::Import {
            what:
                ImportCommand::Ecs {
                    services,
                    task_definition,
                    scalable_targets,
                    scaling_policies,
                    alarms,
                    service,
                    out,
                    force,
                },
        } => {
            if out.exists() && !force {
                anyhow::bail!(
                    "{} exists: choose another --out, or pass --force to replace it",
                    out.display()
                );
            }
            let dir = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."))
                .to_path_buf();
            let imported = capsim::import::ecs::import(
                &capsim::import::ecs::Sources {
                    services,
                    task_definition,
                    scalable_targets,
                    scaling_policies,
                    alarms,
                    service,
                },
                &dir,
            )?;
            capsim::report::fsio::write(&out, imported.toml.as_bytes()).map_err(|error| {
                capsim::Error::Output {
                    path: out.clone(),
                    error,
                }
            })?;
            for i in &imported.ignored {
                eprintln!("ignored: {i}");
            }
            // The scenario must load and compile as written.
            let sc = match capsim::scenario::load(&out, &[])? {
                Loaded::Single(sc) => *sc,
                Loaded::Shared(_) => unreachable!("an import writes one service"),
            };
            let c = sc.compile()?;
            for n in &c.notes {
                eprintln!("{}", note_line(None, n));
            }
            println!(
                "{}: written and valid — \"{}\", {} on {}; set the PLACEHOLDER values (the load and the workload) before trusting its figures",
                out.display(),
                sc.name,
                sc.platform.kind(),
                sc.region
            );
        }
        Command::Run {
            scenario,
            seed,
            set,
            out,
            json,
            alone,
            quiet,
            decisions,
            force,
        } => {
            let sc = match capsim::scenario::load(&scenario, &overrides(&set, seed))? {
                Loaded::Single(sc) => *sc,
                Loaded::Shared(shared) => {
                    if !force {
                        for s in &shared.services {
                            if let Some(why) = capsim::too_big(&s.compile()?) {
                                anyhow::bail!(
                                    "{}: service \"{}\" {why}",
                                    scenario.display(),
                                    s.name
                                );
                            }
                        }
                    }
                    let end = shared.services[0].duration.0;
                    let bar = sim_bar(end, quiet, "run".into());
                    let mut output = capsim::run_shared_reporting(&shared, &|t| {
                        bar.set_position(t / 1_000_000)
                    })?;
                    bar.finish_and_clear();
                    for o in &mut output.services {
                        decisions.apply(&mut o.decisions);
                    }
                    if alone {
                        let each = capsim::run_alone(&shared)?;
                        report::add_alone(&mut output.cluster, &each);
                    }
                    for o in &output.services {
                        for n in &o.summary.notes {
                            eprintln!("{}", note_line(Some(&o.summary.scenario), n));
                        }
                    }
                    let dir =
                        out.unwrap_or_else(|| PathBuf::from("reports").join(shared.safe_name()));
                    report::write_shared(&dir, &output)
                        .with_context(|| format!("writing the report of {}", scenario.display()))?;
                    if json {
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&output.cluster)
                                .context("serialising the cluster summary")?
                        );
                    } else {
                        print!("{}", report::shared_table(&output.cluster));
                        println!("report     {}", dir.display());
                    }
                    return Ok(());
                }
            };
            if alone {
                anyhow::bail!(
                    "--alone compares services sharing a cluster ([services.<name>]) with each alone; {} has one service",
                    scenario.display()
                );
            }
            let compiled = sc.compile()?;
            if let Some(why) = capsim::too_big(&compiled).filter(|_| !force) {
                anyhow::bail!("{}: {why}", scenario.display());
            }
            let bar = sim_bar(compiled.end, quiet, "run".into());
            let mut output = capsim::run_compiled_reporting(&sc, &compiled, &|t| {
                bar.set_position(t / 1_000_000)
            })?;
            bar.finish_and_clear();
            decisions.apply(&mut output.decisions);
            // Once per run, on stderr so that --json output stays clean.
            for n in &output.summary.notes {
                eprintln!("{}", note_line(None, n));
            }
            let dir = out.unwrap_or_else(|| PathBuf::from("reports").join(sc.safe_name()));
            report::write_run(&dir, &output)
                .with_context(|| format!("writing the report of {}", scenario.display()))?;
            if json {
                print!("{}", report::summary_json(&output.summary));
            } else {
                print!("{}", report::human_table(&output.summary));
                println!("report     {}", dir.display());
            }
        }
        Command::Sweep {
            file,
            threads,
            out,
            shard,
            shards,
            quiet,
            allow_failures,
            force,
        } => {
            let sweep = capsim::sweep::Sweep::load(&file)?;
            if !force {
                let check = capsim::sweep::validate(&sweep);
                if let Some((point, why)) = check.too_big.first() {
                    anyhow::bail!("{}: point {point} {why}", file.display());
                }
            }
            let threads = threads.map(|t| {
                let most = rayon_threads();
                if t > most {
                    eprintln!(
                        "note: --threads {t} is more than the {most} this machine has; using {most}"
                    );
                }
                t.min(most)
            });
            let shard = match (shard, shards) {
                (Some(s), _) => Some(
                    capsim::sweep::Shard::parse(&s).map_err(|m| anyhow::anyhow!("--shard: {m}"))?,
                ),
                (None, Some(n)) => {
                    let (var, raw) = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"]
                        .iter()
                        .find_map(|v| std::env::var(v).ok().map(|x| (*v, x)))
                        .ok_or_else(|| anyhow::anyhow!("--shards {n} needs JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX in the environment (or give --shard K/N)"))?;
                    Some(
                        capsim::sweep::Shard::parse(&format!("{}/{n}", raw.trim()))
                            .map_err(|m| anyhow::anyhow!("{var}={raw} with --shards {n}: {m}"))?,
                    )
                }
                (None, None) => None,
            };
            let dir = out.unwrap_or_else(|| {
                let base = PathBuf::from("reports").join(capsim::scenario::safe_name(&sweep.name));
                match shard {
                    Some(s) => base.join(format!("shard-{}-of-{}", s.index, s.count)),
                    None => base,
                }
            });
            let jobs = sweep
                .jobs()
                .iter()
                .filter(|j| shard.is_none_or(|s| s.owns(j.index)))
                .count() as u64;
            let bar = if quiet || !std::io::stderr().is_terminal() {
                indicatif::ProgressBar::hidden()
            } else {
                let b = indicatif::ProgressBar::new(jobs);
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} jobs  {per_sec}  ETA {eta}",
                    )
                    .expect("a valid template"),
                );
                b
            };
            let results =
                capsim::sweep::execute(&sweep, &dir, threads.unwrap_or(0), shard, &|n| {
                    bar.set_position(n)
                })?;
            bar.finish_and_clear();
            let failed = results.iter().filter(|r| r.outcome.is_err()).count();
            println!(
                "{}: {} jobs run, {} failed{}",
                sweep.name,
                results.len(),
                failed,
                shard.map_or(String::new(), |s| format!(
                    " (shard {}/{})",
                    s.index, s.count
                ))
            );
            for r in results.iter().filter(|r| r.outcome.is_err()).take(5) {
                println!(
                    "  job {}: {}",
                    r.job,
                    r.outcome.as_ref().err().map_or("", String::as_str)
                );
            }
            if shard.is_none() {
                for line in capsim::sweep::answer(&sweep, &results) {
                    println!("{line}");
                }
            }
            println!("report     {}", dir.display());
            failures(failed, results.len(), allow_failures)?;
        }
        Command::Merge {
            dirs,
            out,
            allow_failures,
        } => {
            let (n, failed) = capsim::sweep::merge(&dirs, &out)?;
            println!("merged {} shards: {n} jobs, {failed} failed", dirs.len());
            println!("report     {}", out.display());
            failures(failed, n, allow_failures)?;
        }
        Command::Compare {
            scenario,
            platforms,
            seed,
            set,
            out,
            quiet,
            decisions,
            force,
        } => {
            capsim::compare::check_platforms(&platforms)
                .map_err(|m| anyhow::anyhow!("--platforms: {m}"))?;
            let mut extra = set.clone();
            if let Some(s) = seed {
                extra.push(format!("seed={s}"));
            }
            let base = load(&scenario, &extra, None)?;
            let text = capsim::input::read_text(&scenario, capsim::input::MAX_TEXT_BYTES)
                .map_err(|e| anyhow::anyhow!("{}: {e}", scenario.display()))?;
            let mut options = Vec::new();
            for (i, p) in platforms.iter().enumerate() {
                let sc = capsim::compare::scenario_for(&base, &text, p, &extra)?;
                let compiled = sc.compile()?;
                if let Some(why) = capsim::too_big(&compiled).filter(|_| !force) {
                    anyhow::bail!("{} on {p}: {why}", scenario.display());
                }
                let settings = capsim::compare::describe(&sc, &compiled);
                let bar = sim_bar(
                    compiled.end,
                    quiet,
                    format!("[{}/{}] {p}", i + 1, platforms.len()),
                );
                let mut output = capsim::run_compiled_reporting(&sc, &compiled, &|t| {
                    bar.set_position(t / 1_000_000)
                })?;
                bar.finish_and_clear();
                decisions.apply(&mut output.decisions);
                options.push(capsim::compare::Candidate {
                    platform: p.clone(),
                    settings,
                    output,
                });
            }
            let dir = out.unwrap_or_else(|| {
                PathBuf::from("reports").join(capsim::scenario::safe_name(&format!(
                    "{}-compare",
                    base.name
                )))
            });
            capsim::compare::write(
                &dir,
                &format!("{} — platforms compared", base.name),
                &options,
            )?;
            print!("{}", capsim::compare::text_table(&options));
            println!("report     {}", dir.display());
        }
        Command::Validate {
            scenario,
            set,
            allow_invalid,
            force,
        } if set.is_empty() && is_sweep(&scenario) => {
            let sweep = capsim::sweep::Sweep::load(&scenario)?;
            let check = capsim::sweep::validate(&sweep);
            let verdict = if check.invalid.is_empty() {
                "ok"
            } else if allow_invalid {
                "ok with --allow-invalid"
            } else {
                "INVALID"
            };
            println!(
                "{}: {verdict} — sweep \"{}\", {} point(s) × {} replication(s) = {} jobs; {} point(s) invalid",
                scenario.display(),
                sweep.name,
                sweep.points(),
                sweep.replications,
                sweep.points() * sweep.replications as usize,
                check.invalid.len()
            );
            for (point, e) in check.invalid.iter().take(20) {
                println!("  point {point}: {e}");
            }
            if check.invalid.len() > 20 {
                println!("  … and {} more", check.invalid.len() - 20);
            }
            println!(
                "  about {} requests in all; roughly {} of CPU time in a release build ({} on {} threads)",
                human_count(check.requests),
                human_duration(check.cpu_seconds),
                human_duration(check.cpu_seconds / rayon_threads() as f64),
                rayon_threads()
            );
            if let Some((point, why)) = check.too_big.first().filter(|_| !force) {
                anyhow::bail!("{}: point {point} {why}", scenario.display());
            }
            if !check.invalid.is_empty() && !allow_invalid {
                anyhow::bail!(
                    "{} of {} sweep points are invalid (they would be failed jobs); fix them, or pass --allow-invalid to accept that",
                    check.invalid.len(),
                    sweep.points()
                );
            }
        }
        Command::Validate {
            scenario,
            set,
            force,
            ..
        } => {
            let sc = match capsim::scenario::load(&scenario, &set)? {
                Loaded::Single(sc) => *sc,
                Loaded::Shared(shared) => {
                    // Every service compiles before anything is said to be ok.
                    let compiled = shared
                        .services
                        .iter()
                        .map(|sc| sc.compile())
                        .collect::<Result<Vec<_>, _>>()?;
                    println!(
                        "{}: ok — \"{}\", {} services sharing one cluster",
                        scenario.display(),
                        shared.name,
                        shared.services.len()
                    );
                    for (sc, c) in shared.services.iter().zip(&compiled) {
                        for n in &c.notes {
                            eprintln!("{}", note_line(Some(&sc.name), n));
                        }
                        println!(
                            "  service \"{}\": {} simulated, peak offered load {:.1} req/s, {} CPU units / {} MiB per task",
                            sc.name,
                            sc.duration,
                            c.rate.peak(c.end),
                            c.shape.cpu_units,
                            c.shape.memory_mib
                        );
                    }
                    return Ok(());
                }
            };
            let c = sc.compile()?;
            for n in &c.notes {
                eprintln!("{}", note_line(None, n));
            }
            println!(
                "{}: ok — \"{}\", {} on {}, {} simulated, peak offered load {:.1} req/s",
                scenario.display(),
                sc.name,
                sc.platform.kind(),
                sc.region,
                sc.duration,
                c.rate.peak(c.end)
            );
            let (requests, secs) = capsim::estimate(&c);
            println!(
                "  about {} requests; a run takes roughly {} in a release build",
                human_count(requests),
                human_duration(secs)
            );
            if let Some(why) = capsim::too_big(&c).filter(|_| !force) {
                anyhow::bail!("{}: {why}", scenario.display());
            }
        }
    }
    Ok(())
}

/// A sweep or merge with failed jobs exits non-zero unless allowed.
fn failures(failed: usize, jobs: usize, allowed: bool) -> Result<()> {
    if failed > 0 && !allowed {
        anyhow::bail!(
            "{failed} of {jobs} jobs failed (reasons above and in results.csv); pass --allow-failures to accept that"
        );
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// 1.2 M, 35 k, 120.
fn human_count(n: f64) -> String {
    match n {
        n if n >= 1e9 => format!("{:.1} G", n / 1e9),
        n if n >= 1e6 => format!("{:.1} M", n / 1e6),
        n if n >= 1e3 => format!("{:.0} k", n / 1e3),
        n => format!("{n:.0}"),
    }
}

/// "under a second", "40 s", "3 min", "1.5 h".
fn human_duration(secs: f64) -> String {
    match secs {
        s if s < 1.0 => "under a second".into(),
        s if s < 90.0 => format!("{s:.0} s"),
        s if s < 5_400.0 => format!("{:.0} min", s / 60.0),
        s => format!("{:.1} h", s / 3_600.0),
    }
}
