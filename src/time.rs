//! Simulated time: integer microseconds, and the human duration strings
//! ("90s", "15m", "6h", "30d") scenarios are written in.
//!
//! Invariant: simulated time is never a float. [`SimTime`] is a `u64` count of
//! microseconds since the start of the run (≈ 584 000 years of range). Float
//! arithmetic happens only inside models (a rate, a processor-sharing virtual
//! clock) and is turned back into an integer instant before it is scheduled.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An instant or a span of simulated time, in microseconds.
pub type SimTime = u64;

/// Microseconds per millisecond.
pub const MS: SimTime = 1_000;
/// Microseconds per second.
pub const SECOND: SimTime = 1_000_000;
/// Microseconds per minute.
pub const MINUTE: SimTime = 60 * SECOND;
/// Microseconds per hour.
pub const HOUR: SimTime = 60 * MINUTE;
/// Microseconds per day.
pub const DAY: SimTime = 24 * HOUR;

/// Seconds (as a float, for reporting) of a span of simulated time.
pub fn as_secs_f64(t: SimTime) -> f64 {
    t as f64 / SECOND as f64
}

/// Milliseconds (as a float, for reporting) of a span of simulated time.
pub fn as_ms_f64(t: SimTime) -> f64 {
    t as f64 / MS as f64
}

/// Converts a non-negative number of seconds to microseconds, rounding to the
/// nearest microsecond. Negative and NaN inputs give 0; huge inputs saturate.
pub fn from_secs_f64(s: f64) -> SimTime {
    if s.is_nan() || s <= 0.0 {
        return 0;
    }
    let us = (s * SECOND as f64).round();
    if us >= u64::MAX as f64 {
        u64::MAX
    } else {
        us as SimTime
    }
}

/// The longest span a scenario may write (100 years, 3.2 × 10¹⁵ µs): far
/// enough below `u64::MAX` µs (584,000 years) that any instant of a run
/// plus any written span cannot wrap.
pub const MAX_DURATION: SimTime = 36_500 * DAY;

/// A span of simulated time written by a human, e.g. `"90s"`, `"15m"`,
/// `"1h30m"`, `"30d"`, `"250ms"`.
///
/// In a scenario file it must be a string with a unit: a bare number is refused
/// because `timeout = 30` could mean seconds or milliseconds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub SimTime);

impl Duration {
    /// The span in microseconds.
    pub fn micros(self) -> SimTime {
        self.0
    }

    /// The span in seconds.
    pub fn secs_f64(self) -> f64 {
        as_secs_f64(self.0)
    }

    /// Builds a span from whole seconds.
    pub fn from_secs(s: u64) -> Self {
        Duration(s * SECOND)
    }
}

/// Parses a human duration string. Accepted units: `us`, `ms`, `s`, `m`, `h`,
/// `d`, `w` and the spelled-out forms `humantime` knows, combined (`1h30m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let trimmed = s.trim();
    if trimmed.is_empty() {
        return Err(
            "expected a duration like \"90s\", \"15m\", \"6h\" or \"30d\", got an empty string"
                .into(),
        );
    }
    if trimmed.starts_with('-') {
        return Err(format!(
            "a duration cannot be negative, got \"{}\"",
            crate::input::excerpt(s, 80)
        ));
    }
    match humantime::parse_duration(trimmed) {
        Ok(d) => {
            let us = d.as_micros();
            if us > MAX_DURATION as u128 {
                return Err(format!(
                    "duration \"{}\" is too long: at most 36500d (100 years)",
                    crate::input::excerpt(s, 80)
                ));
            }
            if d.subsec_nanos() % 1_000 != 0 {
                return Err(format!(
                    "duration \"{}\" is finer than the simulator's 1 µs resolution",
                    crate::input::excerpt(s, 80)
                ));
            }
            Ok(Duration(us as SimTime))
        }
        Err(e) => Err(format!(
            "expected a duration like \"90s\", \"15m\", \"6h\" or \"30d\", got \"{}\" ({e})",
            crate::input::excerpt(s, 80)
        )),
    }
}

impl fmt::Display for Duration {
    /// Formats with the largest exact units, e.g. `1h30m`, `90s` → `1m30s`, `250ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut us = self.0;
        if us == 0 {
            return f.write_str("0s");
        }
        let units: [(SimTime, &str); 7] = [
            (DAY, "d"),
            (HOUR, "h"),
            (MINUTE, "m"),
            (SECOND, "s"),
            (MS, "ms"),
            (1, "us"),
            (0, ""),
        ];
        for (size, name) in units {
            if size == 0 {
                break;
            }
            if us >= size {
                write!(f, "{}{}", us / size, name)?;
                us %= size;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duration({self})")
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"90s\", \"15m\", \"6h\" or \"30d\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Duration, E> {
                parse_duration(v).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Duration, E> {
                if v < 0 {
                    return Err(E::custom(format!(
                        "a duration cannot be negative; expected a duration such as \"90s\", got {v}"
                    )));
                }
                Err(E::custom(format!(
                    "a duration needs a unit: write \"{v}s\" or \"{v}ms\", not {v}"
                )))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Duration, E> {
                self.visit_i64(v as i64)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Duration, E> {
                if v < 0.0 {
                    return Err(E::custom(format!(
                        "a duration cannot be negative; expected a duration such as \"90s\", got {v}"
                    )));
                }
                Err(E::custom(format!(
                    "a duration needs a unit: write \"{v}s\" or \"{v}ms\", not {v}"
                )))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_scenarios_use() {
        assert_eq!(parse_duration("90s").unwrap().0, 90 * SECOND);
        assert_eq!(parse_duration("15m").unwrap().0, 15 * MINUTE);
        assert_eq!(parse_duration("6h").unwrap().0, 6 * HOUR);
        assert_eq!(parse_duration("30d").unwrap().0, 30 * DAY);
        assert_eq!(parse_duration("250ms").unwrap().0, 250 * MS);
        assert_eq!(parse_duration("1h30m").unwrap().0, 90 * MINUTE);
    }

    #[test]
    fn refuses_garbage_and_negatives() {
        assert!(parse_duration("").is_err());
        assert!(parse_duration("ten minutes").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("5").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["90s", "15m", "6h", "30d", "250ms", "1h30m", "7us"] {
            let d = parse_duration(s).unwrap();
            assert_eq!(parse_duration(&d.to_string()).unwrap(), d, "{s} -> {d}");
        }
        assert_eq!(Duration(90 * SECOND).to_string(), "1m30s");
    }

    #[test]
    fn float_seconds_round_to_the_microsecond() {
        assert_eq!(from_secs_f64(1.5), 1_500_000);
        assert_eq!(from_secs_f64(-3.0), 0);
        assert_eq!(from_secs_f64(f64::NAN), 0);
    }
}
