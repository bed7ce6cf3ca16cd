//! Prices, with their sources, and the cost ledger every platform bills into.
//!
//! The Fargate catalog (`fargate_prices.csv`, embedded) is capsim's own,
//! curated from `shared/reference/aws.md` §1.2/§1.4 and
//! `shared/data/catalogs/fargate_pricing.csv`; each row names its source and
//! date. Scenario fields can override any price.
//!
//! The [`Ledger`] accrues cost per second of simulated time: each billable
//! thing (a task, its extra storage, a load balancer) is a running instance
//! of a price class; the ledger integrates the sum of the classes' rates, so
//! a fixed fleet's bill is exact whatever the event pattern.

use crate::time::{SECOND, SimTime};
use serde::Serialize;

/// Windows OS licence on Fargate, per vCPU-hour, billed on top of the
/// Windows vCPU rate. Source: https://www.vantage.sh/blog/fargate-pricing
/// (third-party; shared/reference/aws.md §1.3b).
pub const FARGATE_WINDOWS_LICENSE_VCPU_HOUR: f64 = 0.046;
/// Ephemeral storage included free with every Fargate task (GB).
/// Source: AWS API_EphemeralStorage; shared/reference/aws.md §1.3.
pub const FARGATE_FREE_STORAGE_GB: f64 = 20.0;
/// Minimum billed duration of a Fargate (Linux) task, and of a Linux EC2
/// instance (per-second billing with a 60-second minimum).
/// Source: AWS ECS pricing page "A minimum charge of one minute applies"; aws.md §1.3.
pub const FARGATE_MINIMUM_BILLED: SimTime = 60 * SECOND;
/// Application Load Balancer, us-east-1, per ALB-hour. Source: cloud-horizons.com
/// (2026-05-08) and Price-List fixture `alb_hr 0.0225`; aws.md §6.
pub const ALB_HOUR_USD: f64 = 0.0225;
/// Application Load Balancer, us-east-1, per LCU-hour. Same sources.
pub const ALB_LCU_HOUR_USD: f64 = 0.008;
/// Date of the ALB prices above.
pub const ALB_PRICES_AS_OF: &str = "2026-05-08";

const FARGATE_CSV: &str = include_str!("fargate_prices.csv");

/// A Fargate rate: vCPU-hour, GB-hour and extra-storage GB-hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FargateRate {
    /// Region.
    pub region: String,
    /// `linux_x86`, `linux_arm64` or `windows_x86`.
    pub os_arch: String,
    /// `on_demand` or `spot`.
    pub capacity: String,
    /// USD per vCPU-hour.
    pub vcpu_hour: f64,
    /// USD per GB-hour of memory.
    pub gb_hour: f64,
    /// USD per GB-hour of ephemeral storage above the free 20 GB.
    pub storage_gb_hour: f64,
    /// When the price was read.
    pub as_of: String,
    /// Where it comes from.
    pub source: String,
}

/// Every row of the embedded Fargate catalog.
pub fn fargate_catalog() -> Vec<FargateRate> {
    let mut rdr = csv::Reader::from_reader(FARGATE_CSV.as_bytes());
    rdr.records()
        .map(|r| {
            let r = r.expect("the embedded Fargate catalog is valid CSV");
            let num = |i: usize| {
                r[i].parse::<f64>()
                    .expect("the embedded Fargate catalog has numeric prices")
            };
            FargateRate {
                region: r[0].to_string(),
                os_arch: r[1].to_string(),
                capacity: r[2].to_string(),
                vcpu_hour: num(3),
                gb_hour: num(4),
                storage_gb_hour: num(5),
                as_of: r[6].to_string(),
                source: r[7].to_string(),
            }
        })
        .collect()
}

/// The catalog rate for a region, OS/architecture and capacity, if known.
pub fn fargate_rate(region: &str, os_arch: &str, capacity: &str) -> Option<FargateRate> {
    fargate_catalog()
        .into_iter()
        .find(|r| r.region == region && r.os_arch == os_arch && r.capacity == capacity)
}

/// Where a cost is reported in the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// On-demand compute (vCPU and memory, OS licence).
    Compute = 0,
    /// Spot compute.
    Spot = 1,
    /// Storage (Fargate ephemeral storage above the free 20 GB).
    Storage = 2,
    /// Load balancer (hours and LCUs).
    LoadBalancer = 3,
    /// On-demand EC2 instances.
    Instances = 4,
    /// The EKS control plane (per cluster-hour).
    ControlPlane = 5,
}

const BUCKETS: usize = 6;

/// A price class registered with the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassId(usize);

#[derive(Debug, Clone)]
struct Class {
    bucket: Bucket,
    usd_per_us: f64,
    running: u64,
}

/// Accrues cost over simulated time, by bucket.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    classes: Vec<Class>,
    last: SimTime,
    total: [f64; BUCKETS],
    since_take: f64,
}

/// Totals of a ledger, USD.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// On-demand compute.
    pub compute: f64,
    /// Spot compute.
    pub spot: f64,
    /// Storage.
    pub storage: f64,
    /// Load balancer.
    pub load_balancer: f64,
    /// On-demand EC2 instances.
    pub instances: f64,
    /// The EKS control plane.
    pub control_plane: f64,
}

impl Totals {
    /// Adds another ledger's totals, bucket by bucket.
    pub fn add(&mut self, o: &Totals) {
        self.compute += o.compute;
        self.spot += o.spot;
        self.storage += o.storage;
        self.load_balancer += o.load_balancer;
        self.instances += o.instances;
        self.control_plane += o.control_plane;
    }

    /// Everything.
    pub fn total(&self) -> f64 {
        self.compute
            + self.spot
            + self.storage
            + self.load_balancer
            + self.instances
            + self.control_plane
    }
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a price class (USD per hour for one running instance).
    pub fn class(&mut self, bucket: Bucket, usd_per_hour: f64) -> ClassId {
        self.classes.push(Class {
            bucket,
            usd_per_us: usd_per_hour / (3_600.0 * SECOND as f64),
            running: 0,
        });
        ClassId(self.classes.len() - 1)
    }

    fn advance(&mut self, now: SimTime) {
        if now > self.last {
            let dt = (now - self.last) as f64;
            for c in &self.classes {
                if c.running > 0 {
                    let cost = c.usd_per_us * c.running as f64 * dt;
                    self.total[c.bucket as usize] += cost;
                    self.since_take += cost;
                }
            }
            self.last = now;
        }
    }

    /// One more instance of `class` starts billing at `now`.
    pub fn start(&mut self, class: ClassId, now: SimTime) {
        self.advance(now);
        self.classes[class.0].running += 1;
    }

    /// One instance of `class` stops billing at `now`.
    pub fn stop(&mut self, class: ClassId, now: SimTime) {
        self.advance(now);
        debug_assert!(self.classes[class.0].running > 0);
        self.classes[class.0].running -= 1;
    }

    /// Bills `span` of one instance of `class` at once (minimum charges,
    /// rounding up to the second).
    pub fn charge_time(&mut self, class: ClassId, span: SimTime, now: SimTime) {
        self.advance(now);
        let c = &self.classes[class.0];
        let cost = c.usd_per_us * span as f64;
        self.total[c.bucket as usize] += cost;
        self.since_take += cost;
    }

    /// Bills an amount at once.
    pub fn charge(&mut self, bucket: Bucket, usd: f64, now: SimTime) {
        self.advance(now);
        self.total[bucket as usize] += usd;
        self.since_take += usd;
    }

    /// Cost accrued since the previous call, up to `now`.
    pub fn take(&mut self, now: SimTime) -> f64 {
        self.advance(now);
        std::mem::take(&mut self.since_take)
    }

    /// Totals up to `now`.
    pub fn totals(&mut self, now: SimTime) -> Totals {
        self.advance(now);
        Totals {
            compute: self.total[Bucket::Compute as usize],
            spot: self.total[Bucket::Spot as usize],
            storage: self.total[Bucket::Storage as usize],
            load_balancer: self.total[Bucket::LoadBalancer as usize],
            instances: self.total[Bucket::Instances as usize],
            control_plane: self.total[Bucket::ControlPlane as usize],
        }
    }
}

/// What a billed span costs beyond its exact duration under per-second
/// billing with a one-minute minimum (Fargate tasks, Linux EC2 instances):
/// rounding up to the whole second, and the minimum for what stopped. What
/// still runs at the end of a run is billed exactly.
pub fn per_second_billing_extra(billed: SimTime, stopped: bool) -> SimTime {
    let rounded = billed.div_ceil(SECOND) * SECOND;
    let with_minimum = if stopped {
        rounded.max(FARGATE_MINIMUM_BILLED)
    } else {
        billed
    };
    with_minimum - billed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DAY;

    #[test]
    fn catalog_has_the_reference_rates() {
        let r = fargate_rate("us-east-1", "linux_x86", "on_demand").unwrap();
        assert_eq!(
            (r.vcpu_hour, r.gb_hour, r.storage_gb_hour),
            (0.04048, 0.004445, 0.000111)
        );
        let a = fargate_rate("us-east-1", "linux_arm64", "on_demand").unwrap();
        assert!((a.vcpu_hour / r.vcpu_hour - 0.8).abs() < 1e-3);
        assert!(fargate_rate("mars-north-1", "linux_x86", "on_demand").is_none());
        for row in fargate_catalog() {
            assert!(!row.source.is_empty() && !row.as_of.is_empty(), "{row:?}");
        }
    }

    #[test]
    fn ledger_integrates_rates() {
        let mut l = Ledger::new();
        let task = l.class(Bucket::Compute, 0.0123425);
        for _ in 0..3 {
            l.start(task, 0);
        }
        let t = l.totals(30 * DAY);
        // 3 × 720 h × (0.25 × 0.04048 + 0.5 × 0.004445)
        assert!((t.compute - 26.6598).abs() < 1e-9, "{}", t.compute);
        for _ in 0..3 {
            l.stop(task, 30 * DAY);
        }
        assert_eq!(l.totals(31 * DAY).compute, t.compute);
        assert!((l.take(31 * DAY) - t.compute).abs() < 1e-9);
    }

    #[test]
    fn minimum_and_rounding() {
        assert_eq!(per_second_billing_extra(10 * SECOND, true), 50 * SECOND);
        assert_eq!(per_second_billing_extra(90 * SECOND + 1, true), SECOND - 1);
        assert_eq!(per_second_billing_extra(10 * SECOND, false), 0);
    }
}
