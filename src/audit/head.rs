//! The chain head: `DATA_DIR/audit.head`, the newest (seq, hash) a writer committed, MACed with
//! the audit key, kept outside the database so that cutting events off the end of the log shows.
//!
//! One line of text: `sharedcare-audit-head-v1 <seq> <hash hex> <mac hex>`, where the MAC is
//! HMAC-SHA256(key, "sharedcare-audit-head-v1" || seq as 8 bytes || hash) — a different domain
//! from the event chain, so a head can never pass for an event or the other way round. It is
//! replaced atomically (written under a temporary name, then renamed over the old one), so a
//! reader sees the old head or the new one, never half of either.

use super::chain::{from_hex, to_hex, Hash};
use super::key::AuditKey;
use crate::error::{Error, Result};
use hmac::Mac;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub const HEAD_FILE: &str = "audit.head";
const TAG: &str = "sharedcare-audit-head-v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// 0 before any event: the head written when the key is made.
    pub seq: i64,
    pub hash: Hash,
}

fn mac(key: &AuditKey, head: &Head) -> Hash {
    let mut m = key.mac();
    m.update(TAG.as_bytes());
    m.update(&head.seq.to_be_bytes());
    m.update(&head.hash);
    m.finalize().into_bytes().into()
}

/// The head file as written; `Ok(None)` when there is none. A file that is not a head, or whose
/// MAC is wrong, is an error naming what is wrong.
pub fn read(data_dir: &Path, key: &AuditKey) -> Result<Option<Head>> {
    let path = data_dir.join(HEAD_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                doing: "read the audit head",
                path,
                source,
            })
        }
    };
    let bad = |why: &str| Error::Audit(format!("{} {why}", path.display()));
    let mut parts = text.split_ascii_whitespace();
    if parts.next() != Some(TAG) {
        return Err(bad("is not an audit head record"));
    }
    let seq = parts.next().and_then(|s| s.parse::<i64>().ok());
    let hash = parts.next().and_then(from_hex);
    let tag = parts.next().and_then(from_hex);
    let (Some(seq), Some(hash), Some(tag), None) = (seq, hash, tag, parts.next()) else {
        return Err(bad("is damaged (expected a seq, a hash and a MAC)"));
    };
    let head = Head { seq, hash };
    // Compared through the MAC type so the comparison takes the same time wherever they differ.
    let mut check = key.mac();
    check.update(TAG.as_bytes());
    check.update(&head.seq.to_be_bytes());
    check.update(&head.hash);
    if check.verify_slice(&tag).is_err() {
        return Err(bad(
            "has a wrong MAC: it was not written with this audit key (forged, or the key changed)",
        ));
    }
    Ok(Some(head))
}

/// Replaces the head file with `head`.
pub fn write(data_dir: &Path, key: &AuditKey, head: &Head) -> Result<()> {
    // Unique per writer, so concurrent writers in one process never share a temporary file.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let temp = data_dir.join(format!(".{HEAD_FILE}.{}.{n}.tmp", std::process::id()));
    let path = data_dir.join(HEAD_FILE);
    let line = format!(
        "{TAG} {} {} {}\n",
        head.seq,
        to_hex(&head.hash),
        to_hex(&mac(key, head))
    );
    let written = crate::data_dir::create_private_file(&temp)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .and_then(|()| std::fs::rename(&temp, &path));
    written.map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        Error::Io {
            doing: "write the audit head",
            path,
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_round_trips_and_a_forged_or_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let key = AuditKey::from_bytes(&[3; 32]).unwrap();
        assert_eq!(read(dir.path(), &key).unwrap(), None);
        let head = Head {
            seq: 100_000,
            hash: [9; 32],
        };
        write(dir.path(), &key, &head).unwrap();
        assert_eq!(read(dir.path(), &key).unwrap(), Some(head));
        let other = AuditKey::from_bytes(&[4; 32]).unwrap();
        let e = read(dir.path(), &other).unwrap_err().to_string();
        assert!(e.contains("wrong MAC"), "{e}");
        let path = dir.path().join(HEAD_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace(" 100000 ", " 100001 ")).unwrap();
        assert!(read(dir.path(), &key).is_err(), "a changed seq");
        std::fs::write(&path, "junk").unwrap();
        let e = read(dir.path(), &key).unwrap_err().to_string();
        assert!(e.contains("not an audit head"), "{e}");
    }
}
