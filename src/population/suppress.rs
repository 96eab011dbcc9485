//! Small-number suppression, the one place figures become shareable.
//!
//! Primary: a count under the threshold (8 by default, 0 included) is shown as "<8".
//! Secondary: a table's cells are tied by sums (a region's count is the sum of its local
//! authorities', each of those the sum of its districts'); in any such sum where exactly one
//! cell is hidden it could be worked out by subtraction, so a second cell is withheld too (the
//! smallest shown part, else the total), until no sum has exactly one hidden cell. Withheld
//! cells are shown as "c" (confidential) with a count of 8 or more behind them.
//!
//! A running "current" count over weeks is tied to its neighbours: the difference of two
//! published weeks is the net number of people who came and went. A week whose difference
//! from the last published week is 1 to threshold−1 is withheld ([`suppress_series`]).

use serde::Serialize;

/// A published count: the number, or one of the two marks that stand for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Shown {
    Count(i64),
    /// Fewer than the threshold (0 to threshold − 1).
    Small,
    /// Withheld so that a small count elsewhere cannot be worked out.
    Withheld,
}

impl Shown {
    pub fn count(self) -> Option<i64> {
        match self {
            Self::Count(n) => Some(n),
            _ => None,
        }
    }

    /// The text of a table cell and a CSV field.
    pub fn text(self, threshold: i64) -> String {
        match self {
            Self::Count(n) => n.to_string(),
            Self::Small => format!("<{threshold}"),
            Self::Withheld => "c".into(),
        }
    }
}

/// A sum that the published cells obey: `total` is the sum of `parts` (cell indexes).
#[derive(Debug, Clone)]
pub struct Sum {
    pub total: usize,
    pub parts: Vec<usize>,
}

/// Suppresses `values` tied by `sums`: primary then secondary, to a fixed point.
pub fn suppress(values: &[i64], sums: &[Sum], threshold: i64) -> Vec<Shown> {
    suppress_with(values, sums, threshold, &[])
}

/// As [`suppress`], with some cells' marks already decided elsewhere (a cell another table
/// shares, hidden there).
pub fn suppress_with(
    values: &[i64],
    sums: &[Sum],
    threshold: i64,
    preset: &[(usize, Shown)],
) -> Vec<Shown> {
    let mut shown: Vec<Shown> = values
        .iter()
        .map(|&v| {
            if v < threshold {
                Shown::Small
            } else {
                Shown::Count(v)
            }
        })
        .collect();
    for (i, s) in preset {
        if let Some(cell) = shown.get_mut(*i) {
            if !matches!(s, Shown::Count(_)) {
                *cell = *s;
            }
        }
    }
    let hidden = |s: &Shown| !matches!(s, Shown::Count(_));
    loop {
        let mut changed = false;
        for sum in sums {
            let members: Vec<usize> = std::iter::once(sum.total)
                .chain(sum.parts.iter().copied())
                .collect();
            let n_hidden = members
                .iter()
                .filter(|&&i| shown.get(i).is_some_and(hidden))
                .count();
            if n_hidden != 1 {
                continue;
            }
            // The smallest shown part, else the total.
            let pick = sum
                .parts
                .iter()
                .copied()
                .filter(|&i| shown.get(i).is_some_and(|s| !hidden(s)))
                .min_by_key(|&i| values.get(i).copied().unwrap_or(i64::MAX))
                .or_else(|| {
                    shown
                        .get(sum.total)
                        .filter(|s| !hidden(s))
                        .map(|_| sum.total)
                });
            if let Some(cell) = pick.and_then(|i| shown.get_mut(i)) {
                *cell = Shown::Withheld;
                changed = true;
            }
        }
        if !changed {
            return shown;
        }
    }
}

/// Suppresses a running count over weeks: small values are "<8"; a week whose net change
/// from the last published week is small is withheld, so no difference reveals a few people.
pub fn suppress_series(values: &[i64], threshold: i64) -> Vec<Shown> {
    let mut last: Option<i64> = None;
    values
        .iter()
        .map(|&v| {
            if v < threshold {
                // A small count says "<8", and the next difference starts from there unknown.
                last = None;
                return Shown::Small;
            }
            let safe = last.is_none_or(|prev| {
                let d = (v - prev).abs();
                d == 0 || d >= threshold
            });
            if safe {
                last = Some(v);
                Shown::Count(v)
            } else {
                Shown::Withheld
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_small_part_takes_the_smallest_other_part_with_it() {
        // total 0 = parts 1..=3
        let values = [40, 3, 20, 17];
        let sums = [Sum {
            total: 0,
            parts: vec![1, 2, 3],
        }];
        let shown = suppress(&values, &sums, 8);
        assert_eq!(
            shown,
            vec![
                Shown::Count(40),
                Shown::Small,
                Shown::Count(20),
                Shown::Withheld
            ]
        );
    }

    #[test]
    fn a_withheld_cell_is_protected_in_every_sum_it_is_in() {
        // Region 0 = LA 1 + LA 2; LA 1 = 3 + 4; LA 2 = 5 + 6.
        let values = [60, 30, 30, 2, 28, 15, 15];
        let sums = [
            Sum {
                total: 0,
                parts: vec![1, 2],
            },
            Sum {
                total: 1,
                parts: vec![3, 4],
            },
            Sum {
                total: 2,
                parts: vec![5, 6],
            },
        ];
        let shown = suppress(&values, &sums, 8);
        for sum in &sums {
            let hidden = std::iter::once(sum.total)
                .chain(sum.parts.iter().copied())
                .filter(|&i| shown[i].count().is_none())
                .count();
            assert_ne!(hidden, 1, "{shown:?}");
        }
        assert_eq!(shown[3], Shown::Small);
    }

    #[test]
    fn a_series_never_moves_by_a_few_between_published_weeks() {
        let shown = suppress_series(&[100, 103, 111, 111, 5, 40], 8);
        assert_eq!(
            shown,
            vec![
                Shown::Count(100),
                Shown::Withheld,
                Shown::Count(111),
                Shown::Count(111),
                Shown::Small,
                Shown::Count(40)
            ]
        );
    }
}
