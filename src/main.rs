//! The `capsim` command: parses arguments, calls the library, prints.

use anyhow::{Context, Result};
use capsim::{Scenario, report};
use clap::{Parser, Subcommand};
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
    },
    /// Check a scenario (and the files it names) without running it.
    Validate {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Override a scenario key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

fn load(path: &std::path::Path, set: &[String], seed: Option<u64>) -> Result<Scenario> {
    let mut overrides = set.to_vec();
    if let Some(s) = seed {
        overrides.push(format!("seed={s}"));
    }
    Ok(Scenario::load(path, &overrides)?)
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
        } => {
            let sc = load(&scenario, &set, seed)?;
            let output = capsim::run(&sc)?;
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
        Command::Validate { scenario, set } => {
            let sc = load(&scenario, &set, None)?;
            let c = sc.compile()?;
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
