//! ECS capacity-provider managed scaling (cluster auto scaling) of the
//! cluster's one Auto Scaling group, as AWS documents it (aws.md §2.6):
//! `CapacityProviderReservation` = instances needed M / instances running
//! N × 100 every minute; with tasks waiting for capacity, M = N + what those
//! tasks need on an empty instance (tasks that fit no type cannot make it
//! grow), M = 2 when N = 0; without, M = instances running a non-daemon
//! task. Target tracking on `targetCapacity`: scale out by max(min step,
//! min(max step, need)), no further scale-out while an instance is within
//! `instanceWarmupPeriod`; scale in after 15 one-minute datapoints below
//! target, by at most half the group, empty instances only with managed
//! termination protection.

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
    /// How many tasks of `req` an empty instance of the smallest type holds
    /// (after daemons): tasks that exceed it cannot make the group grow
    /// (aws.md §2.6), and sizing on it never under-counts.
    fn per_instance(&self, req: &Request) -> u32 {
        let Some(t) = self.cfg.groups[0]
            .types
            .iter()
            .min_by_key(|t| (t.vcpu, t.memory_mib))
        else {
            return 0;
        };
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

    /// `CapacityProviderReservation` with `pending` tasks waiting for capacity.
    pub fn reservation(&self, pending: &[Request]) -> Reservation {
        let n = self.alive();
        let groupable: Vec<&Request> = pending
            .iter()
            .filter(|r| self.per_instance(r) > 0)
            .collect();
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

    /// Managed scaling's decision for this minute: instances to launch (> 0)
    /// or empty instances to terminate (< 0), with the reason.
    pub fn managed_decision(&mut self, now: SimTime, r: &Reservation) -> (i64, String) {
        let Some(m) = self.cfg.managed().cloned() else {
            return (0, String::new());
        };
        let Some(value) = r.value else {
            self.low_datapoints = 0;
            return (0, "no instance and nothing pending".into());
        };
        let target = m.target as f64;
        if value > target {
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
            let desired = if r.n == 0 {
                r.m
            } else {
                (r.m as f64 * 100.0 / target).ceil() as u32
            };
            let step = desired.saturating_sub(r.n).clamp(m.min_step, m.max_step);
            let room = self.cfg.groups[0].max_size.saturating_sub(r.n);
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
                    "scale out: reservation {value:.0} % > target {target} % (M = {}, N = {})",
                    r.m, r.n
                ),
            )
        } else if value < target {
            self.low_datapoints += 1;
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
                ((r.m as f64 * 100.0 / target).ceil() as u32).max(self.cfg.groups[0].min_size);
            let surplus = r.n.saturating_sub(desired);
            // At most half the group per step (AWS containers blog, faster scale-in).
            let limit = (r.n / 2).max(1);
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
            self.low_datapoints = 0;
            (
                -(k as i64),
                format!(
                    "scale in: reservation {value:.0} % < target {target} % for {SCALE_IN_DATAPOINTS} minutes (M = {}, N = {})",
                    r.m, r.n
                ),
            )
        } else {
            self.low_datapoints = 0;
            (0, format!("at target: reservation {value:.0} %"))
        }
    }

    /// The instances managed scaling terminates: empty ones, empty longest first
    /// (or, without termination protection, the least loaded).
    pub fn scale_in_victims(&self, k: usize) -> Vec<u32> {
        let protection = self.cfg.managed().is_some_and(|m| m.termination_protection);
        let mut v: Vec<(bool, usize, SimTime, u32)> = self
            .instances
            .iter()
            .filter(|i| i.alive() && i.registered.is_some())
            .filter(|i| !protection || i.tasks.is_empty())
            .map(|i| {
                (
                    !i.tasks.is_empty(),
                    i.tasks.len(),
                    i.empty_since.unwrap_or(SimTime::MAX),
                    i.id,
                )
            })
            .collect();
        v.sort();
        v.into_iter().take(k).map(|x| x.3).collect()
    }
}
