//! Exact Poisson confidence intervals, for hot spots: an area is a hot spot in a week when the
//! lower limit of the exact (Garwood) interval of its rate lies above the region's rate.
//!
//! The limits for an observed count `k` at level `1 - alpha` are the means `L` and `U` with
//! `P(X >= k | L) = alpha/2` and `P(X <= k | U) = alpha/2`. Both are found by bisection on the
//! regularised incomplete gamma function, since `P(X >= k | m) = P(k, m)` (lower regularised).

/// The confidence level hot spots are tested at: 99.8 % (two-sided), the outer control limit
/// of public-health funnel plots (three standard deviations).
pub const LEVEL: f64 = 0.998;

/// ln Γ(x) for x > 0, by Stirling's series after shifting x above 10.
fn ln_gamma(x: f64) -> f64 {
    let mut shift = 0.0;
    let mut x = x;
    while x < 10.0 {
        shift += x.ln();
        x += 1.0;
    }
    let inv = 1.0 / x;
    let inv2 = inv * inv;
    let series = inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 * (1.0 / 1260.0 - inv2 / 1680.0)));
    (x - 0.5) * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI).ln() + series - shift
}

/// The lower regularised incomplete gamma function P(a, x), a > 0, x >= 0.
pub fn gamma_p(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        // Series: sum of x^n / (a (a+1) … (a+n)).
        let (mut term, mut sum, mut n) = (1.0 / a, 1.0 / a, a);
        for _ in 0..10_000 {
            n += 1.0;
            term *= x / n;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (sum * front).min(1.0)
    } else {
        // Continued fraction for Q(a, x) by the modified Lentz method.
        let tiny = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10_000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = d * c;
            h *= delta;
            if (delta - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (1.0 - front * h).max(0.0)
    }
}

/// The mean m at which the increasing function `f(m)` reaches `target`.
fn solve(f: impl Fn(f64) -> f64, target: f64, hi_start: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, hi_start.max(1.0));
    while f(hi) < target {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-9 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// The exact interval (lower, upper) for the mean of a Poisson count `k` at `level`.
pub fn interval(k: u64, level: f64) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    let kf = k as f64;
    let lower = match k {
        0 => 0.0,
        _ => solve(|m| gamma_p(kf, m), tail, kf + 10.0),
    };
    let upper = solve(|m| gamma_p(kf + 1.0, m), 1.0 - tail, kf + 10.0);
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Published exact 95 % limits (Garwood): k = 0: (0, 3.689); k = 1: (0.0253, 5.572);
    /// k = 10: (4.795, 18.39); k = 100: (81.36, 121.63).
    #[test]
    fn exact_intervals_match_published_tables() {
        for (k, lo, hi) in [
            (0, 0.0, 3.689),
            (1, 0.0253, 5.572),
            (10, 4.795, 18.39),
            (100, 81.36, 121.63),
        ] {
            let (l, u) = interval(k, 0.95);
            assert!(close(l, lo, 0.01) && close(u, hi, 0.02), "{k}: {l} {u}");
        }
    }

    #[test]
    fn a_wider_level_gives_a_wider_interval() {
        let (l95, u95) = interval(20, 0.95);
        let (l998, u998) = interval(20, LEVEL);
        assert!(l998 < l95 && u998 > u95);
    }
}
