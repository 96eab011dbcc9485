//! An attacker's view of a published table: every cell is a number of at least the threshold
//! or a mark ("<8", "c"), and no hidden cell can be worked out from the sums the cells obey —
//! neither exactly (a hidden cell whose unit vector lies in the row space of the sums, by
//! elimination) nor by bounds (a "<8" cell pinned to one value from 1 to 7 by one sum).

/// A published cell: shown as a count, or hidden ("<8" small, "c" withheld).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(i64),
    Small,
    Withheld,
}

pub fn parse(text: &str, threshold: i64) -> Cell {
    if text == format!("<{threshold}") {
        return Cell::Small;
    }
    if text == "c" {
        return Cell::Withheld;
    }
    let n: i64 = text
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("cell {text:?} is neither a count nor a mark"));
    assert!(n >= threshold, "a shown count under {threshold}: {n}");
    Cell::Count(n)
}

/// total = sum of parts, over cell indexes of one table.
pub struct Sum {
    pub total: usize,
    pub parts: Vec<usize>,
}

fn rank(rows: &[Vec<f64>]) -> usize {
    let mut m: Vec<Vec<f64>> = rows.to_vec();
    let cols = m.first().map_or(0, Vec::len);
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..m.len()).find(|&i| m[i][c].abs() > 1e-9) else {
            continue;
        };
        m.swap(r, p);
        let pivot = m[r].clone();
        for (i, row) in m.iter_mut().enumerate() {
            if i != r && row[c].abs() > 1e-9 {
                let f = row[c] / pivot[c];
                for (x, y) in row.iter_mut().zip(&pivot) {
                    *x -= f * y;
                }
            }
        }
        r += 1;
        if r == m.len() {
            break;
        }
    }
    r
}

/// Panics, naming the cell, when any hidden cell can be recovered; `what` names the table.
pub fn assert_unrecoverable(what: &str, cells: &[Cell], sums: &[Sum]) {
    let hidden: Vec<usize> = (0..cells.len())
        .filter(|&i| !matches!(cells[i], Cell::Count(_)))
        .collect();
    let col = |i: usize| hidden.iter().position(|&h| h == i);
    let mut rows = Vec::new();
    for s in sums {
        let mut row = vec![0.0; hidden.len()];
        let mut known = 0i64;
        let mut hidden_small = Vec::new();
        let mut withheld = 0;
        for (i, sign) in std::iter::once((s.total, -1.0)).chain(s.parts.iter().map(|&p| (p, 1.0))) {
            match (cells[i], col(i)) {
                (Cell::Count(n), _) => known += (sign as i64) * n,
                (c, Some(k)) => {
                    row[k] += sign;
                    if c == Cell::Small && sign > 0.0 {
                        hidden_small.push(i);
                    } else if c == Cell::Withheld && sign > 0.0 {
                        withheld += 1;
                    }
                }
                _ => unreachable!(),
            }
        }
        // Bounds in one sum: a total shown, its hidden parts sum to `-known`.
        if !matches!(cells[s.total], Cell::Count(_)) {
            rows.push(row);
            continue;
        }
        let residual = -known;
        if withheld == 0 && hidden_small.len() == 1 {
            panic!(
                "{what}: cell {} is the total less the others ({residual})",
                hidden_small[0]
            );
        }
        for &i in &hidden_small {
            let others_small = hidden_small.len() as i64 - 1;
            let lower =
                (residual - 7 * others_small - if withheld > 0 { i64::MAX / 4 } else { 0 }).max(0);
            let upper = (residual - 8 * withheld).min(7);
            assert!(
                !(lower == upper && lower > 0),
                "{what}: cell {i} is pinned to {lower} by a sum"
            );
        }
        rows.push(row);
    }
    if hidden.is_empty() {
        return;
    }
    let base = rank(&rows);
    for (k, &i) in hidden.iter().enumerate() {
        let mut with = rows.clone();
        let mut unit = vec![0.0; hidden.len()];
        unit[k] = 1.0;
        with.push(unit);
        assert!(
            rank(&with) > base,
            "{what}: hidden cell {i} ({:?}) can be worked out from the sums",
            cells[i]
        );
    }
}

#[test]
fn the_solver_finds_a_cell_left_alone_in_its_sum() {
    let cells = [Cell::Count(30), Cell::Small, Cell::Count(25)];
    let sums = [Sum {
        total: 0,
        parts: vec![1, 2],
    }];
    let caught = std::panic::catch_unwind(|| assert_unrecoverable("t", &cells, &sums));
    assert!(caught.is_err());
    // Two hidden parts of one shown total cannot be told apart.
    let cells = [
        Cell::Count(40),
        Cell::Small,
        Cell::Withheld,
        Cell::Count(25),
    ];
    let sums = [Sum {
        total: 0,
        parts: vec![1, 2, 3],
    }];
    assert_unrecoverable("t", &cells, &sums);
    // Two sums that share two hidden cells pin them: a + b known, a − … known.
    let cells = [
        Cell::Count(30),
        Cell::Small,
        Cell::Withheld,
        Cell::Count(12),
        Cell::Count(9),
        Cell::Small,
    ];
    let sums = [
        Sum {
            total: 0,
            parts: vec![1, 2],
        },
        Sum {
            total: 3,
            parts: vec![2, 4],
        },
    ];
    let caught = std::panic::catch_unwind(|| assert_unrecoverable("t", &cells, &sums));
    assert!(caught.is_err());
}
