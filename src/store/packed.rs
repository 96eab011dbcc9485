//! Entry bodies and history drafts are stored packed: compressed (zstd) against a dictionary
//! of the words they are made of (their field names and the commonest values), so the field
//! names that make up half of a small body cost a few bits each. On the generated region a
//! body of 131 bytes packs to about 70 and a history draft of 339 to about 144; packing a body
//! takes about a microsecond and unpacking it a fifth of one (`cargo bench --bench packed`).
//!
//! A packed value is a BLOB: one format byte, then a zstd frame without its 4-byte magic
//! number (every value would repeat it). A TEXT value is JSON as written before packing, and
//! reads as it is, so a database keeps every row it had and packs the rows written from then
//! on. SQL reads both through `unpacked(x)` and writes through `packed(x)`, which [`register`]
//! adds to a connection.

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::Connection;
use std::cell::RefCell;
use std::sync::LazyLock;
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

/// The first byte of a value kept as it is: the UTF-8 text follows.
const FORMAT_PLAIN: u8 = 0;

/// The first byte of a value packed against [`DICTIONARY_1`]. A new dictionary takes a new
/// byte and this one stays readable: rows packed with it are never rewritten.
const FORMAT_1: u8 = 1;

/// Every zstd frame begins with these bytes; a packed value leaves them out.
const ZSTD_MAGIC: [u8; 4] = 0xFD2F_B528_u32.to_le_bytes();

/// zstd's level for packing: its fastest ordinary one. Higher levels save a byte or two a
/// value and cost the import far more.
const LEVEL: i32 = 1;

/// No stored body or draft comes near this; a value claiming more is damaged.
const LARGEST: u64 = 64 << 20;

/// The words of bodies and drafts, the commonest last (zstd reaches back to near words at
/// least cost). Frozen: every value packed with format 1 needs these exact bytes to unpack,
/// and a test holds their hash.
const DICTIONARY_1: &str = concat!(
    r#""legal_status":"cpa_level":"crisis_plan":"coordinator_contact":"care_coordinator":"#,
    r#""document_location":"responsible_person":"temporarily_at":"review_date":"is_carer":"#,
    r#""relationship":"author":"comment":"recorded_by":"address":"message":"#,
    r#""role":"phone":"agency":"hours_per_week":"provider":"risk_level":"contact":"#,
    r#""alert_type":"named_worker":"worker_contact":"service":"prescriber":"frequency":"#,
    r#""priority":"from_organisation":"to_organisation":"to_service":"description":"#,
    r#""team":"substance":"detail":"date":"state":"condition":"visit":"reason":"#,
    r#""verification_status":"confirmed","discharge_destination":"Usual place of residence","#,
    r#""bed":"ward":"organisation":"site":"specialty":"clinician":"#,
    r#""kind":"inpatient","kind":"emergency-department","kind":"aand-e","#,
    r#""vaccine":"COVID-19 mRNA vaccine","vaccine":"Influenza vaccine (inactivated)","#,
    r#""clinical_status":"active","kind":"problem","#,
    r#""dose":"One tablet at night","dose":"One tablet daily","kind":"statement","#,
    r#""source_ref":"category":"code_system":null,"code":null,"title":"status":"active","#,
    r#""start":"end":null,"recorded_at":"sensitive":false,"not_for_patient":false,"#,
    r#""body":{"type":"result","#,
    r#""name":"value":"Not detected","numeric":"unit":"mmol/L","reference_range":"#,
    r#""abnormal_flag":"N","report":"panel":"panel_code":"specimen":"Blood"}"#,
);

static ENCODER: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(DICTIONARY_1.as_bytes(), LEVEL));
static DECODER: LazyLock<DecoderDictionary<'static>> =
    LazyLock::new(|| DecoderDictionary::copy(DICTIONARY_1.as_bytes()));

thread_local! {
    /// One compressor and one decompressor a thread, with the dictionary already digested:
    /// making them afresh for each value would cost more than the packing.
    static CODERS: RefCell<Option<(Compressor<'static>, Decompressor<'static>)>> =
        const { RefCell::new(None) };
}

fn coders() -> std::io::Result<(Compressor<'static>, Decompressor<'static>)> {
    let mut compressor = Compressor::with_prepared_dictionary(&ENCODER)?;
    compressor.include_checksum(false)?;
    compressor.include_dictid(false)?;
    compressor.include_contentsize(true)?;
    Ok((
        compressor,
        Decompressor::with_prepared_dictionary(&DECODER)?,
    ))
}

/// Runs `work` with this thread's coders.
fn with_coders<T>(
    work: impl FnOnce(&mut Compressor<'static>, &mut Decompressor<'static>) -> T,
) -> std::io::Result<T> {
    CODERS.with_borrow_mut(|slot| {
        let made = match slot.take() {
            Some(made) => made,
            None => coders()?,
        };
        let (compressor, decompressor) = slot.insert(made);
        Ok(work(compressor, decompressor))
    })
}

/// Why a stored value could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum Unpack {
    #[error("a packed value of unknown format {0} (written by a newer version?)")]
    UnknownFormat(u8),
    #[error("a packed value that does not unpack: {0}")]
    Corrupt(String),
    #[error("a stored value that is neither text nor packed")]
    NotText,
}

/// `text` packed.
pub fn pack(text: &str) -> Vec<u8> {
    let packed = with_coders(|compressor, _| {
        let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(text.len()));
        compressor.compress_to_buffer(text.as_bytes(), &mut frame)?;
        match frame.strip_prefix(&ZSTD_MAGIC) {
            Some(rest) => {
                let mut out = Vec::with_capacity(rest.len() + 1);
                out.push(FORMAT_1);
                out.extend_from_slice(rest);
                Ok(out)
            }
            None => Err(std::io::Error::other(
                "a zstd frame without its magic number",
            )),
        }
    });
    // Packing fails only if zstd cannot allocate its context; then the text is kept as it is
    // (which reads the same) rather than lost.
    match packed {
        Ok(Ok(out)) => out,
        _ => plain(text),
    }
}

/// `text` in the packed form that keeps it as it is.
fn plain(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 1);
    out.push(FORMAT_PLAIN);
    out.extend_from_slice(text.as_bytes());
    out
}

/// A stored value as text: TEXT as it is, a packed BLOB unpacked.
pub fn unpack(stored: ValueRef<'_>) -> Result<String, Unpack> {
    match stored {
        ValueRef::Text(text) => String::from_utf8(text.to_vec()).map_err(|_| Unpack::NotText),
        ValueRef::Blob(blob) => unpack_blob(blob),
        _ => Err(Unpack::NotText),
    }
}

fn unpack_blob(blob: &[u8]) -> Result<String, Unpack> {
    let Some((&format, rest)) = blob.split_first() else {
        return Err(Unpack::Corrupt("it is empty".into()));
    };
    match format {
        FORMAT_1 => {}
        FORMAT_PLAIN => {
            return String::from_utf8(rest.to_vec())
                .map_err(|_| Unpack::Corrupt("it is not UTF-8".into()))
        }
        _ => return Err(Unpack::UnknownFormat(format)),
    }
    let mut frame = Vec::with_capacity(rest.len() + ZSTD_MAGIC.len());
    frame.extend_from_slice(&ZSTD_MAGIC);
    frame.extend_from_slice(rest);
    let size = match zstd::zstd_safe::get_frame_content_size(&frame) {
        Ok(Some(size)) if size <= LARGEST => size as usize,
        Ok(Some(size)) => return Err(Unpack::Corrupt(format!("it claims {size} bytes"))),
        _ => return Err(Unpack::Corrupt("its header is damaged".into())),
    };
    let mut out = Vec::with_capacity(size);
    with_coders(|_, decompressor| decompressor.decompress_to_buffer(&frame, &mut out))
        .and_then(|done| done)
        .map_err(|e| Unpack::Corrupt(e.to_string()))?;
    if out.len() != size {
        return Err(Unpack::Corrupt("it ends early".into()));
    }
    String::from_utf8(out).map_err(|_| Unpack::Corrupt("it is not UTF-8".into()))
}

/// Adds `unpacked(x)` (TEXT for a stored body or draft, packed or not; NULL for NULL) and
/// `packed(text)` to a connection.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("unpacked", 1, flags, |ctx| {
        let stored = ctx.get_raw(0);
        if stored == ValueRef::Null {
            return Ok(ToSqlOutput::Owned(Value::Null));
        }
        unpack(stored)
            .map(|text| ToSqlOutput::Owned(Value::Text(text)))
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
    })?;
    conn.create_scalar_function("packed", 1, flags, |ctx| match ctx.get_raw(0) {
        ValueRef::Text(text) => std::str::from_utf8(text)
            .map(|text| ToSqlOutput::Owned(Value::Blob(pack(text))))
            .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e))),
        // Anything but text (NULL above all) is stored as it came.
        ValueRef::Null => Ok(ToSqlOutput::Owned(Value::Null)),
        ValueRef::Integer(i) => Ok(ToSqlOutput::Owned(Value::Integer(i))),
        ValueRef::Real(r) => Ok(ToSqlOutput::Owned(Value::Real(r))),
        ValueRef::Blob(b) => Ok(ToSqlOutput::Owned(Value::Blob(b.to_vec()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn round_trip(text: &str) -> String {
        unpack(ValueRef::Blob(&pack(text))).unwrap()
    }

    #[test]
    fn packed_values_unpack_to_exactly_what_was_packed() {
        let big = "Ω lorem ipsum, dolor sit amet ".repeat(4000);
        for text in [
            "",
            "{}",
            r#"{"value":"346.0","numeric":346.0,"unit":"10*9/L","reference_range":"150-400"}"#,
            r#"{"name":"Ysbyty Gwynedd – ward 5 ✓","comment":"line\nbreak \"quoted\""}"#,
            big.as_str(),
        ] {
            assert_eq!(round_trip(text), text);
        }
    }

    #[test]
    fn a_typical_body_packs_to_about_half() {
        let body = r#"{"value":"140.2","numeric":140.2,"unit":"mmol/L","reference_range":"133-146","abnormal_flag":"N","report":"Urea and electrolytes (L0-9943S10R0)","panel":"Urea and electrolytes","panel_code":"UE","specimen":"Blood"}"#;
        let packed = pack(body);
        assert!(
            packed.len() * 2 < body.len() + 20,
            "{} of {}",
            packed.len(),
            body.len()
        );
    }

    #[test]
    fn text_written_before_packing_reads_as_it_is() {
        let old = r#"{"substance":"Latex"}"#;
        assert_eq!(unpack(ValueRef::Text(old.as_bytes())).unwrap(), old);
    }

    #[test]
    fn regression_a_value_that_could_not_be_packed_was_kept_in_a_form_that_did_not_read_back() {
        // Were zstd ever unable to pack, the text is kept as it is, marked as such: stored
        // bare, its first byte (`{`) would have read as an unknown format.
        let text = r#"{"substance":"Latex"}"#;
        assert_eq!(unpack(ValueRef::Blob(&plain(text))).unwrap(), text);
    }

    #[test]
    fn damaged_or_unknown_values_are_errors_not_panics() {
        let mut cut = pack(r#"{"name":"Hypertension","kind":"problem"}"#);
        cut.truncate(cut.len() / 2);
        assert!(matches!(
            unpack(ValueRef::Blob(&cut)),
            Err(Unpack::Corrupt(_))
        ));
        assert!(matches!(
            unpack(ValueRef::Blob(&[])),
            Err(Unpack::Corrupt(_))
        ));
        assert!(matches!(
            unpack(ValueRef::Blob(&[9, 1, 2])),
            Err(Unpack::UnknownFormat(9))
        ));
        assert!(matches!(
            unpack(ValueRef::Blob(&[1, 0xff, 0xff, 0xff])),
            Err(Unpack::Corrupt(_))
        ));
        assert!(matches!(unpack(ValueRef::Integer(3)), Err(Unpack::NotText)));
    }

    #[test]
    fn the_format_1_dictionary_never_changes() {
        // Every value packed with format 1 needs these exact bytes to unpack: a new dictionary
        // needs a new format byte, with this one kept.
        let hash = hex::encode(Sha256::digest(DICTIONARY_1.as_bytes()));
        assert_eq!(
            hash,
            "a34ae5d327d660f70732db9449cab8aa46c0a5d1a227c2f8a6964f59cc5f16e9"
        );
    }

    #[test]
    fn sql_reads_and_writes_both_forms() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let text: String = conn
            .query_row("SELECT unpacked(packed('{\"a\":\"b\"}'))", [], |r| r.get(0))
            .unwrap();
        assert_eq!(text, r#"{"a":"b"}"#);
        let kind: String = conn
            .query_row(
                "SELECT json_extract(unpacked(?1), '$.kind')",
                [pack(r#"{"kind":"inpatient"}"#)],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(kind, "inpatient");
        let null: Option<String> = conn
            .query_row("SELECT unpacked(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, None);
        let err = conn
            .query_row("SELECT unpacked(x'0900')", [], |r| r.get::<_, String>(0))
            .unwrap_err();
        assert!(err.to_string().contains("unknown format 9"), "{err}");
    }
}
