//! The control plane: everything that decides or measures capacity, shared by
//! every data plane. It starts and stops tasks on the platform, keeps the
//! fleet ledger, closes each simulated minute's fleet metrics (the numbers
//! CloudWatch would publish) and will host the autoscalers and the cost ledger.
//!
//! It talks to a data plane only through [`DataPlane`]: it adds and removes
//! tasks and reads aggregate CPU use. It never sees a request.

pub mod fleet;

use crate::engine::{Ctx, DataPlane};
use crate::platform::Platform;
use crate::time::{MINUTE, SimTime};
pub use fleet::Fleet;

/// Events of the control plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEvent {
    /// A minute boundary: close the minute's fleet metrics.
    MetricsTick,
}

/// The control plane of one run.
pub struct ControlPlane {
    platform: Platform,
    desired: u32,
    cpu_units: u32,
    end: SimTime,
    fleet: Fleet,
}

impl ControlPlane {
    /// A control plane keeping `desired` tasks of `cpu_units` each on `platform`
    /// until `end`.
    pub fn new(platform: Platform, desired: u32, cpu_units: u32, end: SimTime) -> Self {
        ControlPlane {
            platform,
            desired,
            cpu_units,
            end,
            fleet: Fleet::new(),
        }
    }

    /// The fleet ledger.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The platform tasks run on.
    pub fn platform(&self) -> &Platform {
        &self.platform
    }

    /// Starts the run: launches the initial fleet and the minute ticks.
    pub fn start<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        if MINUTE < self.end {
            cx.schedule_control(MINUTE, ControlEvent::MetricsTick);
        }
        match self.platform {
            // The textbook case: every task exists and serves from t = 0.
            Platform::Ideal => {
                for _ in 0..self.desired {
                    let id = self.fleet.start(cx.now());
                    data.add_task(id, cx);
                }
            }
        }
    }

    /// Handles a control-plane event.
    pub fn handle<D: DataPlane>(
        &mut self,
        event: ControlEvent,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
    ) {
        match event {
            ControlEvent::MetricsTick => {
                let now = cx.now();
                self.close_minute(data, cx, now);
                if now + MINUTE < self.end {
                    cx.schedule_control(now + MINUTE, ControlEvent::MetricsTick);
                }
            }
        }
    }

    /// Ends the run at `cx.now()`: closes the last (possibly partial) minute.
    pub fn finish<D: DataPlane>(&mut self, data: &mut D, cx: &mut Ctx<'_, D::Event>) {
        let now = cx.now();
        self.close_minute(data, cx, now);
        self.fleet.close(now);
        cx.rec.finish(now);
    }

    /// Attributes the fleet integrals since the last boundary to the minute
    /// that ends at `now`.
    fn close_minute<D: DataPlane>(
        &mut self,
        data: &mut D,
        cx: &mut Ctx<'_, D::Event>,
        now: SimTime,
    ) {
        if now == 0 {
            return;
        }
        let minute = ((now - 1) / MINUTE) as usize;
        let busy = data.take_busy(now);
        let task_time = self.fleet.take_task_time(now);
        let reserved = task_time.saturating_mul(self.cpu_units as u64);
        cx.rec.add_fleet(minute, busy, reserved, task_time);
    }
}
