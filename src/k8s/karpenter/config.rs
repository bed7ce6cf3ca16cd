//! Karpenter's configuration as a run uses it — the compiled NodePools
//! and the controller's settings — and the timings it runs on
//! (kubernetes-sigs/karpenter v1.14; aws.md §5.3, §9.5). Apart from the
//! controller so that the cluster's configuration can hold it without
//! depending on the controller.

use super::consolidate::{Budget, Policy};
use super::requirements::Requirement;
use crate::placement::Resources;
use crate::time::{SECOND, SimTime};

/// `BATCH_IDLE_DURATION`'s default.
pub const BATCH_IDLE: SimTime = SECOND;
/// `BATCH_MAX_DURATION`'s default.
pub const BATCH_MAX: SimTime = 10 * SECOND;
/// The disruption controller's polling period.
pub const DISRUPTION_POLL: SimTime = 10 * SECOND;
/// How long a consolidation decision must hold before it is carried out.
pub const CONSOLIDATION_TTL: SimTime = 15 * SECOND;

/// One NodePool, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePoolConfig {
    /// `metadata.name`.
    pub name: String,
    /// `spec.weight`.
    pub weight: i32,
    /// `spec.template.spec.requirements`.
    pub requirements: Vec<Requirement>,
    /// `spec.limits` (millicores, MiB of capacity), if any.
    pub limits: Option<Resources>,
    /// `spec.disruption.consolidationPolicy` (`None`: consolidation off,
    /// `consolidateAfter: Never`).
    pub consolidation: Option<Policy>,
    /// `spec.disruption.consolidateAfter`.
    pub consolidate_after: SimTime,
    /// `spec.disruption.budgets`, each with its schedule if any.
    pub budgets: Vec<ScheduledBudget>,
    /// `spec.template.spec.expireAfter` (`None`: `Never`).
    pub expire_after: Option<SimTime>,
    /// `spec.template.spec.terminationGracePeriod` (`None`: a draining node
    /// waits for its pods, however long).
    pub termination_grace: Option<SimTime>,
}

/// Karpenter's configuration: its NodePools (the cluster's groups, in the
/// same order) and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KarpenterConfig {
    /// The NodePools.
    pub pools: Vec<NodePoolConfig>,
    /// `BATCH_IDLE_DURATION`.
    pub batch_idle: SimTime,
    /// `BATCH_MAX_DURATION`.
    pub batch_max: SimTime,
    /// The `SpotToSpotConsolidation` feature gate.
    pub spot_to_spot: bool,
}

/// Minutes in a week: a budget schedule repeats weekly.
const WEEK_MINUTES: usize = 7 * 24 * 60;

/// When a scheduled budget applies: from each instant its cron schedule
/// fires, for its duration (Karpenter's budget `schedule` and `duration`,
/// in UTC). Simulated time 0 is Monday 00:00, as the diurnal load's; a
/// run has no calendar date, so schedules name minutes, hours and days of
/// the week only.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Fires before each minute of the week (Monday 00:00 first): a
    /// running count, so that any span's fires are one subtraction.
    fires_before: Vec<u32>,
    /// How long each firing lasts.
    duration: SimTime,
}

/// Parses one cron field's items (`*`, `N`, `N-M`, `*/S`, `N-M/S`, lists)
/// into the values it allows in `lo..=hi`; `names` maps day names.
fn cron_field(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<bool>, String> {
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(i as u32);
        }
        s.parse::<u32>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .ok_or_else(|| format!("\"{s}\" is not a value from {lo} to {hi}"))
    };
    let mut allowed = vec![false; hi as usize + 1];
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("step \"{s}\" is not a positive number"))?,
            ),
            None => (item, 1),
        };
        let (a, b) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                // `N/S`: from N to the end.
                None if step > 1 => (value(r)?, hi),
                None => {
                    let v = value(r)?;
                    (v, v)
                }
            },
        };
        if a > b {
            return Err(format!("range \"{range}\" runs backwards"));
        }
        let mut v = a;
        while v <= b {
            allowed[v as usize] = true;
            v += step;
        }
    }
    Ok(allowed)
}

impl Window {
    /// A window from a cron `schedule` (five fields, or `@weekly`,
    /// `@daily`, `@midnight`, `@hourly`) and a `duration`.
    pub fn new(schedule: &str, duration: SimTime) -> Result<Window, String> {
        let expanded = match schedule.trim() {
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => {
                return Err(format!(
                    "\"{s}\": a run has no calendar date; use @weekly, @daily, @hourly or five fields"
                ));
            }
            s => s,
        };
        let f: Vec<&str> = expanded.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = f.as_slice() else {
            return Err(format!(
                "\"{schedule}\": expected five fields (minute hour day-of-month month day-of-week)"
            ));
        };
        if *dom != "*" || *month != "*" {
            return Err(format!(
                "\"{schedule}\": day-of-month and month must be *: a run has no calendar date (days of the week are modelled)"
            ));
        }
        let minutes = cron_field(minute, 0, 59, &[])?;
        let hours = cron_field(hour, 0, 23, &[])?;
        // 0 and 7 are Sunday.
        let days = cron_field(
            dow,
            0,
            7,
            &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
        )?;
        let mut fires_before = Vec::with_capacity(WEEK_MINUTES + 1);
        let mut n = 0u32;
        for m in 0..WEEK_MINUTES {
            fires_before.push(n);
            // Minute m of the week; the week starts on Monday.
            let day = (m / 1440 + 1) % 7;
            let (h, min) = ((m % 1440) / 60, m % 60);
            if (days[day] || (day == 0 && days[7])) && hours[h] && minutes[min] {
                n += 1;
            }
        }
        fires_before.push(n);
        if n == 0 {
            return Err(format!("\"{schedule}\" never fires"));
        }
        Ok(Window {
            fires_before,
            duration,
        })
    }

    /// Fires at whole minutes `a..b` (minutes since time 0; any span of at
    /// most a week).
    fn fires(&self, a: u64, b: u64) -> u32 {
        let w = WEEK_MINUTES as u64;
        let at = |m: u64| self.fires_before[(m % w) as usize];
        let total = self.fires_before[WEEK_MINUTES];
        if b <= a {
            return 0;
        }
        let (ra, rb) = (a % w, b - (a - a % w));
        if rb <= w {
            self.fires_before[rb as usize] - at(ra)
        } else {
            (total - at(ra)) + self.fires_before[(rb - w) as usize]
        }
    }

    /// Whether the window is open at `now`: some firing `f` with
    /// `f ≤ now < f + duration` (the weeks before time 0 fire alike).
    pub fn active(&self, now: SimTime) -> bool {
        const MIN: u64 = 60 * SECOND;
        let week = WEEK_MINUTES as u64;
        // Firings in (now − duration, now], as whole minutes, shifted one
        // week on so that instants before time 0 stay positive.
        let end = now / MIN + week + 1;
        let start = (now + week * MIN - self.duration) / MIN + 1;
        let start = start.max(end.saturating_sub(week));
        self.fires(start, end) > 0
    }
}

/// A NodePool's disruption budget and, if scheduled, when it applies.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledBudget {
    /// The budget.
    pub budget: Budget,
    /// When it applies (`None`: always).
    pub window: Option<Window>,
}

/// The budgets of `budgets` that apply at `now` (Karpenter takes the
/// least of the active ones; with none active, nothing limits).
pub fn active_budgets(budgets: &[ScheduledBudget], now: SimTime) -> Vec<Budget> {
    budgets
        .iter()
        .filter(|b| b.window.as_ref().is_none_or(|w| w.active(now)))
        .map(|b| b.budget)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: SimTime = 60 * SECOND;
    const HOUR: SimTime = 60 * MIN;
    const DAY: SimTime = 24 * HOUR;

    #[test]
    fn weekday_business_hours() {
        // Mondays to Fridays from 09:00 for 8 hours.
        let w = Window::new("0 9 * * mon-fri", 8 * HOUR).unwrap();
        let cases = [
            (0, false),                    // Monday 00:00
            (9 * HOUR - 1, false),         // Monday 08:59:59.999999
            (9 * HOUR, true),              // Monday 09:00
            (17 * HOUR - 1, true),         // Monday 16:59:59.999999
            (17 * HOUR, false),            // Monday 17:00
            (4 * DAY + 12 * HOUR, true),   // Friday noon
            (5 * DAY + 12 * HOUR, false),  // Saturday noon
            (7 * DAY + 10 * HOUR, true),   // the next Monday 10:00
            (13 * DAY + 10 * HOUR, false), // the next Sunday 10:00
        ];
        for (t, want) in cases {
            assert_eq!(w.active(t), want, "t = {} h", t as f64 / HOUR as f64);
        }
    }

    #[test]
    fn windows_across_midnight_and_the_week_and_macros() {
        // Every day at 22:00 for 4 hours: open 22:00–02:00.
        let w = Window::new("0 22 * * *", 4 * HOUR).unwrap();
        assert!(w.active(HOUR)); // Monday 01:00, from Sunday 22:00 (the week before time 0)
        assert!(!w.active(2 * HOUR));
        assert!(w.active(DAY - HOUR));
        // Sunday (0 or 7) at 23:30 for an hour reaches Monday 00:29.
        for s in ["30 23 * * 0", "30 23 * * 7", "30 23 * * sun"] {
            let w = Window::new(s, HOUR).unwrap();
            assert!(w.active(29 * MIN), "{s}");
            assert!(!w.active(30 * MIN), "{s}");
            assert!(w.active(7 * DAY - 10 * MIN), "{s}");
        }
        let h = Window::new("@hourly", 10 * MIN).unwrap();
        assert!(h.active(5 * HOUR + 9 * MIN) && !h.active(5 * HOUR + 10 * MIN));
        let d = Window::new("*/15 * * * *", MIN).unwrap();
        assert!(d.active(30 * MIN) && !d.active(31 * MIN));
        assert!(Window::new("@daily", 7 * DAY).unwrap().active(3 * DAY + 7));
    }

    #[test]
    fn schedules_the_run_cannot_place_are_refused() {
        for (s, want) in [
            ("0 9 1 * *", "day-of-month and month"),
            ("@monthly", "calendar date"),
            ("0 25 * * *", "from 0 to 23"),
            ("0 9 * *", "five fields"),
            ("0 9-8 * * *", "backwards"),
            ("*/0 * * * *", "positive"),
            ("0 9 * * funday", "from 0 to 7"),
        ] {
            let e = Window::new(s, HOUR).unwrap_err();
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    #[test]
    fn only_active_budgets_limit() {
        let budgets = [
            ScheduledBudget {
                budget: Budget::Percent(10),
                window: None,
            },
            ScheduledBudget {
                budget: Budget::Nodes(0),
                window: Some(Window::new("0 9 * * mon-fri", 8 * HOUR).unwrap()),
            },
        ];
        assert_eq!(active_budgets(&budgets, 0), vec![Budget::Percent(10)]);
        assert_eq!(
            active_budgets(&budgets, 10 * HOUR),
            vec![Budget::Percent(10), Budget::Nodes(0)]
        );
    }
}
