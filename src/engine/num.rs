//! Exact arithmetic for grading: fractions of decimals, compound-growth roots and band intervals.
//!
//! Ratios are kept as a numerator and a denominator and compared by cross-multiplying, so a
//! boundary such as 120.189 / 4006.3 = 3 % is decided exactly and never through a rounded
//! quotient. Compound growth is compared by raising the threshold to the n-th power instead of
//! taking a root.

use std::cmp::Ordering;
use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};

/// Decimal places shown for computed values (ratios, growth) in a trace; comparisons never round.
pub(crate) const DISPLAY_DP: u32 = 4;

/// `n / d` with `d > 0`; `d == None` means 1, the common case of a plain fact value, which
/// lets comparisons and sums skip the cross-multiplication.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frac {
    n: Decimal,
    d: Option<Decimal>,
}

impl Frac {
    pub(crate) fn int(n: Decimal) -> Self {
        Frac { n, d: None }
    }

    /// `None` when the denominator is zero (the quotient is undefined).
    pub(crate) fn new(n: Decimal, d: Decimal) -> Option<Self> {
        if d.is_zero() {
            None
        } else if d.is_sign_negative() {
            Some(Frac { n: -n, d: Some(-d) })
        } else {
            Some(Frac { n, d: Some(d) })
        }
    }

    fn den(self) -> Decimal {
        self.d.unwrap_or(Decimal::ONE)
    }

    /// The quotient, rounded to the 28 digits a decimal holds: for display and overflow fallback only.
    pub(crate) fn approx(self) -> Decimal {
        match self.d {
            None => self.n,
            // `d > 0`: an overflowing quotient has the numerator's sign.
            Some(d) => self
                .n
                .checked_div(d)
                .unwrap_or(if self.n.is_sign_negative() {
                    Decimal::MIN
                } else {
                    Decimal::MAX
                }),
        }
    }

    pub(crate) fn display(self) -> Decimal {
        self.approx()
            .round_dp_with_strategy(DISPLAY_DP, RoundingStrategy::MidpointAwayFromZero)
            .normalize()
    }

    /// The quotient when it fits a decimal (rounded to its 28 digits); `None` on overflow.
    pub(crate) fn checked_approx(self) -> Option<Decimal> {
        match self.d {
            None => Some(self.n),
            Some(d) => self.n.checked_div(d),
        }
    }

    /// Multiplies by a decimal, keeping exactness unless the product overflows; `None` when
    /// even the rounded quotient times `k` overflows (an undefined value, never a panic).
    pub(crate) fn scale(self, k: Decimal) -> Option<Frac> {
        match self.n.checked_mul(k) {
            Some(n) => Some(Frac { n, d: self.d }),
            None => self.checked_approx()?.checked_mul(k).map(Frac::int),
        }
    }

    /// `self / other`; `None` when `other` is zero.
    pub(crate) fn div(self, other: Frac) -> Option<Frac> {
        let exact = match (self.d, other.d) {
            (None, None) => Some((self.n, other.n)),
            _ => self
                .n
                .checked_mul(other.den())
                .zip(self.den().checked_mul(other.n)),
        };
        match exact {
            Some((n, d)) => Frac::new(n, d),
            None => {
                let o = other.checked_approx()?;
                if o.is_zero() {
                    None
                } else {
                    self.checked_approx()?.checked_div(o).map(Frac::int)
                }
            }
        }
    }

    /// `self + other`, exact while the cross products fit, else the rounded quotients' sum;
    /// `None` when that overflows too (an undefined value, never a panic).
    pub(crate) fn add(self, other: Frac) -> Option<Frac> {
        if self.d.is_none() && other.d.is_none() {
            return self.n.checked_add(other.n).map(Frac::int);
        }
        let exact = (|| {
            let n = self
                .n
                .checked_mul(other.den())?
                .checked_add(other.n.checked_mul(self.den())?)?;
            Some(Frac {
                n,
                d: Some(self.den().checked_mul(other.den())?),
            })
        })();
        match exact {
            Some(f) => Some(f),
            None => self
                .checked_approx()?
                .checked_add(other.checked_approx()?)
                .map(Frac::int),
        }
    }

    pub(crate) fn cmp_frac(self, other: Frac) -> Ordering {
        let (a, b) = (self.n.mantissa(), other.n.mantissa());
        // Denominators are positive: different signs decide at once, whatever the magnitudes.
        let (sa, sb) = (a.signum(), b.signum());
        if sa != sb {
            return sa.cmp(&sb);
        }
        // Cross-multiplied in i128 when the mantissas fit 64 bits (every fact and threshold
        // here does), without a checked 128-bit multiply; `Decimal` arithmetic otherwise.
        // Both are exact.
        if let (Some(x), Some(y)) = (
            product(a, self.n.scale(), other.d),
            product(b, other.n.scale(), self.d),
        ) && let Some(o) = cmp_scaled(x, y)
        {
            return o;
        }
        self.cmp_frac_decimal(other)
    }

    fn cmp_frac_decimal(self, other: Frac) -> Ordering {
        let (a, b) = match (self.d, other.d) {
            (None, None) => return self.n.cmp(&other.n),
            (Some(d), None) => (Some(self.n), other.n.checked_mul(d)),
            (None, Some(d)) => (self.n.checked_mul(d), Some(other.n)),
            (Some(x), Some(y)) => (self.n.checked_mul(y), other.n.checked_mul(x)),
        };
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.approx().cmp(&other.approx()),
        }
    }

    pub(crate) fn cmp_dec(self, t: Decimal) -> Ordering {
        match self.parts() {
            Some(p) => p.cmp_dec(t),
            None => self.cmp_frac(Frac::int(t)),
        }
    }

    /// The fraction in integer parts, when the denominator's mantissa fits 64 bits.
    fn parts(self) -> Option<Parts> {
        let d = match self.d {
            None => None,
            Some(d) => Some((i64::try_from(d.mantissa()).ok()?, d.scale())),
        };
        Some(Parts {
            n: (self.n.mantissa(), self.n.scale()),
            d,
        })
    }
}

/// Powers of ten that fit an `i128` (10³⁸ is the largest).
const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Per power of ten, the largest magnitude that can be multiplied by it within an `i128`.
const POW10_LIMIT: [u128; 39] = {
    let mut t = [0u128; 39];
    let mut i = 0;
    while i < 39 {
        t[i] = i128::MAX as u128 / POW10[i] as u128;
        i += 1;
    }
    t
};

/// `m·10^-s × b` (`b` absent = 1) as an exact mantissa and scale, when both mantissas fit an
/// `i64` (their product then fits an `i128` with room to spare).
#[inline]
fn product(m: i128, s: u32, b: Option<Decimal>) -> Option<(i128, u32)> {
    match b {
        None => Some((m, s)),
        Some(b) => {
            let x = i64::try_from(m).ok()?;
            let y = i64::try_from(b.mantissa()).ok()?;
            Some((i128::from(x) * i128::from(y), s + b.scale()))
        }
    }
}

/// Orders `m₁·10^-s₁` against `m₂·10^-s₂` exactly, if aligning the scales fits an `i128`.
#[inline]
fn cmp_scaled((m1, s1): (i128, u32), (m2, s2): (i128, u32)) -> Option<Ordering> {
    let up = |m: i128, k: u32| -> Option<i128> {
        let k = k as usize;
        (m.unsigned_abs() <= *POW10_LIMIT.get(k)?).then(|| m * POW10[k])
    };
    Some(match s1.cmp(&s2) {
        Ordering::Equal => m1.cmp(&m2),
        Ordering::Less => up(m1, s2 - s1)?.cmp(&m2),
        Ordering::Greater => m1.cmp(&up(m2, s1 - s2)?),
    })
}

/// A threshold's mantissa and scale, when the mantissa fits 64 bits (every shipped one does);
/// compiled rule sets keep them next to the decimal so comparisons need not unpack it.
pub(crate) fn thr_parts(t: Decimal) -> Option<(i64, u32)> {
    Some((i64::try_from(t.mantissa()).ok()?, t.scale()))
}

/// The decimal `m·10^-s` for a mantissa and scale read from a decimal (so they fit).
#[inline]
pub(crate) fn dec_of(m: i128, s: u32) -> Decimal {
    Decimal::try_from_i128_with_scale(m, s).unwrap_or(Decimal::ZERO)
}

/// A number read straight from packed facts, in integer parts: `n / d` with `d > 0` (absent
/// = 1), each as a mantissa and scale. Compares exactly without building decimals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parts {
    pub(crate) n: (i128, u32),
    pub(crate) d: Option<(i64, u32)>,
}

impl Parts {
    #[inline]
    pub(crate) fn cmp_dec(self, t: Decimal) -> Ordering {
        self.cmp_thr(t, thr_parts(t))
    }

    /// Orders `n / d` against `t` as `n` against `t·d` (`d > 0`): one 64×64-bit product and an
    /// aligned `i128` comparison. `parts` is `thr_parts(t)`, which compiled rule sets keep.
    #[inline]
    pub(crate) fn cmp_thr(self, t: Decimal, parts: Option<(i64, u32)>) -> Ordering {
        let rhs = parts.map(|(tm, ts)| match self.d {
            None => (i128::from(tm), ts),
            Some((dm, ds)) => (i128::from(tm) * i128::from(dm), ts + ds),
        });
        rhs.and_then(|rhs| cmp_scaled(self.n, rhs))
            .unwrap_or_else(|| self.frac().cmp_frac(Frac::int(t)))
    }

    /// The same number as a fraction of decimals (for the trace and the slow paths).
    pub(crate) fn frac(self) -> Frac {
        let n = dec_of(self.n.0, self.n.1);
        match self.d {
            None => Frac::int(n),
            Some((m, s)) => Frac {
                n,
                d: Some(dec_of(i128::from(m), s)),
            },
        }
    }
}

/// A computed value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val {
    Num(Frac),
    /// Compound annual growth over `years` years, in percent: `(ratio^(1/years) − 1) × 100`.
    Cagr {
        ratio: Frac,
        years: u32,
    },
    Bool(bool),
    /// A definite absence: no rank held, or a quotient with a zero denominator. Fails every
    /// comparison and scores the lowest band, but is not missing data.
    Nothing,
    /// A fact the evaluation needs is absent (recorded in the missing list).
    Missing,
}

impl Val {
    /// Orders the value against a threshold; `None` for `Nothing`, `Missing` and booleans.
    pub(crate) fn cmp_dec(self, t: Decimal) -> Option<Ordering> {
        match self {
            Val::Num(f) => Some(f.cmp_dec(t)),
            Val::Cagr { ratio, years } => cagr_cmp(ratio, years, t),
            _ => None,
        }
    }

    /// The value as shown in a trace (rounded for display only).
    pub(crate) fn display(self) -> Option<Decimal> {
        match self {
            Val::Num(f) => Some(f.display()),
            Val::Cagr { ratio, years } => cagr_display(ratio, years),
            _ => None,
        }
    }
}

/// Compares `(ratio^(1/n) − 1) × 100` with `t` exactly: `ratio × 100^n` against `(100 + t)^n`.
/// Where the powers overflow, the rounded root decides; `None` when even that overflows (the
/// growth is undefined, and fails the test).
fn cagr_cmp(ratio: Frac, n: u32, t: Decimal) -> Option<Ordering> {
    let Some(base) = Decimal::ONE_HUNDRED.checked_add(t) else {
        return Some(Ordering::Less);
    };
    if base.is_sign_negative() || base.is_zero() {
        return Some(Ordering::Greater);
    }
    let mut lhs = ratio;
    let mut rhs = Decimal::ONE;
    for _ in 0..n {
        let (Some(l), Some(r)) = (lhs.scale(Decimal::ONE_HUNDRED), rhs.checked_mul(base)) else {
            return cagr_display(ratio, n).map(|g| g.cmp(&t));
        };
        (lhs, rhs) = (l, r);
    }
    Some(lhs.cmp_dec(rhs))
}

/// Newton's method for the n-th root, in decimals; display only, never used to decide
/// (except past overflow, see [`cagr_cmp`]). `None` when the root overflows.
fn cagr_display(ratio: Frac, n: u32) -> Option<Decimal> {
    let r = ratio.checked_approx()?;
    if n == 0 || r.is_sign_negative() {
        return Some(Decimal::ZERO);
    }
    let nd = Decimal::from(n);
    // Start from the first-order estimate and keep 12 places: the trace shows 4 places of a
    // percentage, and short decimals keep each step cheap.
    let mut x = (Decimal::ONE + (r - Decimal::ONE) / nd).max(Decimal::new(1, 6));
    for _ in 0..40 {
        let mut p = Decimal::ONE;
        for _ in 1..n {
            p = p.saturating_mul(x);
        }
        let Some(q) = r.checked_div(p) else { break };
        let next = (x.saturating_mul(nd - Decimal::ONE).saturating_add(q) / nd).round_dp(12);
        let done = (next - x).abs() <= Decimal::new(1, 11);
        x = next;
        if done {
            break;
        }
    }
    Some(
        (x - Decimal::ONE)
            .checked_mul(Decimal::ONE_HUNDRED)?
            .round_dp_with_strategy(DISPLAY_DP, RoundingStrategy::MidpointAwayFromZero)
            .normalize(),
    )
}

/// One end of an interval: the value and whether it belongs to the interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bound {
    pub(crate) at: Decimal,
    pub(crate) inclusive: bool,
    /// `at` as a 64-bit mantissa and scale, read once (see [`thr_parts`]).
    pub(crate) parts: Option<(i64, u32)>,
}

/// An interval written `[3,5)`, `(,1)`, `[5,)`: brackets make each end's inclusion explicit;
/// an empty end is unbounded and must use a round bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interval {
    pub(crate) lo: Option<Bound>,
    pub(crate) hi: Option<Bound>,
}

impl Interval {
    pub(crate) fn parse(s: &str) -> Result<Interval, String> {
        let s = s.trim();
        let bad = || format!("`{s}` is not an interval like \"[3,5)\", \"(,1)\" or \"[5,)\"");
        let (open, rest) = s.split_at_checked(1).ok_or_else(bad)?;
        let (body, close) = rest
            .split_at_checked(rest.len().saturating_sub(1))
            .ok_or_else(bad)?;
        let lo_inc = match open {
            "[" => true,
            "(" => false,
            _ => return Err(bad()),
        };
        let hi_inc = match close {
            "]" => true,
            ")" => false,
            _ => return Err(bad()),
        };
        let (a, b) = body.split_once(',').ok_or_else(bad)?;
        let end = |text: &str, inclusive: bool| -> Result<Option<Bound>, String> {
            let text = text.trim();
            if text.is_empty() {
                if inclusive {
                    return Err(format!(
                        "`{s}`: an unbounded end cannot be inclusive; use ( or )"
                    ));
                }
                return Ok(None);
            }
            let at = parse_decimal(text)
                .ok_or_else(|| format!("`{text}` in `{s}` is not a decimal number"))?;
            Ok(Some(Bound {
                at,
                inclusive,
                parts: thr_parts(at),
            }))
        };
        let iv = Interval {
            lo: end(a, lo_inc)?,
            hi: end(b, hi_inc)?,
        };
        if let (Some(l), Some(h)) = (iv.lo, iv.hi)
            && (l.at > h.at || (l.at == h.at && !(l.inclusive && h.inclusive)))
        {
            return Err(format!(
                "`{s}` is empty: its lower end is not below its upper end"
            ));
        }
        Ok(iv)
    }

    /// Whether the value lies in the interval; `None` when it is missing.
    pub(crate) fn contains(&self, v: Val) -> Option<bool> {
        match v {
            Val::Missing => None,
            // `Nothing` compares with no bound: it belongs only to the band open below.
            Val::Nothing | Val::Bool(_) => Some(self.lo.is_none()),
            // Numbers and growth always order against a bound.
            _ => Some(self.contains_by(|b| v.cmp_dec(b.at).unwrap_or(Ordering::Less))),
        }
    }

    /// Whether a number lies in the interval, given how it orders against a bound.
    #[inline]
    pub(crate) fn contains_by(&self, cmp: impl Fn(&Bound) -> Ordering) -> bool {
        let lo_ok = match self.lo {
            None => true,
            Some(b) => match cmp(&b) {
                Ordering::Greater => true,
                Ordering::Equal => b.inclusive,
                Ordering::Less => false,
            },
        };
        lo_ok
            && match self.hi {
                None => true,
                Some(b) => match cmp(&b) {
                    Ordering::Less => true,
                    Ordering::Equal => b.inclusive,
                    Ordering::Greater => false,
                },
            }
    }

    /// Whether the interval contains a plain decimal (used for scores and grades).
    pub(crate) fn contains_dec(&self, d: Decimal) -> bool {
        self.contains(Val::Num(Frac::int(d))) == Some(true)
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lo {
            None => f.write_str("(")?,
            Some(b) => write!(
                f,
                "{}{}",
                if b.inclusive { "[" } else { "(" },
                b.at.normalize()
            )?,
        }
        f.write_str(",")?;
        match self.hi {
            None => f.write_str(")"),
            Some(b) => write!(
                f,
                "{}{}",
                b.at.normalize(),
                if b.inclusive { "]" } else { ")" }
            ),
        }
    }
}

/// Checks that the intervals cover every value exactly once: one unbounded below, one unbounded
/// above, and each upper end meeting the next lower end with exactly one of them inclusive.
/// Returns `(index, problem code, message)` for each fault, `index` naming the offending interval.
pub(crate) fn check_cover(ivs: &[Interval]) -> Vec<(usize, &'static str, String)> {
    let mut out = Vec::new();
    if ivs.is_empty() {
        return out;
    }
    let mut order: Vec<usize> = (0..ivs.len()).collect();
    // Sort by lower end, unbounded first; an equal lower end puts the inclusive one first.
    order.sort_by(|&a, &b| match (ivs[a].lo, ivs[b].lo) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.at.cmp(&y.at).then(y.inclusive.cmp(&x.inclusive)),
    });
    let first = order[0];
    if let Some(lo) = ivs[first].lo {
        out.push((
            first,
            "band_gap",
            format!("no band covers values below {}", lo.at.normalize()),
        ));
    }
    for pair in order.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let Some(hi) = ivs[a].hi else {
            out.push((
                b,
                "band_overlap",
                format!("{} overlaps {}, which is unbounded above", ivs[b], ivs[a]),
            ));
            continue;
        };
        let Some(lo) = ivs[b].lo else {
            out.push((b, "band_overlap", format!("{} overlaps {}", ivs[b], ivs[a])));
            continue;
        };
        match hi.at.cmp(&lo.at) {
            Ordering::Less => out.push((
                b,
                "band_gap",
                format!(
                    "no band covers values between {} and {}",
                    hi.at.normalize(),
                    lo.at.normalize()
                ),
            )),
            Ordering::Greater => {
                out.push((b, "band_overlap", format!("{} overlaps {}", ivs[b], ivs[a])))
            }
            Ordering::Equal => match (hi.inclusive, lo.inclusive) {
                (true, true) => out.push((
                    b,
                    "band_overlap",
                    format!(
                        "{} and {} both include {}",
                        ivs[a],
                        ivs[b],
                        lo.at.normalize()
                    ),
                )),
                (false, false) => out.push((
                    b,
                    "band_gap",
                    format!(
                        "no band includes {} ({} and {} both exclude it)",
                        lo.at.normalize(),
                        ivs[a],
                        ivs[b]
                    ),
                )),
                _ => {}
            },
        }
    }
    if let Some(&last) = order.last()
        && let Some(hi) = ivs[last].hi
    {
        out.push((
            last,
            "band_gap",
            format!("no band covers values above {}", hi.at.normalize()),
        ));
    }
    out
}

/// Parses `3`, `-1.5`, `1e3` exactly.
pub(crate) fn parse_decimal(s: &str) -> Option<Decimal> {
    let s = s.trim();
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(s).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn ratio_boundary_is_exact() {
        let r = Frac::int(dec!(120.189))
            .div(Frac::int(dec!(4006.3)))
            .and_then(|f| f.scale(dec!(100)));
        assert_eq!(r.map(|f| f.cmp_dec(dec!(3))), Some(Ordering::Equal));
        let below = Frac::int(dec!(120.188))
            .div(Frac::int(dec!(4006.3)))
            .and_then(|f| f.scale(dec!(100)));
        assert_eq!(below.map(|f| f.cmp_dec(dec!(3))), Some(Ordering::Less));
    }

    #[test]
    fn cagr_compares_exactly() {
        // 100 -> 110.25 over two years is exactly 5 % a year.
        let ratio = Frac::int(dec!(110.25)).div(Frac::int(dec!(100))).unwrap();
        assert_eq!(cagr_cmp(ratio, 2, dec!(5)), Some(Ordering::Equal));
        let ratio = Frac::int(dec!(110.24)).div(Frac::int(dec!(100))).unwrap();
        assert_eq!(cagr_cmp(ratio, 2, dec!(5)), Some(Ordering::Less));
        assert_eq!(cagr_display(Frac::int(dec!(1.1025)), 2), Some(dec!(5)));
    }

    #[test]
    fn overflow_is_undefined_never_a_panic() {
        let max = Frac::int(Decimal::MAX);
        assert!(max.add(max).is_none());
        assert!(max.scale(dec!(100)).is_none());
        let huge = Frac::new(Decimal::MAX, dec!(0.5)).unwrap();
        assert!(huge.add(Frac::int(Decimal::MAX)).is_none());
        // A growth factor of 7.9e28 over 1 year is 7.9e30 %: past a decimal.
        assert_eq!(cagr_display(max, 1), None);
        assert_eq!(cagr_cmp(max, 1, dec!(5)), None);
        assert_eq!(cagr_cmp(max, 3, dec!(5)), Some(Ordering::Greater));
        assert_eq!(
            cagr_cmp(Frac::int(dec!(1)), 1, Decimal::MAX),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn intervals_parse_and_cover() {
        let ivs: Vec<Interval> = ["[5,)", "[3,5)", "(,3)"]
            .iter()
            .map(|s| Interval::parse(s).unwrap())
            .collect();
        assert!(check_cover(&ivs).is_empty());
        let gap: Vec<Interval> = ["[5,)", "(,3)"]
            .iter()
            .map(|s| Interval::parse(s).unwrap())
            .collect();
        assert_eq!(check_cover(&gap)[0].1, "band_gap");
        let overlap: Vec<Interval> = ["[5,)", "(,5]"]
            .iter()
            .map(|s| Interval::parse(s).unwrap())
            .collect();
        assert_eq!(check_cover(&overlap)[0].1, "band_overlap");
        assert!(Interval::parse("[,5)").is_err());
        assert!(Interval::parse("[5,3)").is_err());
    }

    #[test]
    fn fast_comparisons_agree_with_decimal_arithmetic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let edge = [
            Decimal::MAX,
            Decimal::MIN,
            Decimal::ZERO,
            dec!(-0),
            dec!(0.0000000000000000000000000001),
            dec!(3),
            dec!(3.000),
            dec!(-3),
            dec!(79228162514264337593543950.335),
        ];
        let pick = |rng: &mut rand::rngs::StdRng| -> Decimal {
            match rng.gen_range(0..4) {
                0 => edge[rng.gen_range(0..edge.len())],
                1 => Decimal::new(rng.gen_range(-1_000_000..1_000_000), rng.gen_range(0..6)),
                2 => Decimal::from_i128_with_scale(
                    rng.gen_range(-(1i128 << 95)..(1i128 << 95)),
                    rng.gen_range(0..29),
                ),
                _ => Decimal::new(rng.r#gen::<i64>(), rng.gen_range(0..29)),
            }
        };
        for _ in 0..200_000 {
            let (a, b) = (pick(&mut rng), pick(&mut rng));
            assert_eq!(Frac::int(a).cmp_frac(Frac::int(b)), a.cmp(&b), "{a} vs {b}");
            assert_eq!(Frac::int(a).cmp_dec(b), a.cmp(&b), "{a} vs {b}");
            let (fa, fb) = (
                Frac::new(a, pick(&mut rng)).unwrap_or(Frac::int(a)),
                Frac::new(b, pick(&mut rng)).unwrap_or(Frac::int(b)),
            );
            // The `Decimal` path is the reference where its cross products are exact (no
            // rounding past 28 places, no 96-bit overflow); elsewhere the i128 path is the more
            // exact of the two, and only has to keep the sign order.
            let exact = |x: Decimal, y: Option<Decimal>| {
                y.is_none_or(|y| {
                    x.scale() + y.scale() <= 28
                        && x.mantissa()
                            .checked_mul(y.mantissa())
                            .is_some_and(|m| m.unsigned_abs() < (1u128 << 96))
                })
            };
            if exact(b, fa.d) {
                assert_eq!(
                    fa.cmp_dec(b),
                    fa.cmp_frac_decimal(Frac::int(b)),
                    "{fa:?} vs {b}"
                );
            }
            if exact(fa.n, fb.d) && exact(fb.n, fa.d) {
                assert_eq!(fa.cmp_frac(fb), fa.cmp_frac_decimal(fb), "{fa:?} vs {fb:?}");
            } else if fa.n.is_sign_negative() != fb.n.is_sign_negative()
                || fa.n.is_zero()
                || fb.n.is_zero()
            {
                let sign = |f: Frac| f.n.cmp(&Decimal::ZERO);
                assert_eq!(fa.cmp_frac(fb), sign(fa).cmp(&sign(fb)), "{fa:?} vs {fb:?}");
            }
        }
    }
}
