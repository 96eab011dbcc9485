//! The population dashboard in Chromium: an analyst opens a condition, reads the map (the hot
//! spot's hexagon and what it says) and the table beside it (the same count, marked as a hot
//! spot), on a desktop and a phone; axe-core finds no serious or critical violation.

use super::super::server::{add_user, Server};
use super::super::support::Env;
use super::{axe, driver, find, sign_in_as, wait_for, Driver};

/// A small generated region with the planted WX7 hot spot, and rates for districts that small.
fn region() -> Server {
    let env = Env::new();
    std::fs::create_dir_all(env.data_dir()).unwrap();
    std::fs::write(
        env.data_dir().join("config.toml"),
        "[population]\nmin_denominator = 200\n",
    )
    .unwrap();
    let out = env.dir.path().join("region");
    let out_s = out.to_str().unwrap();
    env.ok(&[
        "demo", "generate", "--people", "6000", "--seed", "7", "--out", out_s,
    ]);
    let run = env.run(&["demo", "load", out_s]);
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    env.ok(&["population", "refresh"]);
    add_user(&env, "ana", "analyst");
    Server::start_in(env)
}

#[test]
fn analyst_reads_the_hot_spot_on_the_map_and_in_the_table() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = region();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        sign_in_as(&c, &s, "ana").await;
        c.goto(&s.url("/dashboard")).await.unwrap();
        wait_for(&c, "ul.conditions").await;
        axe::assert_accessible(&c, "dashboard").await;
        find(&c, "a[href=\"/dashboard/covid-positive\"]")
            .await
            .click()
            .await
            .unwrap();
        wait_for(&c, "svg.map").await;
        axe::assert_accessible(&c, "condition").await;
        c.goto(&s.url("/dashboard/covid-positive?week=2024-W10"))
            .await
            .unwrap();
        // The map: WX7's hexagon is marked and says so in its title.
        let hex = wait_for(&c, "g[data-area=\"WX7\"] polygon").await;
        let class = hex.attr("class").await.unwrap().unwrap_or_default();
        assert!(class.contains("hot-spot"), "WX7's hexagon: {class}");
        let title = find(&c, "g[data-area=\"WX7\"] polygon title").await;
        let said = title.html(true).await.unwrap();
        assert!(said.contains("hot spot"), "{said}");
        let marked = c
            .find_all(fantoccini::Locator::Css("svg.map polygon.hot-spot"))
            .await
            .unwrap()
            .len();
        assert_eq!(marked, 1, "one hot spot on the map");
        // The table: WX7's row says the same count and that it is a hot spot.
        let row = find(&c, "#areas-district tr.hot-spot")
            .await
            .text()
            .await
            .unwrap();
        assert!(row.contains("WX7") && row.contains("Hot spot"), "{row}");
        let count = said
            .split(':')
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .unwrap()
            .to_owned();
        assert!(row.contains(&count), "map says {count}, table says {row}");
        axe::assert_accessible(&c, "condition, hot-spot week").await;
        // A phone: nothing wider than the screen.
        c.set_window_size(390, 844).await.unwrap();
        c.refresh().await.unwrap();
        wait_for(&c, "svg.map").await;
        let over = c
            .execute(
                "return document.documentElement.scrollWidth - window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            over.as_f64().unwrap_or(1.0) <= 0.0,
            "the page is {over} px wider than a phone"
        );
        c.close().await.unwrap();
    });
}
