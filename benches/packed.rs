//! What packing entry bodies and history drafts saves and costs:
//! `cargo bench --bench packed -- DATA_DIR/sharedcare.db [--sample N]`.
//!
//! Reads a sample of the stored bodies and drafts of a loaded database (e.g. after
//! `sharedcare demo load`), as the text they unpack to, then packs and unpacks each as the
//! store does. Prints their average size as text and packed, and the time to pack and unpack
//! one (best of three rounds, one thread).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rusqlite::types::ValueRef;
use sharedcare::store::packed;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(db) = args.first() else {
        println!("usage: cargo bench --bench packed -- DATA_DIR/sharedcare.db [--sample N]");
        return;
    };
    let sample: i64 = args
        .iter()
        .position(|a| a == "--sample")
        .and_then(|i| args.get(i + 1))
        .map_or(20_000, |n| n.parse().expect("--sample takes a number"));
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("opening the database");
    packed::register(&conn).unwrap();
    for (what, table, column) in [
        ("body", "entry", "body"),
        ("draft", "entry_history", "draft"),
    ] {
        let texts = sample_of(&conn, table, column, sample);
        if texts.is_empty() {
            println!("{what}: none stored");
            continue;
        }
        let n = texts.len() as f64;
        let text_bytes: usize = texts.iter().map(String::len).sum();
        let mut packed_all = Vec::new();
        let pack_us = best_of_three(|| {
            packed_all = texts.iter().map(|t| packed::pack(t)).collect::<Vec<_>>();
        }) / n;
        let packed_bytes: usize = packed_all.iter().map(Vec::len).sum();
        let unpack_us = best_of_three(|| {
            for p in &packed_all {
                std::hint::black_box(packed::unpack(ValueRef::Blob(p)).unwrap());
            }
        }) / n;
        println!(
            "{what}: {} sampled, {:.1} bytes as text, {:.1} packed ({:.0} %); pack {pack_us:.2} µs, \
             unpack {unpack_us:.2} µs",
            texts.len(),
            text_bytes as f64 / n,
            packed_bytes as f64 / n,
            100.0 * packed_bytes as f64 / text_bytes as f64,
        );
    }
}

/// Up to `sample` values of `column`, spread evenly over the table's ids.
fn sample_of(conn: &rusqlite::Connection, table: &str, column: &str, sample: i64) -> Vec<String> {
    let rows: i64 = conn
        .query_row(&format!("SELECT max(id) FROM {table}"), [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .unwrap()
        .unwrap_or(0);
    let step = (rows / sample.max(1)).max(1);
    conn.prepare(&format!(
        "SELECT unpacked({column}) FROM {table} WHERE id % ?1 = 0 LIMIT ?2"
    ))
    .unwrap()
    .query_map([step, sample], |r| r.get(0))
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The fastest of three runs of `work`, in microseconds.
fn best_of_three(mut work: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64() * 1e6
        })
        .fold(f64::INFINITY, f64::min)
}
