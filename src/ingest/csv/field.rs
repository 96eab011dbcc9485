//! The one way a mapping says where a value comes from: a column, a template over columns, or a
//! constant, optionally passed through a code map, required, or read as a date in given formats.
//!
//! Kept apart from the rest of the mapping so that every place that takes a value (the subject,
//! a demographic field, an entry's title, a body field) reads and validates it the same way.

use serde::Deserialize;

/// A column, by header name or by 1-based number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ColumnRef {
    Name(String),
    Number(usize),
}

impl ColumnRef {
    fn from_toml(value: &toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::String(s) => Self::from_text(s),
            toml::Value::Integer(n) => usize::try_from(*n)
                .ok()
                .filter(|n| *n >= 1)
                .map(Self::Number)
                .ok_or_else(|| format!("column numbers start at 1; `{n}` is not one")),
            other => Err(format!(
                "a column is a header name or a 1-based number, not {}",
                other.type_str()
            )),
        }
    }

    /// All digits means a column number; anything else is a header name.
    fn from_text(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a column name cannot be empty".into());
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(Self::Number(n)),
                _ => Err(format!("column numbers start at 1; `{text}` is not one")),
            };
        }
        Ok(Self::Name(text.to_owned()))
    }
}

impl std::fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Name(n) => write!(f, "column `{n}`"),
            Self::Number(n) => write!(f, "column {n}"),
        }
    }
}

/// Literal text and column placeholders, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Piece {
    Text(String),
    Column(ColumnRef),
    /// `{subject}`: the person's id as resolved for the row (after any NHS number fallback).
    Subject,
}

/// Text with `{column}` placeholders; `{{` and `}}` stand for literal braces. `{subject}` is
/// reserved for the row's resolved subject, so an entry's reference stays stable when the
/// subject falls back to the NHS number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    pub text: String,
    pub pieces: Vec<Piece>,
}

/// Longest template text accepted, so a mapping cannot make rows grow without bound.
const MAX_TEMPLATE_CHARS: usize = 1024;
/// Most `{column}` placeholders in one template.
const MAX_PLACEHOLDERS: usize = 32;

impl Template {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(format!(
                "a template is at most {MAX_TEMPLATE_CHARS} characters"
            ));
        }
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some('{') | None => {
                                return Err(format!(
                                    "template `{text}` has an unclosed `{{`; write `{{{{` for a literal brace"
                                ))
                            }
                            Some(c) => name.push(c),
                        }
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut literal)));
                    }
                    if name.trim() == "subject" {
                        pieces.push(Piece::Subject);
                        continue;
                    }
                    let column = ColumnRef::from_text(&name)
                        .map_err(|e| format!("template `{text}`: {e}"))?;
                    pieces.push(Piece::Column(column));
                }
                '}' => {
                    return Err(format!(
                    "template `{text}` has a `}}` with no `{{`; write `}}}}` for a literal brace"
                ))
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        // Each placeholder can expand to a whole row, so their number bounds a value's size.
        if pieces
            .iter()
            .filter(|p| !matches!(p, Piece::Text(_)))
            .count()
            > MAX_PLACEHOLDERS
        {
            return Err(format!(
                "template `{text}` has more than {MAX_PLACEHOLDERS} placeholders"
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            pieces,
        })
    }

    pub fn columns(&self) -> impl Iterator<Item = &ColumnRef> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Column(c) => Some(c),
            Piece::Text(_) | Piece::Subject => None,
        })
    }

    pub fn uses_subject(&self) -> bool {
        self.pieces.contains(&Piece::Subject)
    }
}

/// Where a value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    Column(ColumnRef),
    Template(Template),
    Value(String),
}

/// One value a mapping reads from a row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub(super) struct Field {
    pub source: Source,
    /// Name of a code map in `[maps]` the value goes through.
    pub map: Option<String>,
    /// An empty value rejects the row.
    pub required: bool,
    /// Date formats for this field, instead of the mapping's `date_formats`.
    pub formats: Option<Vec<String>>,
}

impl Field {
    fn plain(source: Source) -> Self {
        Self {
            source,
            map: None,
            required: false,
            formats: None,
        }
    }

    /// Every column this field reads.
    pub fn columns(&self) -> Vec<&ColumnRef> {
        match &self.source {
            Source::Column(c) => vec![c],
            Source::Template(t) => t.columns().collect(),
            Source::Value(_) => Vec::new(),
        }
    }

    /// What this field is, for messages people read.
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Column(c) => c.to_string(),
            Source::Template(t) => format!("template `{}`", t.text),
            Source::Value(v) => format!("value `{v}`"),
        }
    }

    pub fn constant(&self) -> Option<&str> {
        match &self.source {
            Source::Value(v) => Some(v),
            _ => None,
        }
    }
}

const FIELD_FORMS: &str = "a column name (\"dob\"), a column number (14), a template \
(\"{id}/alert/{alert_no}\"), or a table with one of `column`, `template` or `value` and \
optionally `map`, `required`, `formats`";

impl TryFrom<toml::Value> for Field {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        match value {
            toml::Value::Integer(_) => {
                Ok(Self::plain(Source::Column(ColumnRef::from_toml(&value)?)))
            }
            toml::Value::String(s) if s.contains('{') || s.contains('}') => {
                Ok(Self::plain(Source::Template(Template::parse(&s)?)))
            }
            toml::Value::String(s) => Ok(Self::plain(Source::Column(ColumnRef::from_text(&s)?))),
            toml::Value::Table(table) => from_table(table),
            other => Err(format!(
                "a field is {FIELD_FORMS}; found {}",
                other.type_str()
            )),
        }
    }
}

fn from_table(table: toml::Table) -> Result<Field, String> {
    let mut source = None;
    let mut field = Field::plain(Source::Value(String::new()));
    for (key, value) in table {
        match key.as_str() {
            "column" | "template" | "value" => {
                if source.is_some() {
                    return Err(
                        "a field takes exactly one of `column`, `template` or `value`".into(),
                    );
                }
                source = Some(match key.as_str() {
                    "column" => Source::Column(ColumnRef::from_toml(&value)?),
                    "template" => match value {
                        toml::Value::String(s) => Source::Template(Template::parse(&s)?),
                        other => {
                            return Err(format!("`template` is text, not {}", other.type_str()))
                        }
                    },
                    _ => Source::Value(constant_text(value)?),
                });
            }
            "map" => match value {
                toml::Value::String(s) => field.map = Some(s),
                other => return Err(format!("`map` names a code map, not {}", other.type_str())),
            },
            "required" => match value {
                toml::Value::Boolean(b) => field.required = b,
                other => {
                    return Err(format!(
                        "`required` is true or false, not {}",
                        other.type_str()
                    ))
                }
            },
            "formats" => field.formats = Some(text_list(value, "formats")?),
            other => {
                return Err(format!(
                    "`{other}` is not a field setting; a field is {FIELD_FORMS}"
                ))
            }
        }
    }
    field.source = source.ok_or_else(|| format!("a field needs a source: {FIELD_FORMS}"))?;
    Ok(field)
}

/// Constants may be written as TOML text, numbers or booleans; all are text to the adapter.
fn constant_text(value: toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s),
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::Float(x) => Ok(x.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "`value` is text, a number or true/false, not {}",
            other.type_str()
        )),
    }
}

/// One string or a list of strings.
pub(super) fn text_list(value: toml::Value, what: &str) -> Result<Vec<String>, String> {
    match value {
        toml::Value::String(s) => Ok(vec![s]),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) => Ok(s),
                other => Err(format!("`{what}` lists text, not {}", other.type_str())),
            })
            .collect(),
        other => Err(format!(
            "`{what}` is text or a list of text, not {}",
            other.type_str()
        )),
    }
}

/// `when`: an entry is made from a row only when this column is non-empty, or (with `equals`)
/// holds one of the given values, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub(super) struct When {
    pub column: ColumnRef,
    pub equals: Option<Vec<String>>,
}

impl TryFrom<toml::Value> for When {
    type Error = String;

    fn try_from(value: toml::Value) -> Result<Self, String> {
        let toml::Value::Table(table) = value else {
            return Err(
                "`when` is a table: { column = \"x\" } or { column = \"x\", equals = \"Y\" }"
                    .into(),
            );
        };
        let mut column = None;
        let mut equals = None;
        for (key, value) in table {
            match key.as_str() {
                "column" => column = Some(ColumnRef::from_toml(&value)?),
                "equals" => equals = Some(text_list(value, "equals")?),
                other => {
                    return Err(format!(
                        "`{other}` is not a `when` setting; use `column` and `equals`"
                    ))
                }
            }
        }
        Ok(Self {
            column: column.ok_or("`when` needs a `column`")?,
            equals,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(toml_text: &str) -> Result<Field, String> {
        #[derive(Deserialize)]
        struct Wrap {
            f: Field,
        }
        toml::from_str::<Wrap>(toml_text)
            .map(|w| w.f)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_forms_of_a_field() {
        assert_eq!(
            field("f = \"dob\"").unwrap().source,
            Source::Column(ColumnRef::Name("dob".into()))
        );
        assert_eq!(
            field("f = 14").unwrap().source,
            Source::Column(ColumnRef::Number(14))
        );
        assert_eq!(
            field("f = \"7\"").unwrap().source,
            Source::Column(ColumnRef::Number(7))
        );
        let t = field("f = \"{id}/x/{3}{{}}{subject}\"").unwrap();
        let Source::Template(t) = t.source else {
            panic!("not a template")
        };
        assert_eq!(
            t.pieces,
            vec![
                Piece::Column(ColumnRef::Name("id".into())),
                Piece::Text("/x/".into()),
                Piece::Column(ColumnRef::Number(3)),
                Piece::Text("{}".into()),
                Piece::Subject,
            ]
        );
        let f = field("f = { value = true }").unwrap();
        assert_eq!(f.constant(), Some("true"));
        let f = field("f = { column = \"sex\", map = \"sex\", required = true, formats = \"%Y\" }")
            .unwrap();
        assert!(f.required);
        assert_eq!(f.map.as_deref(), Some("sex"));
        assert_eq!(f.formats, Some(vec!["%Y".to_owned()]));
    }

    #[test]
    fn bad_fields_say_what_is_wrong() {
        assert!(field("f = 0").unwrap_err().contains("start at 1"));
        assert!(field("f = \"{id\"").unwrap_err().contains("unclosed"));
        assert!(field("f = \"id}\"").unwrap_err().contains("no `{`"));
        assert!(field("f = { column = \"a\", value = \"b\" }")
            .unwrap_err()
            .contains("exactly one"));
        assert!(field("f = { colum = \"a\" }")
            .unwrap_err()
            .contains("not a field setting"));
        assert!(field("f = { map = \"a\" }")
            .unwrap_err()
            .contains("needs a source"));
        assert!(field("f = 1.5").unwrap_err().contains("a field is"));
        assert!(field("f = \"\"").unwrap_err().contains("cannot be empty"));
        let many = "{a}".repeat(33);
        assert!(field(&format!("f = \"{many}\""))
            .unwrap_err()
            .contains("placeholders"));
    }
}
