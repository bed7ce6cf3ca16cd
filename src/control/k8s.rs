//! The control plane's Kubernetes side, for one Deployment: when a pod
//! becomes Ready (the readiness probe), the ReplicaSet controller's
//! reconcile (create missing pods at once, delete surplus ones in the order
//! `k8s::replicaset` ranks them), metrics-server's scrapes and the HPA's
//! syncs (`k8s::hpa_controller`). The pod lifecycle otherwise is the task
//! lifecycle of `mod.rs`: scheduled (through the cluster on nodes, after
//! provisioning on Fargate) → image pull → containers started → Ready →
//! ALB target healthy → serving; deleted: endpoint removed, then stopped
//! when its requests are done or its termination grace period runs out.

use super::{ControlEvent, ControlPlane, Stage, StopReason};
use crate::engine::{Ctx, DataPlane, TaskId};
use crate::k8s::hpa::{PodPhase, ReadyCondition};
use crate::k8s::hpa_controller::{PodView, Scrape, Usage};
use crate::k8s::replicaset::{PodRank, deletion_order};
use crate::scaling::lag::AlarmMark;
use crate::time::{MINUTE, SECOND, SimTime};

impl ControlPlane {
    /// When a pod whose containers started at `running` with its
    /// application up `app` later becomes Ready: without a readiness probe
    /// at once ("ready defaults to true once the container is started",
    /// Kubernetes `ContainerStatus.ready`); with one, the kubelet probes
    /// first at `initialDelaySeconds`, then every `periodSeconds`; the first
    /// probe after the application is up passes, and `successThreshold`
    /// consecutive passes make it Ready. `None` on ECS.
    pub(super) fn readiness_time(&self, running: SimTime, app: SimTime) -> Option<SimTime> {
        let k = self.cfg.k8s.as_ref()?;
        let Some((initial, period, success)) = k.probe else {
            return Some(running);
        };
        let first = running + initial;
        let up = running + app;
        let period = period.max(1);
        let passes = if up <= first {
            first
        } else {
            first + (up - first).div_ceil(period) * period
        };
        Some(passes + (success.max(1) as SimTime - 1) * period)
    }

    /// An OOM-killed container restarts in its pod (the pod keeps its node
    /// and its place, stops serving, and is not Ready) after the kubelet's
    /// back-off: 10 s, doubling with each restart up to 300 s, reset once
    /// the container has run 10 minutes (Kubernetes pod lifecycle,
    /// "Container restarts"). The data plane already failed its requests.
    pub(super) fn restart_container<E>(&mut self, id: TaskId, cx: &mut Ctx<'_, E>) {
        let now = cx.now();
        let t = self.fleet.task(id);
        let ran_long = t.running.is_some_and(|r| now >= r + 10 * MINUTE);
        let k = if ran_long { 0 } else { t.backoff_step };
        let delay = (10 * SECOND)
            .saturating_mul(1 << k.min(5))
            .min(300 * SECOND);
        self.fleet.restart(id, now, k + 1);
        self.lag.update(now, self.fleet.serving.get(), None);
        cx.schedule_control(now + delay, ControlEvent::Restart(id));
    }

    /// The ReplicaSet controller: pods not being deleted are brought to the
    /// replica count — missing ones are created at once; surplus ones are
    /// deleted in the controller's order (serving ones drain, the others
    /// stop).
    pub(super) fn reconcile_replicaset<D: DataPlane>(
        &mut self,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let active: Vec<TaskId> = self
            .fleet
            .alive()
            .filter(|t| t.active())
            .map(|t| t.id)
            .collect();
        let n = active.len() as u32;
        if n < self.desired {
            for _ in 0..self.desired - n {
                self.launch(data, cx);
            }
            return;
        }
        if n == self.desired {
            return;
        }
        let ranks: Vec<PodRank> = active
            .iter()
            .map(|&id| {
                let t = self.fleet.task(id);
                let on_same_node = t.node.map_or(0, |node| {
                    active
                        .iter()
                        .filter(|o| self.fleet.task(**o).node == Some(node))
                        .count() as u32
                });
                PodRank {
                    scheduled: t.node.is_some() || t.stage > Stage::Provisioning,
                    running: t.stage >= Stage::Starting,
                    ready_since: t.ready,
                    on_same_node,
                    created: t.launched,
                    id,
                }
            })
            .collect();
        let victims: Vec<TaskId> = deletion_order(&ranks)
            .into_iter()
            .take((n - self.desired) as usize)
            .map(|i| active[i])
            .collect();
        for id in victims {
            if self.fleet.task(id).stage == Stage::Serving {
                self.drain(id, data, cx);
            } else {
                self.stop(id, StopReason::ScaleIn, data, cx);
            }
        }
    }

    /// metrics-server scrapes every running pod: its CPU over the window
    /// (from the data plane's busy time), its memory in use and the
    /// requests it received (the service's, shared evenly by the pods that
    /// served in the window). A pod needs a whole window of running
    /// containers for a sample (two cumulative readings).
    pub(super) fn metrics_scrape<D: DataPlane>(
        &mut self,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        let now = cx.now();
        self.collect_busy(data, now);
        let Some(h) = &self.hpa else {
            return;
        };
        let window = h.config().resolution;
        let start = now.saturating_sub(window);
        let arrived = cx.rec.arrived;
        let area = cx.rec.in_flight_area_at(now);
        let (a0, f0) = std::mem::replace(&mut self.scraped, (arrived, area));
        // Pod-seconds of serving in the window.
        let serving_us: u128 = self
            .fleet
            .alive()
            .filter_map(|t| t.serving.map(|s| (now - s.max(start)) as u128))
            .sum();
        let per_pod_rps = if serving_us > 0 {
            (arrived - a0) as f64 / (serving_us as f64 / 1e6)
        } else {
            0.0
        };
        let in_flight_per_pod = if serving_us > 0 {
            (area - f0) as f64 / serving_us as f64
        } else {
            0.0
        };
        let units_to_m = 1000.0 / 1024.0;
        let base = self.cfg.memory_base_mib;
        let per_req = self.cfg.memory_per_request_mib;
        let mut pods = Vec::new();
        for t in self.fleet.alive() {
            let busy = self
                .pod_busy
                .get_mut(t.id as usize)
                .map_or(0, std::mem::take);
            let Some(running) = t.running else { continue };
            if running > start || t.stage == Stage::Stopped {
                continue;
            }
            let serving = t.stage == Stage::Serving || t.stage == Stage::Draining;
            pods.push((
                t.id,
                Usage {
                    cpu_m: busy as f64 / window as f64 * units_to_m,
                    memory_mib: base
                        + if serving {
                            per_req * in_flight_per_pod
                        } else {
                            0.0
                        },
                    rps: if t.stage == Stage::Serving {
                        per_pod_rps
                    } else {
                        0.0
                    },
                },
            ));
        }
        if let Some(h) = self.hpa.as_mut() {
            h.scrape(Scrape {
                at: now,
                window,
                pods,
            });
        }
    }

    /// The HPA controller's sync: the pods as it sees them, the
    /// calculation, the new replica count.
    pub(super) fn hpa_sync<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        let now = cx.now();
        let Some(k) = self.cfg.k8s.as_ref() else {
            return;
        };
        let requests = k.requests;
        let pods: Vec<PodView> = self
            .fleet
            .alive()
            .map(|t| {
                let running = t.stage >= Stage::Starting;
                PodView {
                    id: t.id,
                    phase: if running {
                        PodPhase::Running
                    } else {
                        PodPhase::Pending
                    },
                    deleting: !t.active(),
                    ready: Some(match t.ready {
                        Some(r) if t.stage != Stage::Draining => ReadyCondition {
                            ready: true,
                            last_transition: r,
                        },
                        _ => ReadyCondition {
                            ready: false,
                            last_transition: t.running.unwrap_or(t.launched),
                        },
                    }),
                    start_time: t.pull_start,
                }
            })
            .collect();
        let current = self.desired;
        let Some(h) = self.hpa.as_mut() else {
            return;
        };
        let out = h.sync(now, &pods, current, requests);
        let delay = h.config().delay;
        if let Some(end) = out.out_signal {
            self.lag.alarm(AlarmMark {
                first_breach_end: end,
                datapoint_end: end,
                published: end + delay,
                evaluated: now,
            });
        }
        if let Some(row) = out.row {
            self.decisions.push(row);
        }
        if out.desired > current {
            self.scale_out_events += 1;
        } else if out.desired < current {
            self.scale_in_events += 1;
        }
        self.set_desired(out.desired, data, cx);
    }
}
