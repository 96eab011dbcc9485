//! The synthetic population: one [`Person`] made from nothing but the seed and its number.
//!
//! Every person is a pure function of `(seed, index)`, so the generator never holds more than
//! one person at a time, a day's delta can re-derive anyone it needs, and two runs with the same
//! seed write the same bytes. The random numbers come from SplitMix64 written out here rather
//! than a crate, because a crate's stream may change between versions and the output must not.
//!
//! Names are common British and Irish names; postcodes use the `WX` area, which no real UK
//! postcode uses; NHS numbers start with 9, a range never issued to patients, and carry a
//! correct Modulus 11 check digit so that the matcher treats them as real numbers.

use chrono::{Datelike, Days, NaiveDate};

/// SplitMix64: small, fast, and stable for ever.
pub struct Rng(u64);

impl Rng {
    /// A stream for one purpose (`salt`) of one thing (`index`) under a seed.
    pub fn new(seed: u64, salt: u64, index: u64) -> Self {
        let mut r = Rng(seed ^ salt.wrapping_mul(0xA076_1D64_78BD_642F));
        r.0 ^= index.wrapping_mul(0xE703_7ED1_A0B4_28DB);
        r.next();
        r
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items
            .get(self.below(items.len() as u64) as usize)
            .copied()
            .unwrap_or("")
    }
    /// A count with a long tail: geometric with the given mean.
    pub fn tail(&mut self, mean: f64) -> u32 {
        let p = 1.0 / (1.0 + mean.max(0.0));
        let mut n = 0;
        while n < 400 && !self.chance(p) {
            n += 1;
        }
        n
    }
}

/// The date the region's extracts are taken; day `D` of the delta is this plus D days.
pub fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, 31).unwrap_or_default()
}

#[derive(Clone)]
pub struct Person {
    pub index: u64,
    pub nhs: String,
    pub family: String,
    /// The family name before a marriage, when there was one: older records still carry it.
    pub birth_family: Option<String>,
    pub given: &'static str,
    pub middle: &'static str,
    pub male: bool,
    pub birth: NaiveDate,
    pub house: u32,
    pub street: &'static str,
    pub town: &'static str,
    pub postcode: String,
    pub phone: String,
    pub died: Option<NaiveDate>,
    /// How much care this person uses, 0 upwards with a long tail; drives entry counts.
    pub activity: f64,
}

impl Person {
    pub fn age(&self) -> i32 {
        base_date().year() - self.birth.year()
    }
    pub fn title(&self) -> &'static str {
        match (self.male, self.age() < 16) {
            (true, true) => "MASTER",
            (true, false) => "MR",
            (false, true) => "MISS",
            (false, false) => "MRS",
        }
    }
    pub fn line1(&self) -> String {
        format!("{} {}", self.house, self.street)
    }
}

/// The person with this number.
pub fn person(seed: u64, index: u64) -> Person {
    let mut r = Rng::new(seed, 1, index);
    let male = r.chance(0.49);
    let age = age_from_pyramid(&mut r);
    let birth = base_date()
        .checked_sub_days(Days::new(age * 365 + r.below(365)))
        .unwrap_or_else(base_date);
    let given = if male { r.pick(MALE) } else { r.pick(FEMALE) };
    let middle = if r.chance(0.6) {
        if male {
            r.pick(MALE)
        } else {
            r.pick(FEMALE)
        }
    } else {
        ""
    };
    let family = r.pick(SURNAMES).to_string();
    let birth_family =
        (!male && (22..70).contains(&age) && r.chance(0.08)).then(|| r.pick(SURNAMES).to_string());
    let outward = 1 + r.below(19);
    let postcode = format!(
        "WX{outward} {}{}{}",
        r.below(10),
        LETTERS[r.below(20) as usize] as char,
        LETTERS[r.below(20) as usize] as char
    );
    let died = r
        .chance(if age > 75 { 0.06 } else { 0.004 })
        .then(|| base_date().checked_sub_days(Days::new(1 + r.below(300))))
        .flatten()
        .filter(|d| *d > birth);
    // A log-normal-ish activity level: most people use little care, a few use a great deal.
    let u = (r.below(1_000_000) as f64 + 0.5) / 1_000_000.0;
    let age_factor = 0.6 + (age as f64 / 45.0);
    let activity = age_factor * (-(u.ln())).powf(1.6);
    Person {
        index,
        nhs: nhs_number(seed, index),
        family,
        birth_family,
        given,
        middle,
        male,
        birth,
        house: 1 + r.below(180) as u32,
        street: r.pick(STREETS),
        town: TOWNS[(outward as usize - 1) % TOWNS.len()],
        postcode,
        phone: format!("01632 {:06}", 960_000 + r.below(1000)),
        died,
        activity,
    }
}

/// Ages in years, shaped roughly like England's pyramid: flat to 60, thinning after.
fn age_from_pyramid(r: &mut Rng) -> u64 {
    loop {
        let a = r.below(100);
        let keep = match a {
            0..=59 => 1.0,
            60..=74 => 0.85,
            75..=84 => 0.45,
            _ => 0.12,
        };
        if r.chance(keep) {
            return a;
        }
    }
}

/// A unique, valid NHS number in the never-issued 9 range: the index, scrambled by a bijection
/// on seven digits, fills the body, and the ninth digit is the first that gives a valid check
/// digit (its weight 2 makes the ten choices give ten different remainders, so one fails).
pub fn nhs_number(seed: u64, index: u64) -> String {
    let scrambled = (index % 10_000_000)
        .wrapping_mul(3_456_789)
        .wrapping_add(seed.wrapping_mul(7_654_321))
        % 10_000_000;
    for last in 0..10 {
        let body = format!("9{scrambled:07}{last}");
        let sum: u32 = body
            .bytes()
            .enumerate()
            .map(|(i, b)| u32::from(b - b'0') * (10 - i as u32))
            .sum();
        let check = 11 - (sum % 11);
        match check {
            11 => return format!("{body}0"),
            10 => continue,
            c => return format!("{body}{c}"),
        }
    }
    String::new()
}

/// One realistic keying slip in a name: a swapped, doubled or dropped letter.
pub fn typo(name: &str, r: &mut Rng) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if chars.len() < 4 {
        return name.to_string();
    }
    let i = 1 + r.below(chars.len() as u64 - 2) as usize;
    match r.below(3) {
        0 => chars.swap(i, i + 1),
        1 => chars.insert(i, chars[i]),
        _ => {
            chars.remove(i);
        }
    }
    chars.into_iter().collect()
}

const LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";

const MALE: &[&str] = &[
    "Oliver",
    "George",
    "Harry",
    "Jack",
    "Noah",
    "Leo",
    "Arthur",
    "Thomas",
    "James",
    "William",
    "Robert",
    "David",
    "John",
    "Michael",
    "Peter",
    "Paul",
    "Mark",
    "Richard",
    "Daniel",
    "Samuel",
    "Joseph",
    "Henry",
    "Edward",
    "Charles",
    "Alexander",
    "Benjamin",
    "Christopher",
    "Andrew",
    "Stephen",
    "Anthony",
    "Kevin",
    "Gareth",
    "Rhys",
    "Callum",
    "Liam",
    "Connor",
    "Aidan",
    "Mohammed",
    "Arjun",
    "Kwame",
    "Tobi",
    "Ravi",
    "Declan",
    "Owen",
    "Ethan",
    "Lewis",
];

const FEMALE: &[&str] = &[
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Ivy",
    "Freya",
    "Lily",
    "Florence",
    "Mia",
    "Willow",
    "Margaret",
    "Mary",
    "Patricia",
    "Susan",
    "Elizabeth",
    "Jean",
    "Sarah",
    "Emma",
    "Charlotte",
    "Sophie",
    "Hannah",
    "Lucy",
    "Rebecca",
    "Claire",
    "Joanne",
    "Helen",
    "Karen",
    "Julie",
    "Deborah",
    "Rachel",
    "Catherine",
    "Bethan",
    "Siobhan",
    "Niamh",
    "Aisha",
    "Priya",
    "Grace",
    "Chloe",
    "Ellen",
    "Edith",
    "Dorothy",
    "Joan",
    "Sian",
    "Fatima",
    "Zara",
];

const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Lewis",
    "James",
    "Phillips",
    "Mason",
    "Mitchell",
    "Rose",
    "Davis",
    "Rodriguez",
    "Cox",
    "Alexander",
    "Morgan",
    "Moore",
    "Martin",
    "Price",
    "Bell",
    "Hughes",
    "Edwards",
    "Hill",
    "Cooper",
    "Ward",
    "Morris",
    "King",
    "Turner",
    "Baker",
    "Harrison",
    "Scott",
    "Young",
    "Allen",
    "Watson",
    "Carter",
    "Murphy",
    "Kelly",
    "Sharma",
    "Okafor",
    "Mensah",
    "Nwosu",
    "Begum",
    "Ali",
    "Hussain",
    "Campbell",
    "Stewart",
    "MacDonald",
    "Fitzgerald",
    "O'Brien",
    "Lloyd",
    "Griffiths",
    "Owen",
    "Barnes",
    "Fletcher",
    "Foster",
    "Hale",
    "Chapman",
    "Marsh",
    "Webb",
    "Knight",
    "Palmer",
    "Holmes",
    "Parker",
    "Spencer",
    "Gibson",
    "Ellis",
    "Kennedy",
    "Hunt",
    "Lawrence",
    "Reid",
    "Dixon",
    "Shaw",
    "Pearson",
    "Armstrong-Jones",
    "Ashworth",
    "Blackwood",
    "Thornton",
    "Whitfield",
    "Underwood",
    "Okonjo",
    "Adeyemi",
    "Nowak",
    "Kowalski",
    "Singh",
    "Kaur",
    "Chowdhury",
    "Rahman",
];

const STREETS: &[&str] = &[
    "Church Street",
    "High Street",
    "Station Road",
    "Mill Lane",
    "Orchard Way",
    "Larch Close",
    "Kingfisher Court",
    "Canal Street",
    "Beech Avenue",
    "Victoria Road",
    "Park Road",
    "Queens Road",
    "The Green",
    "Manor Road",
    "School Lane",
    "North Street",
    "Elm Row",
    "Chapel Lane",
    "Meadow View",
    "Riverside",
    "Willow Drive",
    "Oak Tree Close",
    "Granary Lane",
];

const TOWNS: &[&str] = &[
    "Ashcombe",
    "Ashcombe",
    "Brindley",
    "Brindley",
    "Carrow",
    "Dunmere",
    "Eastleigh Vale",
    "Fenwick",
    "Greyhaven",
    "Holloway Cross",
    "Ivybridge Moor",
    "Kelsall",
];
