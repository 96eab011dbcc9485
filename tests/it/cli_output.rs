//! What the command line prints about people: feed data made inert for the terminal
//! (issue 10, finding 9), and every lookup audited before it is printed, as the real operator
//! (finding 10).

use super::support::*;

/// A feed name carrying a window-title change, a screen clear and a right-to-left override.
const HOSTILE: &str = "Brown\u{1b}]0;pwned\u{7}\u{1b}[2J\u{202e}nworB";

fn no_terminal_controls(what: &str, text: &str) {
    assert!(
        !text.contains('\u{1b}'),
        "{what} printed an ESC byte:\n{text}"
    );
    assert!(
        !text.contains('\u{7}'),
        "{what} printed a BEL byte:\n{text}"
    );
    for bidi in ['\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}'] {
        assert!(
            !text.contains(bidi),
            "{what} printed a bidirectional override:\n{text}"
        );
    }
    for bidi in '\u{2066}'..='\u{2069}' {
        assert!(!text.contains(bidi), "{what} printed a bidi isolate");
    }
    for c1 in '\u{80}'..='\u{9f}' {
        assert!(!text.contains(c1), "{what} printed a C1 control");
    }
}

/// Two sources; Margaret Smith from the hospital with an NHS number, and the council's record
/// of her under a hostile surname with none: a possible match waiting for review. Returns the
/// hospital's person id and the council's.
fn possible_match_with_a_hostile_name(env: &Env) -> (i64, i64) {
    env.add_source("RWF-PAS", "acute", "hl7v2");
    env.add_source("KCC-ASC", "social-care", "hl7v2");
    let nhs = nhs_number(20);
    let r = env.import(
        "RWF-PAS",
        &env.write(
            "a.hl7",
            a08(
                "P1",
                "20240101090000",
                "MRN-P",
                &nhs,
                "Smith",
                "Margaret",
                "19380505",
            )
            .replace("|M|||", "|F|||"),
        ),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let council = format!(
        "MSH|^~\\&|ASC|KCC|SC|REG|20240102090000||ADT^A28|C1|P|2.4\rEVN|A28|20240102090000\r\
         PID|1||CL-77^^^KCC^PI||{HOSTILE}^Margaret||19380505|F|||1 High Street^^Maidstone^^ME14 1AA\r"
    );
    let r = env.import("KCC-ASC", &env.write("c.hl7", council));
    assert_eq!(r.code, 0, "{}", r.stderr);
    (person_of(env, "MRN-P"), person_of(env, "CL-77"))
}

fn refuse_audit_writes(env: &Env) {
    env.refuse_audit_writes("audit refused");
}

/// (action, person, actor, detail) of every event with one of these actions, in order.
fn events(env: &Env, actions: &[&str]) -> Vec<(String, Option<i64>, String, String)> {
    let db = env.sql();
    let mut st = db
        .prepare(
            "SELECT action, person_id, actor, coalesce(detail, '') FROM audit_event ORDER BY seq",
        )
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .filter(|e: &(String, Option<i64>, String, String)| actions.contains(&e.0.as_str()))
        .collect()
}

/// The operator as the audit trail should name this process's user: `cli:` and the login of
/// the real user id, or `cli:uid-N` when the password database has no such account.
fn real_operator() -> String {
    let uid = real_uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .find_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            (f.len() > 2 && f[2] == uid.to_string()).then(|| format!("cli:{}", f[0]))
        })
        .unwrap_or_else(|| format!("cli:uid-{uid}"))
}

/// This process's real user id, as the kernel says.
fn real_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn regression_terminal_escape_sequences_from_feed_data_are_printed_inert() {
    let env = Env::new();
    let (_, council) = possible_match_with_a_hostile_name(&env);
    let stored: String = env
        .sql()
        .query_row(
            "SELECT demographics FROM source_person WHERE local_id = 'CL-77'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        stored.contains("\\u001b") || stored.contains('\u{1b}'),
        "the hostile name reached the store as sent: {stored}"
    );

    let show = env.ok(&["person", "show", &council.to_string()]);
    no_terminal_controls("person show", &show.stdout);
    assert!(
        show.stdout
            .to_lowercase()
            .contains("brown\\x1b]0;pwned\\x07\\x1b[2j\\u{202e}nworb"),
        "the name is still shown, its controls made visible:\n{}",
        show.stdout
    );
    let find = env.ok(&["person", "find", "--name", "Margaret"]);
    no_terminal_controls("person find", &find.stdout);
    assert!(
        find.stdout.to_lowercase().contains("\\x1b]0;pwned"),
        "{}",
        find.stdout
    );
    let list = env.ok(&["review", "list"]);
    no_terminal_controls("review list", &list.stdout);
    assert!(
        list.stdout.contains("\\x1b]0;pwned"),
        "the matcher's explanation quotes the name: {}",
        list.stdout
    );
    let search = env.ok(&["person", "search", &council.to_string(), "Margaret"]);
    no_terminal_controls("person search", &search.stdout);

    // JSON keeps the data exactly (a program reading it gets the name as sent) but escapes
    // what serde_json would leave raw, so a terminal shown it obeys nothing.
    for args in [
        &["--json", "person", "find", "--name", "Margaret"][..],
        &["--json", "review", "list"][..],
        &["--json", "person", "show", &council.to_string()][..],
    ] {
        let r = env.ok(args);
        no_terminal_controls(&format!("{args:?}"), &r.stdout);
        assert!(!r.stdout.contains(HOSTILE));
        let _ = r.json();
    }
    let hits = env
        .ok(&["--json", "person", "find", "--name", "Margaret"])
        .json();
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["family"].as_str() == Some(HOSTILE)),
        "{hits}"
    );
}

#[test]
fn regression_person_find_and_review_list_are_audited_before_printing_as_the_real_uid() {
    let env = Env::new();
    let (pas, council) = possible_match_with_a_hostile_name(&env);
    let before = events(&env, &["cli-list", "review-view"]).len();
    assert_eq!(before, 0);

    // $USER is whatever the caller sets; the trail names the kernel's real uid.
    let r = env
        .command(&["person", "find", "--name", "Margaret"])
        .env("USER", "mallory")
        .output()
        .unwrap();
    assert!(r.status.success());
    let found = events(&env, &["cli-list"]);
    let mut people: Vec<i64> = found.iter().map(|e| e.1.unwrap()).collect();
    people.sort_unstable();
    let mut expected = vec![pas, council];
    expected.sort_unstable();
    assert_eq!(people, expected, "one event per person shown: {found:?}");
    let operator = real_operator();
    for (_, _, actor, detail) in &found {
        assert_eq!(actor, &operator);
        assert!(!actor.contains("mallory"), "{actor}");
        assert_eq!(detail, "person find by name: 2 shown");
        assert!(!detail.contains("Margaret"), "the words searched stay out");
    }

    // A search that finds no one is on record too.
    env.ok(&["person", "find", "--name", "Nobody"]);
    let found = events(&env, &["cli-list"]);
    assert_eq!(found.len(), 3);
    assert_eq!(found[2].1, None);

    env.ok(&["review", "list"]);
    let seen: Vec<_> = events(&env, &["cli-list"])
        .into_iter()
        .filter(|e| e.3.starts_with("review list"))
        .collect();
    let mut people: Vec<i64> = seen.iter().map(|e| e.1.unwrap()).collect();
    people.sort_unstable();
    assert_eq!(people, expected, "{seen:?}");
    assert_eq!(seen[0].3, "review list: 1 open");

    // Decisions name the same operator.
    let review = env.ok(&["--json", "review", "list"]).json()[0]["id"]
        .as_i64()
        .unwrap();
    let r = env
        .command(&["review", "reject", &review.to_string()])
        .env("USER", "mallory")
        .output()
        .unwrap();
    assert!(r.status.success());
    let decided = events(&env, &["review-reject"]);
    assert!(!decided.is_empty());
    assert!(decided
        .iter()
        .all(|e| e.2 == operator && !e.2.contains("mallory")));
}

#[test]
fn regression_person_find_and_review_list_print_nothing_and_exit_3_when_the_audit_cannot_be_written(
) {
    let env = Env::new();
    possible_match_with_a_hostile_name(&env);
    refuse_audit_writes(&env);
    for args in [
        &["person", "find", "--name", "Margaret"][..],
        &["--json", "person", "find", "--name", "Margaret"][..],
        &["person", "find", "--nhs-number", &nhs_number(20)][..],
        &["review", "list"][..],
        &["--json", "review", "list"][..],
    ] {
        let r = env.run(args);
        assert_eq!(r.code, 3, "{args:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "", "{args:?} printed before its audit event");
        assert!(r.stderr.contains("audit"), "{}", r.stderr);
        assert!(!r.stderr.contains("Margaret"), "{}", r.stderr);
    }
}
