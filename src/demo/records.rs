//! What each kind of source says about one person, in that source's own format.
//!
//! A source never sees the person exactly: [`View`] is its copy of the demographics, with the
//! slips real systems have (a keying typo, a missing NHS number, the name before a marriage, an
//! old postcode). The matcher has to see through those; the truth file says who is who.

use super::feeds::{row, FeedWriter};
use super::people::{base_date, typo, Person, Rng};
use crate::error::Result;
use chrono::{Days, NaiveDate};
use serde_json::json;

/// One source's copy of a person's demographics.
pub struct View {
    pub local_id: String,
    pub nhs: Option<String>,
    pub family: String,
    pub given: String,
    pub postcode: String,
}

/// How error-prone a kind of source is: chance of no NHS number, of a typo in each name, of an
/// out-of-date postcode. Tuned to published data-quality figures in spirit (NHS number
/// completeness in acute SUS data is ~99 %, in social care far lower), not to the matcher.
pub struct Quality {
    pub no_nhs: f64,
    pub typo_family: f64,
    pub typo_given: f64,
    pub old_postcode: f64,
}

pub fn view(p: &Person, r: &mut Rng, local_id: String, q: &Quality) -> View {
    let mut family = match &p.birth_family {
        // Records opened before the marriage still carry the old name.
        Some(old) if r.chance(0.3) => old.clone(),
        _ => p.family.clone(),
    };
    if r.chance(q.typo_family) {
        family = typo(&family, r);
    }
    let mut given = p.given.to_string();
    if r.chance(q.typo_given) {
        given = typo(&given, r);
    }
    let postcode = if r.chance(q.old_postcode) {
        format!("WX{} {}AB", 1 + r.below(19), r.below(10))
    } else {
        p.postcode.clone()
    };
    let nhs = (!r.chance(q.no_nhs)).then(|| p.nhs.clone());
    // Without an NHS number the names must carry the link: keep to one slip at most.
    if nhs.is_none() && family != p.family && given != p.given {
        given = p.given.to_string();
    }
    View {
        local_id,
        nhs,
        family,
        given,
        postcode,
    }
}

/// When things happen: a full extract spreads events over three years before the extract
/// date; a day's delta puts them all on that day. Never after a death.
pub struct When {
    pub day: Option<u32>,
}

impl When {
    pub fn extract(&self) -> NaiveDate {
        base_date()
            .checked_add_days(Days::new(u64::from(self.day.unwrap_or(0))))
            .unwrap_or_else(base_date)
    }
    pub fn date(&self, p: &Person, r: &mut Rng) -> NaiveDate {
        let d = match self.day {
            Some(_) => self.extract(),
            None => base_date()
                .checked_sub_days(Days::new(1 + r.below(3 * 365)))
                .unwrap_or_else(base_date),
        };
        let d = d.max(p.birth);
        match p.died {
            Some(died) if d > died => died,
            _ => d,
        }
    }
}

fn hl7_ts(d: NaiveDate, minutes: u64) -> String {
    format!(
        "{}{:02}{:02}00",
        d.format("%Y%m%d"),
        8 + minutes / 60 % 12,
        minutes % 60
    )
}

fn uk(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

pub struct Acute<'a> {
    pub app: &'a str,
    pub org: &'a str,
    pub site: &'a str,
}

impl Acute<'_> {
    fn pid(&self, p: &Person, v: &View, death: Option<&str>) -> String {
        let nhs = v
            .nhs
            .as_ref()
            .map(|n| format!("~{n}^^^NHS^NH"))
            .unwrap_or_default();
        let sex = if p.male { "M" } else { "F" };
        let tail = death
            .map(|d| format!("||||||||||||||||{d}|Y"))
            .unwrap_or_default();
        format!(
            "PID|1||{}^^^{}^MR{nhs}||{}^{}^{}^^{}||{}|{sex}|||{}^^{}^^{}^GBR^H||{}^PRN^PH{tail}\r",
            v.local_id,
            self.org,
            v.family.to_uppercase(),
            v.given.to_uppercase(),
            p.middle.to_uppercase(),
            p.title(),
            p.birth.format("%Y%m%d"),
            p.line1().to_uppercase(),
            p.town.to_uppercase(),
            v.postcode,
            p.phone,
        )
    }

    fn msh(&self, ts: &str, kind: &str, control: &str) -> String {
        format!(
            "MSH|^~\\&|{}|{}|SHAREDCARE|REGION|{ts}||{kind}|{control}|P|2.4|||AL|NE|GBR|UNICODE UTF-8\r",
            self.app, self.org
        )
    }

    /// An admission and its discharge (with death when it ended in one), and results.
    #[allow(clippy::too_many_arguments)]
    pub fn stay(
        &self,
        w: &mut FeedWriter,
        p: &Person,
        v: &View,
        r: &mut Rng,
        control: &str,
        date: NaiveDate,
        discharge: bool,
        death: bool,
    ) -> Result<()> {
        let admit = hl7_ts(date, r.below(600));
        let visit = format!("V{control}");
        let (ward, class) = if r.chance(0.5) {
            ("ED^MAJORS^CUBICLE 4", "E")
        } else {
            ("AMU^BAY 1^BED 3", "I")
        };
        let pv1_head = format!(
            "PV1|1|{class}|{ward}^{}||||C9990011^PATEL^ARJUN^^^DR|||300||||1|||C9990011^PATEL^ARJUN^^^DR||{visit}",
            self.site
        );
        let (diag, text) = DIAGNOSES[r.below(DIAGNOSES.len() as u64) as usize];
        w.unit(&format!(
            "{}EVN|A01|{admit}\r{}{pv1_head}|||||||||||||||||||||||||{admit}\rDG1|1||{diag}^{text}^I10||{}|W\r",
            self.msh(&admit, "ADT^A01^ADT_A01", &format!("{control}A")),
            self.pid(p, v, None),
            date.format("%Y%m%d"),
        ))?;
        let panels = 1 + r.tail(0.2 + p.activity * 0.3).min(6);
        for k in 0..panels {
            self.result(w, p, v, r, &format!("{control}R{k}"), date)?;
        }
        if discharge {
            let out = hl7_ts(date, 600 + r.below(100));
            let (pid, disposal) = if death {
                (
                    self.pid(p, v, Some(&out)),
                    "79^Not applicable - patient died",
                )
            } else {
                (self.pid(p, v, None), "19^Usual place of residence")
            };
            w.unit(&format!(
                "{}EVN|A03|{out}\r{pid}{pv1_head}|||||||||||||||||{disposal}||||||||{admit}|{out}\r",
                self.msh(&out, "ADT^A03^ADT_A03", &format!("{control}D")),
            ))?;
        }
        Ok(())
    }

    fn result(
        &self,
        w: &mut FeedWriter,
        p: &Person,
        v: &View,
        r: &mut Rng,
        control: &str,
        date: NaiveDate,
    ) -> Result<()> {
        let ts = hl7_ts(date, 120 + r.below(400));
        let (code, name, tests) = PANELS[r.below(PANELS.len() as u64) as usize];
        let mut msg = format!(
            "{}{}ORC|RE|P{control}|L{control}||CM\rOBR|1|P{control}|L{control}|{code}^{name}^L|||{ts}|||||||{ts}|Blood|C9990021^OKONJO^TOBI^^^MR||||||{ts}|||F\r",
            self.msh(&ts, "ORU^R01^ORU_R01", control),
            self.pid(p, v, None),
        );
        for (i, (tcode, tname, unit, lo, hi)) in tests.iter().enumerate() {
            let span = hi - lo;
            let value = lo - span * 0.2 + span * 1.4 * (r.below(1000) as f64 / 1000.0);
            let flag = if value < *lo {
                "L"
            } else if value > *hi {
                "H"
            } else {
                "N"
            };
            msg.push_str(&format!(
                "OBX|{}|NM|{tcode}^{tname}^L||{value:.1}|{unit}|{lo}-{hi}|{flag}|||F|||{ts}\r",
                i + 1
            ));
        }
        w.unit(&msg)
    }

    /// A duplicate registration (an unidentified patient given a temporary number) merged
    /// into the real one by an A40.
    pub fn merge(
        &self,
        w: &mut FeedWriter,
        p: &Person,
        v: &View,
        old: &str,
        control: &str,
    ) -> Result<()> {
        let ts = hl7_ts(base_date(), 5);
        w.unit(&format!(
            "{}EVN|A40|{ts}\r{}MRG|{old}^^^{}^MR\r",
            self.msh(&ts, "ADT^A40^ADT_A39", control),
            self.pid(p, v, None),
            self.org
        ))
    }

    /// A08: the patient's details changed (a new address) with no visit.
    pub fn update(
        &self,
        w: &mut FeedWriter,
        p: &Person,
        v: &View,
        control: &str,
        date: NaiveDate,
    ) -> Result<()> {
        let ts = hl7_ts(date, 30);
        w.unit(&format!(
            "{}EVN|A08|{ts}\r{}PV1|1|N\r",
            self.msh(&ts, "ADT^A08^ADT_A01", control),
            self.pid(p, v, None)
        ))
    }
}

/// The GP record as FHIR: the Patient, then problems, medicines, allergies, immunisations.
#[allow(clippy::too_many_arguments)]
pub fn gp_record(
    w: &mut FeedWriter,
    p: &Person,
    v: &View,
    r: &mut Rng,
    base: &str,
    ods: &str,
    when: &When,
    full: bool,
) -> Result<Vec<NaiveDate>> {
    let mut ids = vec![json!({"system": format!("{base}/Id/patient-number"), "value": v.local_id})];
    if let Some(n) = &v.nhs {
        ids.insert(0, json!({"system": "https://fhir.nhs.uk/Id/nhs-number", "value": n,
            "extension": [{"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
              "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland", "code": "01", "display": "Number present and verified"}]}}]}));
    }
    let mut given = vec![v.given.clone()];
    if !p.middle.is_empty() {
        given.push(p.middle.to_string());
    }
    let updated = format!("{}T09:00:00Z", when.extract());
    let mut patient = json!({"resourceType": "Patient", "id": v.local_id, "identifier": ids,
        "name": [{"use": "official", "family": v.family, "given": given}],
        "gender": if p.male { "male" } else { "female" }, "birthDate": p.birth.to_string(),
        "address": [{"use": "home", "line": [p.line1()], "city": p.town, "postalCode": v.postcode}],
        "telecom": [{"system": "phone", "value": p.phone, "use": "home"}],
        "generalPractitioner": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": ods}}],
        "meta": {"lastUpdated": updated}});
    if let Some(d) = p.died {
        patient["deceasedDateTime"] = json!(d.to_string());
    }
    let subject = json!({"reference": format!("Patient/{}", v.local_id)});
    w.resource(&format!("{base}/Patient/{}", v.local_id), &patient)?;
    let scale = if full { 1.0 } else { 0.0 };
    let tag = when.day.map(|d| format!("d{d}")).unwrap_or_default();
    let conditions = if full {
        r.tail(0.5 + p.activity * 1.5).min(40)
    } else {
        u32::from(r.chance(0.5))
    };
    for k in 0..conditions {
        let (code, text) = CONDITIONS[r.below(CONDITIONS.len() as u64) as usize];
        let id = format!("{}-co{tag}{k}", v.local_id);
        w.resource(&format!("{base}/Condition/{id}"), &json!({"resourceType": "Condition", "id": id, "subject": subject,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"}]}],
            "code": {"text": text, "coding": [{"system": "http://snomed.info/sct", "code": code, "display": text}]},
            "onsetDateTime": when.date(p, r).to_string(), "meta": {"lastUpdated": updated}}))?;
    }
    let meds = if full {
        r.tail(0.5 + p.activity * 2.5).min(60)
    } else {
        1
    };
    for k in 0..meds {
        let (drug, dose) = MEDICINES[r.below(MEDICINES.len() as u64) as usize];
        let id = format!("{}-ms{tag}{k}", v.local_id);
        let start = when.date(p, r).to_string();
        w.resource(
            &format!("{base}/MedicationStatement/{id}"),
            &json!({"resourceType": "MedicationStatement", "id": id,
            "status": "active", "subject": subject, "medicationCodeableConcept": {"text": drug},
            "effectivePeriod": {"start": start}, "dateAsserted": start, "dosage": [{"text": dose}],
            "meta": {"lastUpdated": updated}}),
        )?;
    }
    if full && r.chance(0.15) {
        let id = format!("{}-al", v.local_id);
        w.resource(&format!("{base}/AllergyIntolerance/{id}"), &json!({"resourceType": "AllergyIntolerance", "id": id,
            "patient": subject, "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}]},
            "code": {"text": "Penicillin", "coding": [{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"}]},
            "recordedDate": when.date(p, r).to_string(), "meta": {"lastUpdated": updated}}))?;
    }
    let jabs = (scale * (1.0 + p.age() as f64 / 20.0)) as u32 + r.tail(1.0 * scale).min(10);
    let mut covid_jabs = Vec::new();
    for k in 0..jabs {
        let id = format!("{}-im{k}", v.local_id);
        let vaccine = VACCINES[k as usize % VACCINES.len()];
        let date = when.date(p, r);
        w.resource(
            &format!("{base}/Immunization/{id}"),
            &json!({"resourceType": "Immunization", "id": id,
            "status": "completed", "patient": subject, "vaccineCode": {"text": vaccine},
            "occurrenceDateTime": date.to_string(), "meta": {"lastUpdated": updated}}),
        )?;
        if vaccine.starts_with("COVID-19") {
            covid_jabs.push(date);
        }
    }
    Ok(covid_jabs)
}

pub fn row_by_header(header: &str, delimiter: char, values: &[(&str, &str)]) -> String {
    let fields: Vec<&str> = header
        .split(delimiter)
        .map(|h| {
            values
                .iter()
                .find(|(k, _)| *k == h)
                .map(|(_, v)| *v)
                .unwrap_or("")
        })
        .collect();
    row(&fields, delimiter)
}

pub fn uk_date(d: NaiveDate) -> String {
    uk(d)
}

const DIAGNOSES: &[(&str, &str)] = &[
    ("R06.0", "Dyspnoea"),
    ("J18.9", "Pneumonia, unspecified"),
    ("I21.9", "Acute myocardial infarction"),
    ("S72.0", "Fracture of neck of femur"),
    ("N39.0", "Urinary tract infection"),
    ("R55", "Syncope and collapse"),
    ("J44.1", "COPD with acute exacerbation"),
    ("K35.8", "Acute appendicitis"),
    ("I63.9", "Cerebral infarction"),
];

type Test = (&'static str, &'static str, &'static str, f64, f64);
const PANELS: &[(&str, &str, &[Test])] = &[
    (
        "FBC",
        "Full blood count",
        &[
            ("HB", "Haemoglobin", "g/L", 115.0, 165.0),
            ("WBC", "White cell count", "10*9/L", 4.0, 11.0),
            ("PLT", "Platelets", "10*9/L", 150.0, 400.0),
        ],
    ),
    (
        "UE",
        "Urea and electrolytes",
        &[
            ("NA", "Sodium", "mmol/L", 133.0, 146.0),
            ("K", "Potassium", "mmol/L", 3.5, 5.3),
            ("CREA", "Creatinine", "umol/L", 45.0, 84.0),
        ],
    ),
    (
        "CRP",
        "C-reactive protein",
        &[("CRP", "C-reactive protein", "mg/L", 0.0, 5.0)],
    ),
    (
        "LFT",
        "Liver function tests",
        &[
            ("ALT", "Alanine transaminase", "U/L", 7.0, 56.0),
            ("BILI", "Bilirubin", "umol/L", 0.0, 21.0),
        ],
    ),
];

const CONDITIONS: &[(&str, &str)] = &[
    ("38341003", "Hypertension"),
    ("44054006", "Type 2 diabetes mellitus"),
    ("195967001", "Asthma"),
    ("13645005", "Chronic obstructive pulmonary disease"),
    ("64859006", "Osteoporosis"),
    ("35489007", "Depressive disorder"),
    ("49436004", "Atrial fibrillation"),
    ("709044004", "Chronic kidney disease"),
    ("69896004", "Rheumatoid arthritis"),
    ("52448006", "Dementia"),
    ("84114007", "Heart failure"),
    ("396275006", "Osteoarthritis"),
];

const MEDICINES: &[(&str, &str)] = &[
    ("Amlodipine 5mg tablets", "One tablet once a day"),
    (
        "Metformin 500mg tablets",
        "One tablet twice a day with food",
    ),
    (
        "Salbutamol 100micrograms/dose inhaler",
        "Two puffs when required",
    ),
    ("Atorvastatin 20mg tablets", "One tablet at night"),
    ("Ramipril 5mg capsules", "One capsule once a day"),
    ("Apixaban 5mg tablets", "One tablet twice a day"),
    ("Sertraline 50mg tablets", "One tablet once a day"),
    (
        "Paracetamol 500mg tablets",
        "Two tablets up to four times a day",
    ),
    ("Omeprazole 20mg capsules", "One capsule once a day"),
    (
        "Levothyroxine 50microgram tablets",
        "One tablet in the morning",
    ),
];

const VACCINES: &[&str] = &[
    "Influenza vaccine (inactivated)",
    "Pneumococcal polysaccharide vaccine",
    "COVID-19 mRNA vaccine",
    "Diphtheria, tetanus and pertussis vaccine",
    "Measles, mumps and rubella vaccine",
    "Shingles vaccine",
];
