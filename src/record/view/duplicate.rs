//! The banner's and search rows' note about a possible duplicate waiting for review.

use super::{date_text, nhs_display, person_name};
use crate::model::Demographics;

/// "Possible duplicate of Margaret THOMPSON (born 14 Mar 1938, NHS number 999 483 7567),
/// waiting for review", with the other person to link to when the reader may know who.
pub struct Duplicate {
    pub text: String,
    pub person_id: Option<i64>,
}

impl Duplicate {
    /// The note for one possible duplicate: who the other person is, when `shown`.
    pub fn of(shown: Option<(i64, &Demographics)>) -> Self {
        match shown {
            Some((id, d)) => {
                let mut who = vec![];
                if let Some(b) = d.birth_date {
                    who.push(format!("born {}", date_text(b)));
                }
                let (nhs, _) = nhs_display(d);
                if d.nhs_number.is_some() {
                    who.push(format!("NHS number {nhs}"));
                }
                let who = match who.is_empty() {
                    true => String::new(),
                    false => format!(" ({})", who.join(", ")),
                };
                Self {
                    text: format!(
                        "Possible duplicate of {}{who}, waiting for review",
                        person_name(d)
                    ),
                    person_id: Some(id),
                }
            }
            None => Self {
                text: "A possible duplicate of this record is waiting for review".to_owned(),
                person_id: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NhsNumberStatus, ReportedNhsNumber};

    #[test]
    fn names_the_other_person_only_when_shown() {
        let d = Demographics {
            family: Some("THOMPSON".into()),
            given: vec!["Margaret".into()],
            birth_date: chrono::NaiveDate::from_ymd_opt(1938, 3, 14),
            nhs_number: Some(ReportedNhsNumber {
                value: "9994837567".into(),
                status: NhsNumberStatus::Verified,
            }),
            ..Default::default()
        };
        let shown = Duplicate::of(Some((7, &d)));
        assert_eq!(
            shown.text,
            "Possible duplicate of Margaret THOMPSON (born 14 Mar 1938, NHS number 999 483 7567), \
             waiting for review"
        );
        assert_eq!(shown.person_id, Some(7));
        let unshown = Duplicate::of(None);
        assert_eq!(
            unshown.text,
            "A possible duplicate of this record is waiting for review"
        );
        assert_eq!(unshown.person_id, None);
    }
}
