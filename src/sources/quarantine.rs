//! What an administrator does with a quarantined file: find it again from the store's record,
//! read it for display, give it back to the inbox to be imported again (after the source fixed
//! it, the fixed bytes are written over it first), or set it aside in
//! `DATA_DIR/discarded/<SOURCE>/` with its reason and a note of who discarded it, when and why.
//! Nothing is deleted: every move is a rename within the data directory.

use super::{create_dir, free_name, io, reason_path, regular_files, Spool};
use crate::error::Result;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

impl Spool {
    pub fn discarded_dir(&self) -> PathBuf {
        self.dir("discarded")
    }

    /// The quarantined file recorded as `name` with `sha256`. Quarantine renames a clash to
    /// `name~2`, `name~3`…, so every such file is a candidate; the one with the recorded
    /// content wins, else (the file was fixed in place) the only or newest candidate.
    pub fn find_quarantined(&self, name: &str, sha256: &str) -> Result<Option<PathBuf>> {
        let candidates: Vec<PathBuf> = regular_files(&self.quarantine_dir())?
            .into_iter()
            .filter(|(n, _)| {
                n == name
                    || n.strip_prefix(name)
                        .and_then(|rest| rest.strip_prefix('~'))
                        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|(_, p)| p)
            .collect();
        for path in &candidates {
            if let Ok(bytes) = std::fs::read(path) {
                if hex::encode(Sha256::digest(&bytes)) == sha256 {
                    return Ok(Some(path.clone()));
                }
            }
        }
        // regular_files lists oldest first.
        Ok(candidates.last().cloned())
    }

    /// Moves a quarantined file back into the inbox, where the next scans claim and import it,
    /// and drops its `.reason` (the store keeps the reason). Returns where it went.
    pub fn release(&self, quarantined: &Path) -> Result<PathBuf> {
        let inbox = self.inbox();
        create_dir(&inbox)?;
        let name = file_name(quarantined);
        let target = free_name(&inbox, &name);
        std::fs::rename(quarantined, &target).map_err(|e| io("replay", quarantined, e))?;
        let reason = reason_path(quarantined);
        if reason.exists() {
            std::fs::remove_file(&reason).map_err(|e| io("remove", &reason, e))?;
        }
        Ok(target)
    }

    /// Moves a quarantined file and its `.reason` into `discarded/`, beside a `.discarded`
    /// note saying who, when and why. Returns where it went.
    pub fn discard(
        &self,
        quarantined: &Path,
        who: &str,
        when: &str,
        note: &str,
    ) -> Result<PathBuf> {
        let dir = self.discarded_dir();
        create_dir(&dir)?;
        let name = file_name(quarantined);
        let target = free_name(&dir, &name);
        let mut note_path = target.as_os_str().to_owned();
        note_path.push(".discarded");
        let note_path = PathBuf::from(note_path);
        crate::data_dir::write_private(
            &note_path,
            format!("discarded by {who} at {when}\n{note}\n").as_bytes(),
        )
        .map_err(|e| io("write", &note_path, e))?;
        std::fs::rename(quarantined, &target).map_err(|e| io("discard", quarantined, e))?;
        let reason = reason_path(quarantined);
        if reason.exists() {
            let moved = reason_path(&target);
            std::fs::rename(&reason, &moved).map_err(|e| io("discard", &reason, e))?;
        }
        Ok(target)
    }
}

impl Spool {
    /// Puts back a file that [`release`](Self::release) or [`discard`](Self::discard) moved
    /// to `moved`, when the decision that moved it could not be committed: the file returns
    /// to `original` with its `.reason` (moved back, or written again from `reason`), and a
    /// discard note beside `moved` goes.
    pub fn put_back(&self, moved: &Path, original: &Path, reason: Option<&str>) -> Result<()> {
        std::fs::rename(moved, original).map_err(|e| io("put back", moved, e))?;
        let moved_reason = reason_path(moved);
        let original_reason = reason_path(original);
        if moved_reason.exists() {
            std::fs::rename(&moved_reason, &original_reason)
                .map_err(|e| io("put back", &moved_reason, e))?;
        } else if let Some(reason) = reason {
            // As `Spool::quarantine` writes it.
            std::fs::write(&original_reason, format!("{reason}\n"))
                .map_err(|e| io("write", &original_reason, e))?;
        }
        let mut note = moved.as_os_str().to_owned();
        note.push(".discarded");
        let note = PathBuf::from(note);
        if note.exists() {
            std::fs::remove_file(&note).map_err(|e| io("remove", &note, e))?;
        }
        Ok(())
    }
}

/// At most `cap` bytes of a file, and its whole size.
pub fn read_capped(path: &Path, cap: usize) -> Result<(Vec<u8>, u64)> {
    let file = std::fs::File::open(path).map_err(|e| io("read", path, e))?;
    let size = file.metadata().map_err(|e| io("read", path, e))?.len();
    let mut bytes = Vec::new();
    file.take(u64::try_from(cap).unwrap_or(u64::MAX))
        .read_to_end(&mut bytes)
        .map_err(|e| io("read", path, e))?;
    Ok((bytes, size))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_file_is_found_released_and_a_discarded_one_keeps_its_trace() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), "SRC").unwrap();
        let q = spool.quarantine_dir();
        std::fs::create_dir_all(&q).unwrap();
        std::fs::write(q.join("a.hl7"), b"fixed").unwrap();
        std::fs::write(q.join("a.hl7.reason"), b"bad\n").unwrap();
        std::fs::write(q.join("a.hl7~2"), b"other").unwrap();
        std::fs::write(q.join("ab.hl7"), b"x").unwrap();
        let other = hex::encode(Sha256::digest(b"other"));
        assert_eq!(
            spool.find_quarantined("a.hl7", &other).unwrap(),
            Some(q.join("a.hl7~2"))
        );
        assert!(spool.find_quarantined("zz", &other).unwrap().is_none());
        let back = spool.release(&q.join("a.hl7")).unwrap();
        assert_eq!(back, spool.inbox().join("a.hl7"));
        assert!(!q.join("a.hl7.reason").exists());
        std::fs::write(q.join("a.hl7~2.reason"), b"why\n").unwrap();
        let gone = spool
            .discard(
                &q.join("a.hl7~2"),
                "it",
                "2025-01-01T00:00:00Z",
                "sent twice",
            )
            .unwrap();
        assert_eq!(std::fs::read(&gone).unwrap(), b"other");
        let d = spool.discarded_dir();
        assert!(d.join("a.hl7~2.reason").exists());
        let note = std::fs::read_to_string(d.join("a.hl7~2.discarded")).unwrap();
        assert!(note.contains("by it") && note.contains("sent twice"));
        let (head, size) = read_capped(&gone, 2).unwrap();
        assert_eq!((head.as_slice(), size), (&b"ot"[..], 5));
    }
}
