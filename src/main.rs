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
    },
    /// Check a scenario (and the files it names) without running it.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Override a scenario key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
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
    },
    /// Merge shard directories into one sweep result.
    Merge {
        /// Shard directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
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
    },
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
    std::fs::read_to_string(path)
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
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            scenario,
            seed,
            set,
            out,
            json,
            alone,
        } => {
            let sc = match capsim::scenario::load(&scenario, &overrides(&set, seed))? {
                Loaded::Single(sc) => *sc,
                Loaded::Shared(shared) => {
                    let mut output = capsim::run_shared_scenario(&shared)?;
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
            let output = capsim::run(&sc)?;
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
        } => {
            let sweep = capsim::sweep::Sweep::load(&file)?;
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
            println!("report     {}", dir.display());
        }
        Command::Merge { dirs, out } => {
            let n = capsim::sweep::merge(&dirs, &out)?;
            println!("merged {} shards: {n} jobs", dirs.len());
            println!("report     {}", out.display());
        }
        Command::Compare {
            scenario,
            platforms,
            seed,
            set,
            out,
        } => {
            capsim::compare::check_platforms(&platforms)
                .map_err(|m| anyhow::anyhow!("--platforms: {m}"))?;
            let mut extra = set.clone();
            if let Some(s) = seed {
                extra.push(format!("seed={s}"));
            }
            let base = load(&scenario, &extra, None)?;
            let text = std::fs::read_to_string(&scenario)
                .with_context(|| format!("reading {}", scenario.display()))?;
            let mut options = Vec::new();
            for p in &platforms {
                let sc = capsim::compare::scenario_for(&base, &text, p, &extra)?;
                let output = capsim::run(&sc)?;
                options.push(capsim::compare::Candidate {
                    platform: p.clone(),
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
        Command::Validate { scenario, set } if set.is_empty() && is_sweep(&scenario) => {
            let sweep = capsim::sweep::Sweep::load(&scenario)?;
            let jobs = sweep.jobs();
            let mut bad = Vec::new();
            for j in jobs.iter().filter(|j| j.replication == 0) {
                if let Err(e) = sweep.scenario(j).and_then(|s| s.compile().map(|_| ())) {
                    bad.push(format!("point {}: {e}", j.point));
                }
            }
            println!(
                "{}: ok — sweep \"{}\", {} point(s) × {} replication(s) = {} jobs; {} point(s) invalid",
                scenario.display(),
                sweep.name,
                sweep.points(),
                sweep.replications,
                jobs.len(),
                bad.len()
            );
            for b in bad {
                println!("  {b}");
            }
        }
        Command::Validate { scenario, set } => {
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
        }
    }
    Ok(())
}
