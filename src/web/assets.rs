//! Stylesheets, scripts and images, compiled into the binary.

use rocket::http::{ContentType, Header};
use rocket::{get, routes, Route};
use rust_embed::RustEmbed;
use std::path::PathBuf;

#[derive(RustEmbed)]
#[folder = "ui/static/"]
struct Assets;

pub fn routes() -> Vec<Route> {
    routes![asset]
}

#[derive(rocket::Responder)]
pub struct Asset {
    body: Vec<u8>,
    kind: ContentType,
    cache: Header<'static>,
}

#[get("/<path..>")]
fn asset(path: PathBuf) -> Option<Asset> {
    let name = path.to_str()?;
    let file = Assets::get(name)?;
    let kind = path
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ContentType::from_extension)
        .unwrap_or(ContentType::Binary);
    Some(Asset {
        body: file.data.into_owned(),
        kind,
        cache: Header::new("Cache-Control", "public, max-age=3600"),
    })
}
