//! The golden record: one set of demographics derived from every source that describes a
//! person. Each field comes from the most trusted source that states it (source precedence,
//! then the most recent message); nothing is averaged or invented.

use super::person::Demographics;
use super::NhsNumberStatus;

/// One source's view, with its precedence rank (lower is more trusted) and its `as_of` time.
pub struct Ranked<'a> {
    pub rank: usize,
    pub as_of: Option<&'a str>,
    pub demographics: &'a Demographics,
}

/// Derives the golden demographics. `views` in any order.
pub fn derive(views: &mut [Ranked<'_>]) -> Demographics {
    // Most trusted first; within a rank, the newest statement first.
    views.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| b.as_of.cmp(&a.as_of)));
    let mut out = Demographics::default();
    let first = |get: &dyn Fn(&Demographics) -> bool| views.iter().find(|v| get(v.demographics));
    out.nhs_number = views
        .iter()
        .filter_map(|v| v.demographics.nhs_number.as_ref())
        .find(|n| n.status == NhsNumberStatus::Verified)
        .or_else(|| {
            views
                .iter()
                .find_map(|v| v.demographics.nhs_number.as_ref())
        })
        .cloned();
    if let Some(v) = first(&|d| d.family.is_some()) {
        out.family.clone_from(&v.demographics.family);
        out.given.clone_from(&v.demographics.given);
        out.title.clone_from(&v.demographics.title);
    }
    if out.given.is_empty() {
        if let Some(v) = first(&|d| !d.given.is_empty()) {
            out.given.clone_from(&v.demographics.given);
        }
    }
    macro_rules! take {
        ($field:ident) => {
            if let Some(v) = first(&|d| d.$field.is_some()) {
                out.$field.clone_from(&v.demographics.$field);
            }
        };
    }
    take!(birth_date);
    take!(address);
    take!(phone);
    take!(email);
    take!(gp_practice);
    take!(gp_practice_name);
    take!(gp_name);
    take!(death_date);
    take!(ethnicity);
    if let Some(v) = first(&|d| d.sex.is_some_and(|s| s != super::Sex::Unknown)) {
        out.sex = v.demographics.sex;
    } else {
        take!(sex);
    }
    // Safety flags are never outvoted: any source saying so is enough.
    out.deceased = out.death_date.is_some() || views.iter().any(|v| v.demographics.deceased);
    out.restricted = views.iter().any(|v| v.demographics.restricted);
    out.sharing_objection = views.iter().any(|v| v.demographics.sharing_objection);
    let mut identifiers = Vec::new();
    for v in views.iter() {
        for id in &v.demographics.identifiers {
            if !identifiers.contains(id) {
                identifiers.push(id.clone());
            }
        }
    }
    out.identifiers = identifiers;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_trusted_source_wins_and_flags_accumulate() {
        let gp = Demographics {
            family: Some("Smith".into()),
            given: vec!["John".into()],
            ..Default::default()
        };
        let council = Demographics {
            family: Some("Smyth".into()),
            phone: Some("01632 960000".into()),
            deceased: true,
            ..Default::default()
        };
        let mut views = [
            Ranked {
                rank: 4,
                as_of: Some("2024-02-01"),
                demographics: &council,
            },
            Ranked {
                rank: 0,
                as_of: Some("2023-01-01"),
                demographics: &gp,
            },
        ];
        let golden = derive(&mut views);
        assert_eq!(golden.family.as_deref(), Some("Smith"));
        assert_eq!(golden.phone.as_deref(), Some("01632 960000"));
        assert!(golden.deceased);
    }
}
