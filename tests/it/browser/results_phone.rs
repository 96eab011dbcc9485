//! The results page's trend charts on a phone: at 390 px Chromium picks the narrow chart, which
//! fits the screen with labels still 12 px or more as shown; at 1366 px it picks the wide one.
//! axe-core checks the page at both sizes.

use super::super::server::Server;
use super::{axe, driver, sign_in_as, wait_for, Driver, WAIT};
use fantoccini::Client;
use std::time::Instant;

/// Plotters writes an 18-point font as 14.5 px in the SVG (see `web::pages::chart`).
const LABEL_PX: f64 = 18.0 / 1.24;

#[test]
fn trend_charts_are_legible_on_a_390_px_phone_and_wide_on_a_desktop() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = Server::start();
    let margaret: i64 = s
        .env
        .sql()
        .query_row(
            "SELECT id FROM person WHERE nhs_number = '9994837567' AND merged_into IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = driver.session().await;
        sign_in_as(&c, &s, "clin").await;
        for (width, height) in [(390, 844), (1366, 900)] {
            c.set_window_size(width, height).await.unwrap();
            c.goto(&s.url(&format!("/person/{margaret}/results")))
                .await
                .unwrap();
            wait_for(&c, "img.trend").await;
            let (shown, natural, src, viewport) = loaded_chart(&c).await;
            let narrow = src.contains("size=narrow");
            if width < 600 {
                assert!(narrow, "at {width} px the phone chart is used, not {src}");
                assert!(
                    shown <= viewport,
                    "the chart ({shown} px) fits the screen ({viewport} px)"
                );
                let label = LABEL_PX * shown / natural;
                assert!(
                    label >= 12.0,
                    "chart labels shown at {label:.1} px on a phone"
                );
            } else {
                assert!(!narrow, "at {width} px the wide chart is used, not {src}");
                assert!(shown > 600.0, "the wide chart is shown at {shown} px");
            }
            axe::assert_accessible(&c, &format!("results at {width} px")).await;
        }
        c.close().await.unwrap();
    });
}

/// The first chart once loaded: (shown width, natural width, the source picked, viewport).
async fn loaded_chart(c: &Client) -> (f64, f64, String, f64) {
    let deadline = Instant::now() + WAIT;
    loop {
        let v = c
            .execute(
                "const i = document.querySelector('img.trend'); \
                 return [i.complete ? i.naturalWidth : 0, i.getBoundingClientRect().width, \
                         i.currentSrc, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .unwrap();
        let natural = v[0].as_f64().unwrap_or(0.0);
        if natural > 0.0 {
            return (
                v[1].as_f64().unwrap_or(0.0),
                natural,
                v[2].as_str().unwrap_or_default().to_owned(),
                v[3].as_f64().unwrap_or(0.0),
            );
        }
        assert!(Instant::now() < deadline, "the trend chart did not load");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
