//! Kubernetes quantities (`"250m"`, `"1Gi"`, `"129e6"`): parsed exactly
//! (± mantissa × 10^a × 2^b) and converted to millicores, MiB or a number.

// ---------------------------------------------------------------------------
// Quantities
// ---------------------------------------------------------------------------

/// An exact quantity: ± mantissa × 10^exp10 × 2^exp2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Quantity {
    pub(super) negative: bool,
    pub(super) mantissa: u128,
    pub(super) exp10: i64,
    pub(super) exp2: i64,
}

/// Parses the Kubernetes quantity grammar (quantity reference page):
/// `<signedNumber><suffix>` with a number `1`, `1.5`, `1.` or `.5`, and a
/// suffix that is a binary SI one (`Ki Mi Gi Ti Pi Ei`), a decimal SI one
/// (`m`, none, `k M G T P E`) or a decimal exponent (`e3`, `E-2`). Case
/// matters (`1k` is valid, `1K` is not; `1m` is a thousandth). The value
/// is kept exactly.
pub(super) fn parse_quantity(s: &str) -> Result<Quantity, String> {
    let bad = || {
        format!(
            "invalid quantity {} (expected a number with an optional suffix, such as 250m, 0.5, 2Gi, 512Mi, 1G or 1e3)",
            quote(s)
        )
    };
    let b = s.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut digits: Vec<u8> = Vec::new();
    let mut frac_len: i64 = 0;
    let mut seen_dot = false;
    while let Some(&c) = b.get(i) {
        match c {
            b'0'..=b'9' => {
                digits.push(c - b'0');
                if seen_dot {
                    frac_len += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits.is_empty() {
        return Err(bad());
    }
    // Only ASCII bytes were consumed, so `i` is a char boundary.
    let suffix = s.get(i..).ok_or_else(bad)?;
    let (exp10, exp2): (i64, i64) = match suffix {
        "" => (0, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E']).ok_or_else(bad)?;
            let (sign, num) = match rest.as_bytes().first() {
                Some(b'-') => (-1, &rest[1..]),
                Some(b'+') => (1, &rest[1..]),
                _ => (1, rest),
            };
            if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            let num = num.trim_start_matches('0');
            if num.len() > 6 {
                return Err(format!("quantity {}: exponent out of range", quote(s)));
            }
            let e: i64 = if num.is_empty() {
                0
            } else {
                num.parse().map_err(|_| bad())?
            };
            (sign * e, 0)
        }
    };
    // Normalise the digits: no leading zeros, trailing zeros into the exponent.
    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Ok(Quantity {
            negative: false,
            mantissa: 0,
            exp10: 0,
            exp2: 0,
        });
    };
    let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
    let trailing = (digits.len() - 1 - last) as i64;
    let significant = &digits[first..=last];
    if significant.len() > 38 {
        return Err(format!(
            "quantity {}: too many significant digits",
            quote(s)
        ));
    }
    let mantissa = significant
        .iter()
        .fold(0u128, |m, &d| m * 10 + u128::from(d));
    Ok(Quantity {
        negative,
        mantissa,
        exp10: exp10 - frac_len + trailing,
        exp2,
    })
}

pub(super) fn pow10(e: i64) -> Option<u128> {
    u32::try_from(e).ok().and_then(|e| 10u128.checked_pow(e))
}

pub(super) fn pow2(e: i64) -> Option<u128> {
    u32::try_from(e).ok().and_then(|e| 2u128.checked_pow(e))
}

impl Quantity {
    /// ⌈self × 10^extra10 × 2^extra2⌉ for a non-negative quantity, exactly;
    /// None when it does not fit in a u128.
    pub(super) fn ceil_scaled(&self, extra10: i64, extra2: i64) -> Option<u128> {
        if self.mantissa == 0 {
            return Some(0);
        }
        let (e10, e2) = (self.exp10 + extra10, self.exp2 + extra2);
        let mut num = self.mantissa;
        let mut den: u128 = 1;
        let mut den_overflow = false;
        if e10 >= 0 {
            num = num.checked_mul(pow10(e10)?)?;
        } else {
            match pow10(-e10) {
                Some(p) => den = p,
                None => den_overflow = true,
            }
        }
        if e2 >= 0 {
            num = num.checked_mul(pow2(e2)?)?;
        } else {
            match pow2(-e2).and_then(|p| den.checked_mul(p)) {
                Some(d) => den = d,
                None => den_overflow = true,
            }
        }
        if den_overflow {
            // The denominator exceeds any u128 numerator: 0 < value < 1.
            return Some(1);
        }
        Some(num / den + u128::from(!num.is_multiple_of(den)))
    }

    /// self × 10^extra10 × 2^extra2 as an f64 (may be infinite).
    pub(super) fn to_f64(self, extra10: i64, extra2: i64) -> f64 {
        let m = self.mantissa as f64;
        let e10 = (self.exp10 + extra10).clamp(-1000, 1000) as i32;
        let e2 = (self.exp2 + extra2).clamp(-2000, 2000) as i32;
        // Dividing by an exact power of ten is more accurate than multiplying
        // by an inexact negative one.
        let v = if e10 >= 0 {
            m * 10f64.powi(e10)
        } else {
            m / 10f64.powi(-e10)
        };
        let v = v * 2f64.powi(e2);
        if self.negative { -v } else { v }
    }

    pub(super) fn to_u32(
        self,
        s: &str,
        extra10: i64,
        extra2: i64,
        unit: &str,
    ) -> Result<u32, String> {
        if self.negative && self.mantissa != 0 {
            return Err(format!("quantity {} must not be negative", quote(s)));
        }
        self.ceil_scaled(extra10, extra2)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| {
                format!(
                    "quantity {} is too large (over {} {unit})",
                    quote(s),
                    u32::MAX
                )
            })
    }
}

/// A CPU quantity in millicores, rounded up (`"250m"` → 250, `"0.5"` → 500,
/// `"1"` → 1000, `"0.1m"` → 1: Kubernetes keeps no precision finer than
/// 1m and rounds up). Negative and larger-than-u32 values are errors.
pub fn parse_quantity_millicores(s: &str) -> Result<u32, String> {
    parse_quantity(s)?.to_u32(s, 3, 0, "millicores")
}

/// A memory quantity in MiB, rounded up (`"512Mi"` → 512, `"1G"` → 954,
/// `"128974848"` → 123, `"129e6"` → 124). Note that `"400m"` is 0.4 bytes
/// (→ 1 MiB), a valid quantity but almost always a mistake for 400Mi.
pub fn parse_quantity_mib(s: &str) -> Result<u32, String> {
    parse_quantity(s)?.to_u32(s, 0, -20, "MiB")
}

/// Any quantity as a plain number (`"1k"` → 1000.0, `"250m"` → 0.25,
/// `"1Ki"` → 1024.0); may be negative. Errors when it does not fit an f64.
pub fn parse_quantity_f64(s: &str) -> Result<f64, String> {
    let v = parse_quantity(s)?.to_f64(0, 0);
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("quantity {} is too large", quote(s)))
    }
}

/// Quotes a string for a message, shortened past 60 characters.
pub(super) fn quote(s: &str) -> String {
    if s.chars().count() > 60 {
        let short: String = s.chars().take(57).collect();
        format!("{:?}", format!("{short}..."))
    } else {
        format!("{s:?}")
    }
}
