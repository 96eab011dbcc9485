//! The access policy in force: shown by the CLI, replaceable from config, and a change of it is
//! an audited event.

use super::server::Server;
use super::support::*;

fn policy_changes(env: &Env) -> Vec<String> {
    let db = env.sql();
    let mut s = db
        .prepare("SELECT detail FROM audit_event WHERE action = 'policy-change' ORDER BY seq")
        .unwrap();
    s.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_changed_policy_is_audited_once_per_change() {
    let s = Server::start();
    let env = s.kill();
    assert_eq!(policy_changes(&env).len(), 1);
    let env = Server::start_in(env).kill();
    assert_eq!(policy_changes(&env).len(), 1, "same policy, no new event");

    let custom = env.data_dir().join("policy.toml");
    std::fs::write(
        &custom,
        "[roles.clinician]\nlabel = \"Clinician\"\nactivities = [\"search\", \"view-record\"]\ncategories = [\"allergy\"]\n\
         [roles.admin]\nlabel = \"Admin\"\nactivities = [\"manage-sources\"]\ncategories = []\n",
    )
    .unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!("[access]\npolicy = \"{}\"\n", custom.display()),
    )
    .unwrap();
    let shown = env.ok(&["policy", "show"]).stdout;
    assert!(shown.contains("clinician (Clinician)") && shown.contains("sees: allergy"));
    assert!(!shown.contains("gp-clinician"), "{shown}");
    let env = Server::start_in(env).kill();
    let changes = policy_changes(&env);
    assert_eq!(changes.len(), 2);
    assert!(changes[1].contains("policy.toml"), "{}", changes[1]);
}

#[test]
fn a_bad_policy_file_stops_the_server_with_the_reason() {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("bad.toml"),
        "[roles.Nurse]\nlabel='x'\nactivities=[]\ncategories=[]\n",
    )
    .unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        format!(
            "[access]\npolicy = \"{}\"\n",
            env.data_dir().join("bad.toml").display()
        ),
    )
    .unwrap();
    let r = env.run(&["serve", "--listen", "127.0.0.1:0", "--sftp-listen", ""]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("kebab-case"), "{}", r.stderr);
    let r = env.run(&["policy", "show"]);
    assert_eq!(r.code, 2);
}

#[test]
fn an_analyst_sees_figures_and_no_one() {
    let s = Server::start();
    super::server::add_user(&s.env, "ana", "analyst");
    let c = s.login("ana");
    let page = c.get(s.url("/dashboard")).send().unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().unwrap();
    // The record's totals are the population job's, not counted on each view.
    assert!(!page.contains("Entries by category"), "{page}");
    assert!(page.contains("have not been computed"), "{page}");
    s.env.ok(&["population", "refresh"]);
    let page = c.get(s.url("/dashboard")).send().unwrap().text().unwrap();
    assert!(page.contains("Entries by category"), "{page}");
    let stats = s.env.ok(&["--json", "stats"]).json();
    let people = format!("<th scope=\"row\">People</th><td>{}</td>", stats["persons"]);
    assert!(page.contains(&people), "{people} in {page}");
    for name in ["Thompson", "THOMPSON", "999 483 7567", "9994837567"] {
        assert!(!page.contains(name), "{name} on the dashboard");
    }
    for path in ["/search?q=thompson", "/person/1", "/admin/feeds", "/review"] {
        assert_eq!(c.get(s.url(path)).send().unwrap().status(), 403, "{path}");
    }
    let clin = s.login("clin");
    assert_eq!(clin.get(s.url("/dashboard")).send().unwrap().status(), 403);
}
