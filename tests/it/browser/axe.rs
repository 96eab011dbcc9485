//! axe-core, from `node_modules` (installed by `npm ci` from the repo's package-lock.json),
//! injected into the current page through WebDriver: script run that way is not subject to the
//! page's CSP, so the pages need no test hook of their own.

use fantoccini::Client;
use serde_json::Value;
use std::sync::OnceLock;

fn source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = super::super::support::repo().join("node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e}; run `npm ci` at the repo root (as scripts/test does), \
                 or set SHAREDCARE_SKIP_BROWSER=1 to skip the browser tests on purpose",
                path.display()
            )
        })
    })
}

/// One rule broken on the page.
#[derive(Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub targets: Vec<String>,
}

/// Runs axe on the current page and returns every violation it finds.
pub async fn violations(c: &Client) -> Vec<Violation> {
    c.execute(source(), vec![]).await.unwrap();
    let loaded = c
        .execute("return typeof window.axe === 'object';", vec![])
        .await
        .unwrap();
    assert_eq!(loaded, Value::Bool(true), "axe-core did not load");
    let raw = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { resultTypes: ['violations'] })
                 .then(r => done(JSON.stringify(r.violations.map(v => ({
                   id: v.id, impact: v.impact || '', help: v.help,
                   targets: v.nodes.map(n => JSON.stringify(n.target)),
                 })))))
                 .catch(e => done('error: ' + e));"#,
            vec![],
        )
        .await
        .unwrap();
    let raw = raw.as_str().unwrap_or_default();
    let list: Vec<Value> =
        serde_json::from_str(raw).unwrap_or_else(|_| panic!("axe.run failed: {raw}"));
    list.iter()
        .map(|v| Violation {
            id: v["id"].as_str().unwrap_or_default().to_owned(),
            impact: v["impact"].as_str().unwrap_or_default().to_owned(),
            help: v["help"].as_str().unwrap_or_default().to_owned(),
            targets: v["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
        })
        .collect()
}

/// Fails unless axe finds no serious or critical violation on the current page; lesser ones are
/// printed.
pub async fn assert_accessible(c: &Client, page: &str) {
    let found = violations(c).await;
    let describe = |v: &Violation| {
        format!(
            "  [{}] {}: {} on {}",
            v.impact,
            v.id,
            v.help,
            v.targets.join(", ")
        )
    };
    for v in &found {
        eprintln!("axe on the {page} page: {}", describe(v));
    }
    let bad: Vec<String> = found
        .iter()
        .filter(|v| v.impact == "serious" || v.impact == "critical")
        .map(describe)
        .collect();
    assert!(
        bad.is_empty(),
        "axe-core found serious or critical accessibility violations on the {page} page ({}):\n{}",
        c.current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default(),
        bad.join("\n")
    );
}

/// A page with an image lacking alt text must be reported, or a clean result above means nothing.
pub async fn assert_detects_a_known_fault(c: &Client) {
    c.goto("data:text/html,<!doctype html><html lang=en><title>t</title><main><img src=x></main>")
        .await
        .unwrap();
    let found = violations(c).await;
    assert!(
        found
            .iter()
            .any(|v| v.id == "image-alt" && v.impact == "critical"),
        "axe-core missed a missing alt text: {found:?}"
    );
}
