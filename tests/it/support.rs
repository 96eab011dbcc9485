//! Running the binary against a data directory of its own.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", self.stdout, self.stderr))
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sharedcare")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared UK corpus, when this checkout has it beside it.
pub fn corpus() -> Option<PathBuf> {
    let p = repo().join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/corpus is not present beside this checkout");
        None
    }
}

impl Env {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Registers the sample feeds' sources and imports them (exit code 1 is their planted
    /// rejects).
    pub fn load_sample_feeds(&self) {
        let r = self.run(&[
            "demo",
            "--no-serve",
            "--from",
            repo().join("sample-feeds").to_str().unwrap(),
        ]);
        assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn db(&self) -> PathBuf {
        self.data_dir().join("sharedcare.db")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.arg("--data-dir").arg(self.data_dir()).args(args);
        c.env_remove("SHAREDCARE_DATA_DIR");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = self.command(args).output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and insists on success.
    pub fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code, 0,
            "sharedcare {args:?} failed:\n{}\n{}",
            r.stdout, r.stderr
        );
        r
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn add_source(&self, code: &str, kind: &str, format: &str) {
        self.ok(&[
            "source",
            "add",
            code,
            "--name",
            &format!("{code} feed"),
            "--org",
            "R1K",
            "--kind",
            kind,
            "--format",
            format,
        ]);
    }

    pub fn import(&self, source: &str, file: &Path) -> Run {
        self.run(&[
            "--json",
            "import",
            "--source",
            source,
            file.to_str().unwrap(),
        ])
    }

    /// The database, with its audit file attached as `audit` (so `audit_event` names the
    /// trail there).
    pub fn sql(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.db()).unwrap();
        // Bodies and drafts are stored packed: `unpacked(body)` reads them.
        sharedcare::store::packed::register(&conn).unwrap();
        conn.execute(
            "ATTACH DATABASE ?1 AS audit",
            [self
                .data_dir()
                .join("sharedcare-audit.db")
                .to_str()
                .unwrap()],
        )
        .unwrap();
        conn
    }

    /// Makes every audit write fail, as an unwritable audit trail would: a change's event
    /// (the outbox, in the change's own transaction) and a look at data (the audit file).
    pub fn refuse_audit_writes(&self, message: &str) {
        self.sql()
            .execute_batch(&format!(
                "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_outbox
                 BEGIN SELECT RAISE(ABORT, '{message}'); END;
                 CREATE TRIGGER audit.refuse_audit BEFORE INSERT ON audit_event
                 BEGIN SELECT RAISE(ABORT, '{message}'); END;"
            ))
            .unwrap();
    }

    pub fn allow_audit_writes(&self) {
        self.sql()
            .execute_batch("DROP TRIGGER main.refuse_audit; DROP TRIGGER audit.refuse_audit;")
            .unwrap();
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.sql().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// A fingerprint of everything imported: entries with versions and bodies, links, history.
    pub fn snapshot(&self) -> Vec<String> {
        let conn = self.sql();
        let mut out = Vec::new();
        for sql in [
            "SELECT source_ref || '|' || version || '|' || unpacked(body) || '|' || source_person_id FROM entry ORDER BY source_id, source_ref",
            "SELECT local_id || '|' || coalesce(person_id, '-') || '|' || coalesce(demographics, '') FROM source_person ORDER BY id",
            "SELECT entry_id || '|' || coalesce(version, '-') || '|' || disposition || '|' || hex(content_hash) FROM entry_history ORDER BY id",
            "SELECT id || '|' || coalesce(merged_into, '-') || '|' || demographics FROM person ORDER BY id",
        ] {
            let mut st = conn.prepare(sql).unwrap();
            let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
            out.extend(rows.map(Result::unwrap));
        }
        out
    }
}

/// A valid NHS number from the synthetic 999 range, from a seed.
pub fn nhs_number(seed: u32) -> String {
    let mut n = 900_000_000 + (seed * 7919) % 99_999_999;
    loop {
        let nine = format!("{n:09}");
        if let Some(check) = sharedcare::model::nhs_number::check_value(&nine) {
            if check < 10 {
                return format!("9{}{check}", &nine[1..]);
            }
        }
        n += 1;
    }
}

/// A PID segment; an empty `nhs` leaves the NHS number out.
pub fn pid(mrn: &str, nhs: &str, family: &str, given: &str, dob: &str) -> String {
    let nhs = if nhs.is_empty() {
        String::new()
    } else {
        format!("~{nhs}^^^NHS^NH")
    };
    format!(
        "PID|1||{mrn}^^^RWF^MR{nhs}||{family}^{given}^^^Mr||{dob}|M|||1 High Street^^Maidstone^^ME14 1AA||01632 960001\r"
    )
}

/// An HL7 v2 A08 message.
pub fn a08(
    control: &str,
    time: &str,
    mrn: &str,
    nhs: &str,
    family: &str,
    given: &str,
    dob: &str,
) -> String {
    format!(
        "MSH|^~\\&|PAS|RWF|SHAREDCARE|REGION|{time}||ADT^A08|{control}|P|2.4\r\
         EVN|A08|{time}\r{}PV1|1|O\r",
        pid(mrn, nhs, family, given, dob)
    )
}

/// An HL7 v2 ORU^R01 with one numeric result, for a patient whose PID segment is given.
pub fn oru(control: &str, time: &str, pid: &str, order: &str, value: &str) -> String {
    format!(
        "MSH|^~\\&|LAB|RWF|SHAREDCARE|REGION|{time}||ORU^R01|{control}|P|2.4\r{pid}\
         OBR|1|{order}|{order}|HB^Haemoglobin^L|||{time}\r\
         OBX|1|NM|HB^Haemoglobin^L||{value}|g/L|130-170|L|||F|||{time}\r"
    )
}

/// Every source record with the person it is linked to and how: the links merges move.
pub fn links(env: &Env) -> Vec<(i64, Option<i64>, Option<String>)> {
    let conn = env.sql();
    let mut st = conn
        .prepare("SELECT id, person_id, link_kind FROM source_person ORDER BY id")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The person a source's local id is linked to.
pub fn person_of(env: &Env, local_id: &str) -> i64 {
    env.sql()
        .query_row(
            "SELECT person_id FROM source_person WHERE local_id = ?1",
            [local_id],
            |r| r.get(0),
        )
        .unwrap()
}

/// An HL7 v2 segment with the given fields set (numbered as HL7 numbers them, from 1) and the
/// rest empty; not for MSH, whose first field is the separator itself.
#[allow(dead_code)]
pub fn segment(name: &str, fields: &[(usize, &str)]) -> String {
    let last = fields.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let mut parts = vec![String::new(); last + 1];
    parts[0] = name.to_owned();
    for (n, v) in fields {
        parts[*n] = (*v).to_owned();
    }
    format!("{}\r", parts.join("|"))
}

/// An HL7 v2 ADT message sent by `facility` (MSH-4: the organisation a visit is with), made of
/// the segments after MSH and EVN.
#[allow(dead_code)]
pub fn adt(event: &str, facility: &str, control: &str, time: &str, segments: &[String]) -> String {
    format!(
        "MSH|^~\\&|PAS|{facility}|SHAREDCARE|REGION|{time}||ADT^{event}|{control}|P|2.4\r\
         EVN|{event}|{time}\r{}",
        segments.concat()
    )
}

/// Runs the third-party FHIR R4 validator (`tests/fhir_validate.py`, fhir.resources) over a
/// Bundle: whether it is valid, and what the validator said.
pub fn fhir_validate_bundle(bundle: &str) -> (bool, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("python3")
        .arg(repo().join("tests/fhir_validate.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the FHIR validator (scripts/test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(bundle.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Asserts that `v` is valid FHIR R4. The validator reads Bundles, so a single resource
/// travels in a collection.
pub fn assert_valid_fhir(v: &serde_json::Value) {
    let bundle = if v["resourceType"] == "Bundle" {
        v.clone()
    } else {
        serde_json::json!({"resourceType": "Bundle", "type": "collection", "entry": [{"resource": v}]})
    };
    let (ok, report) = fhir_validate_bundle(&bundle.to_string());
    assert!(ok, "not valid FHIR R4:\n{report}\n{v:#}");
}
