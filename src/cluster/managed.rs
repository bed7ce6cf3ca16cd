//! ECS capacity-provider managed scaling (cluster auto scaling) of the
//! cluster's one Auto Scaling group, as AWS documents it (ECS developer
//! guide, cluster-auto-scaling; aws.md §2.6, §9.1):
//!
//! - `CapacityProviderReservation` = instances needed M / instances running
//!   N × 100, every minute. With tasks waiting for capacity, M = N + what
//!   those tasks need on an empty instance of the **largest** type of the
//!   group ("the values for the largest instance types are treated as the
//!   maximum calculated instance count"); the smallest type is the
//!   protection: tasks that do not fit it cannot make the group grow. M = 2
//!   when N = 0 ("always scales-out to 200 %"). Without waiting tasks, M =
//!   instances running a non-daemon task.
//! - The value reaches its alarms `metric_delay` after it is computed (a
//!   field; AWS publishes no figure). High alarm: 1 datapoint of 1 minute
//!   (containers-roadmap#638): scale out to ceil(N × value / target), by
//!   max(min step, min(max step, need)), not while an instance is within
//!   `instanceWarmupPeriod`. Low alarm: 15 of 15; then the group shrinks
//!   every minute while the value stays low, by more than one and less than
//!   50 % of the group per step ("greater than one instance and less than
//!   50 % each minute"), at least one.
//! - With managed termination protection only instances without tasks go;
//!   without it (the API default) the Auto Scaling group's termination
//!   policy picks them (`scale_in_victims`) and their tasks are stopped.

use super::Cluster;
use crate::placement::{Request, Resources};
use crate::time::{MINUTE, SimTime};
use std::collections::BTreeMap;

/// Managed scaling settings of the capacity provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Managed {
    /// `targetCapacity` (%).
    pub target: u32,
    /// `minimumScalingStepSize`.
    pub min_step: u32,
    /// `maximumScalingStepSize`.
    pub max_step: u32,
    /// `instanceWarmupPeriod`.
    pub warmup: SimTime,
    /// Managed termination protection: only empty instances are scaled in.
    pub termination_protection: bool,
    /// Delay before a `CapacityProviderReservation` value reaches its alarms.
    pub metric_delay: SimTime,
}

/// Datapoints below target before managed scaling scales in (aws.md §2.6).
pub const SCALE_IN_DATAPOINTS: u32 = 15;

/// One managed-scaling evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// Instances needed.
    pub m: u32,
    /// Instances running.
    pub n: u32,
    /// `CapacityProviderReservation` (%), `None` with no instance and nothing pending.
    pub value: Option<f64>,
}

impl Cluster {
    /// How many tasks of `req` an empty instance of type `t` holds beside
    /// the daemons.
    fn per_instance_on(&self, req: &Request, t: &crate::platform::ec2::InstanceType) -> u32 {
        let mut free = self.cfg.capacity(t);
        for (_, d) in &self.cfg.daemons {
            free.cpu = free.cpu.saturating_sub(d.cpu);
            free.memory = free.memory.saturating_sub(d.memory);
        }
        let by = |need: u32, have: u32| have.checked_div(need).unwrap_or(u32::MAX);
        let ports = if req.ports.is_empty() { u32::MAX } else { 1 };
        by(req.resources.cpu, free.cpu)
            .min(by(req.resources.memory, free.memory))
            .min(by(req.resources.slots, free.slots))
            .min(ports)
    }

    /// How many tasks of `req` an empty instance of the largest type holds:
    /// what managed scaling sizes the group with (aws.md §9.1).
    fn per_instance(&self, req: &Request) -> u32 {
        self.cfg.groups[0]
            .types
            .iter()
            .max_by_key(|t| (t.vcpu, t.memory_mib))
            .map_or(0, |t| self.per_instance_on(req, t))
    }

    /// Whether `req` fits an empty instance of the smallest type: tasks that
    /// do not cannot make the group grow (the smallest type is the
    /// protection, aws.md §9.1).
    fn fits_smallest(&self, req: &Request) -> bool {
        self.cfg.groups[0]
            .types
            .iter()
            .min_by_key(|t| (t.vcpu, t.memory_mib))
            .is_some_and(|t| self.per_instance_on(req, t) > 0)
    }

    /// `CapacityProviderReservation` with `pending` tasks waiting for capacity.
    pub fn reservation(&self, pending: &[Request]) -> Reservation {
        let n = self.alive();
        let groupable: Vec<&Request> = pending.iter().filter(|r| self.fits_smallest(r)).collect();
        let m = if !groupable.is_empty() {
            if n == 0 {
                // The first scale-out from an empty group goes to two instances.
                2
            } else {
                // Pending tasks with identical requirements share instances.
                let mut groups: BTreeMap<(u32, u32, u32, Vec<u16>), u32> = BTreeMap::new();
                for r in &groupable {
                    *groups
                        .entry((
                            r.resources.cpu,
                            r.resources.memory,
                            r.resources.slots,
                            r.ports.clone(),
                        ))
                        .or_insert(0) += 1;
                }
                let extra: u32 = groups
                    .iter()
                    .map(|((cpu, mem, slots, ports), count)| {
                        let per = self.per_instance(&Request {
                            resources: Resources {
                                cpu: *cpu,
                                memory: *mem,
                                slots: *slots,
                            },
                            ports: ports.clone(),
                            group: 0,
                        });
                        count.div_ceil(per)
                    })
                    .sum();
                n + extra
            }
        } else {
            self.instances
                .iter()
                .filter(|i| i.alive() && !i.tasks.is_empty())
                .count() as u32
        };
        if groupable.is_empty() && !pending.is_empty() && n > 0 {
            // Tasks that cannot make the group grow hold the reservation at
            // the target: neither scale-out nor scale-in.
            let target = self.cfg.managed().map_or(100, |m| m.target);
            return Reservation {
                m: n,
                n,
                value: Some(target as f64),
            };
        }
        Reservation {
            m,
            n,
            value: if n == 0 {
                (m > 0).then_some(200.0)
            } else {
                Some(m as f64 / n as f64 * 100.0)
            },
        }
    }

    /// Managed scaling's decision at `now` on the reservation `r` its
    /// alarms see (computed `metric_delay` earlier), with `n_now` instances
    /// alive: instances to launch (> 0) or to terminate (< 0), and why.
    pub fn managed_decision(&mut self, now: SimTime, r: &Reservation, n_now: u32) -> (i64, String) {
        let Some(m) = self.cfg.managed().cloned() else {
            return (0, String::new());
        };
        let Some(value) = r.value else {
            self.low_datapoints = 0;
            return (0, "no instance and nothing pending".into());
        };
        let target = m.target as f64;
        if value > target {
            // High alarm: 1 datapoint of 1 minute.
            self.low_datapoints = 0;
            let young = self
                .instances
                .iter()
                .any(|i| i.alive() && !i.warm && now < i.launched + m.warmup);
            if young {
                return (
                    0,
                    format!(
                        "suppressed: an instance is within the {} s warm-up",
                        m.warmup / 1_000_000
                    ),
                );
            }
            // Target tracking on the group: the capacity that brings the
            // reservation to the target (from empty, M itself: two).
            let desired = if r.n == 0 || n_now == 0 {
                r.m
            } else {
                (n_now as f64 * value / target - 1e-9).ceil() as u32
            };
            let step = desired.saturating_sub(n_now).clamp(m.min_step, m.max_step);
            let room = self.cfg.groups[0].max_size.saturating_sub(n_now);
            let launch = step.min(room);
            if launch == 0 {
                return (
                    0,
                    format!("suppressed: at max_size {}", self.cfg.groups[0].max_size),
                );
            }
            (
                launch as i64,
                format!(
                    "scale out: reservation {value:.0} % > target {target} % (M = {}, N = {}; {} alive now): ceil({n_now} × {value:.0} / {target}) = {desired}",
                    r.m, r.n, n_now
                ),
            )
        } else if value < target {
            // Low alarm: 15 of 15; then a step every minute while low.
            self.low_datapoints = self.low_datapoints.saturating_add(1);
            if self.low_datapoints < SCALE_IN_DATAPOINTS {
                return (
                    0,
                    format!(
                        "no action: {} of {SCALE_IN_DATAPOINTS} datapoints below target",
                        self.low_datapoints
                    ),
                );
            }
            let desired =
                ((n_now as f64 * value / target).ceil() as u32).max(self.cfg.groups[0].min_size);
            let surplus = n_now.saturating_sub(desired);
            // Less than half the group per step, at least one.
            let limit = (n_now.saturating_sub(1) / 2).max(1);
            let candidates = self
                .instances
                .iter()
                .filter(|i| {
                    i.alive()
                        && i.registered.is_some()
                        && (!m.termination_protection || i.tasks.is_empty())
                })
                .filter(|i| {
                    i.empty_since
                        .is_some_and(|e| now >= e + SCALE_IN_DATAPOINTS as SimTime * MINUTE)
                        || !m.termination_protection
                })
                .count() as u32;
            let k = surplus.min(limit).min(candidates);
            if k == 0 {
                return (
                    0,
                    format!(
                        "no action: reservation {value:.0} % below target but no instance may go"
                    ),
                );
            }
            (
                -(k as i64),
                format!(
                    "scale in: reservation {value:.0} % < target {target} % for {} minutes (M = {}, N = {}): {k} of {n_now}, less than half per minute",
                    self.low_datapoints, r.m, r.n
                ),
            )
        } else {
            self.low_datapoints = 0;
            (0, format!("at target: reservation {value:.0} %"))
        }
    }

    /// The instances managed scaling terminates. With managed termination
    /// protection: empty ones, empty longest first. Without it, the Auto
    /// Scaling group's default termination policy (EC2 Auto Scaling user
    /// guide, "Configure termination policies"): balance the zones first
    /// (an instance of the zone with the most), then the oldest launch
    /// template (all the same here), then the instance closest to its next
    /// billing hour, a tie at random — whether it runs tasks or not.
    pub fn scale_in_victims(
        &self,
        k: usize,
        now: SimTime,
        rng: &mut crate::rng::Stream,
    ) -> Vec<u32> {
        let protection = self.cfg.managed().is_some_and(|m| m.termination_protection);
        if protection {
            let mut v: Vec<(SimTime, u32)> = self
                .instances
                .iter()
                .filter(|i| i.alive() && i.registered.is_some() && i.tasks.is_empty())
                .map(|i| (i.empty_since.unwrap_or(SimTime::MAX), i.id))
                .collect();
            v.sort();
            return v.into_iter().take(k).map(|x| x.1).collect();
        }
        use rand::RngExt;
        let mut left: Vec<&super::Instance> = self
            .instances
            .iter()
            .filter(|i| i.alive() && i.registered.is_some())
            .collect();
        let mut out = Vec::new();
        const HOUR: SimTime = 60 * MINUTE;
        while out.len() < k && !left.is_empty() {
            let mut per_az: BTreeMap<&str, usize> = BTreeMap::new();
            for i in &left {
                *per_az.entry(i.az.as_str()).or_insert(0) += 1;
            }
            let most = per_az.values().copied().max().unwrap_or(0);
            let in_zone: Vec<usize> = (0..left.len())
                .filter(|&j| per_az[left[j].az.as_str()] == most)
                .collect();
            let into_hour = |j: usize| (now - left[j].launched) % HOUR;
            let best = in_zone.iter().map(|&j| into_hour(j)).max().unwrap_or(0);
            let ties: Vec<usize> = in_zone
                .into_iter()
                .filter(|&j| into_hour(j) == best)
                .collect();
            let pick = ties[rng.random_range(0..ties.len())];
            out.push(left.remove(pick).id);
        }
        out
    }
}
