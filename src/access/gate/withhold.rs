//! What a person's demographics show outside their record page: search rows, the review
//! queue's side-by-side table, the unmerge preview and the match explanations that quote
//! values. The S-flag and objection rules for those places are kept here, beside the record
//! page's, so that one module decides what is withheld and pages only render what it returns.

use super::Profile;
use super::{demographics_under_objection, identity_only, withhold_whereabouts, Gate, HitLevel};
use crate::error::Result;
use crate::model::Demographics;
use crate::store::Store;

/// Demographics as they may be listed, and whether where the person lives was withheld.
#[derive(Debug, Clone)]
pub struct Listed {
    pub demographics: Demographics,
    pub whereabouts_withheld: bool,
}

/// Whether any of the demographics shown together is S-flagged. Then every one of them
/// withholds the address, postcode and phone: another source's column (or an incoming record
/// set beside theirs) would otherwise show where the person lives.
pub fn any_restricted<'a>(shown_together: impl IntoIterator<Item = &'a Demographics>) -> bool {
    shown_together.into_iter().any(|d| d.restricted)
}

/// `d` as a data-quality reviewer sees it beside others; `restricted` is
/// [`any_restricted`] over everything on the page.
pub fn for_comparison(d: &Demographics, restricted: bool) -> Listed {
    let mut demographics = d.clone();
    let whereabouts_withheld = restricted || d.restricted;
    if whereabouts_withheld {
        withhold_whereabouts(&mut demographics);
    }
    Listed {
        demographics,
        whereabouts_withheld,
    }
}

/// A match explanation's detail for `field` (it quotes both values): withheld for the fields
/// that say where a restricted person lives.
pub fn match_detail(field: &str, detail: &str, restricted: bool) -> Option<String> {
    let whereabouts = matches!(field, "postcode" | "address" | "phone" | "email");
    (!(restricted && whereabouts)).then(|| detail.to_owned())
}

impl Gate {
    /// A search hit's demographics as `who` may see them at `level`: identity only without a
    /// relationship; under an objection, only what `who`'s own organisation supplied; an
    /// S-flagged person's whereabouts never in a list.
    pub fn listed_hit(
        &self,
        store: &Store,
        who: &Profile,
        person_id: i64,
        d: &Demographics,
        level: HitLevel,
    ) -> Result<Listed> {
        let mut demographics = match level {
            HitLevel::Identity => identity_only(d),
            HitLevel::Full if store.objects_to_sharing(person_id)? => {
                match store.person_record_of(person_id, &[])? {
                    Some(record) => demographics_under_objection(who, &record),
                    None => identity_only(d),
                }
            }
            HitLevel::Full => d.clone(),
        };
        let whereabouts_withheld = d.restricted || demographics.restricted;
        if whereabouts_withheld {
            withhold_whereabouts(&mut demographics);
        }
        Ok(Listed {
            demographics,
            whereabouts_withheld,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Address;

    fn living_at(restricted: bool) -> Demographics {
        Demographics {
            family: Some("Canary".into()),
            phone: Some("07700 900123".into()),
            address: Some(Address {
                lines: vec!["1 Secret Lane".into()],
                postcode: Some("ZZ1 1ZZ".into()),
                ..Address::default()
            }),
            restricted,
            ..Demographics::default()
        }
    }

    #[test]
    fn one_s_flag_withholds_whereabouts_from_every_column_shown_with_it() {
        let (flagged, plain) = (living_at(true), living_at(false));
        let restricted = any_restricted([&plain, &flagged]);
        assert!(restricted);
        for d in [&flagged, &plain] {
            let shown = for_comparison(d, restricted);
            assert!(shown.whereabouts_withheld);
            assert!(shown.demographics.address.is_none() && shown.demographics.phone.is_none());
            assert_eq!(shown.demographics.family.as_deref(), Some("Canary"));
        }
        let open = for_comparison(&plain, any_restricted([&plain]));
        assert!(!open.whereabouts_withheld && open.demographics.address.is_some());
        assert_eq!(match_detail("postcode", "ZZ1 1ZZ = ZZ1 1ZZ", true), None);
        assert!(match_detail("family", "Canary = Canary", true).is_some());
        assert!(match_detail("postcode", "ZZ1 1ZZ = ZZ1 1ZZ", false).is_some());
    }
}
