//! The console's static files, embedded in the binary and served under names
//! that carry a hash of their content (`/assets/htmx.3f2a9c1e07.js`), so a
//! browser may keep them for a year: a changed file is a new name.
//!
//! Third-party files live in `gateway/assets/vendor/<name>-<version>/` with
//! their licence (see `gateway/assets/vendor/README.md`); nothing is fetched
//! from a CDN, at build time or run time.

use std::{collections::HashMap, sync::LazyLock};

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest as _, Sha256};

/// One embedded file.
struct Asset {
    /// The name templates ask for (`htmx.js`).
    logical: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

const FILES: &[Asset] = &[
    Asset { logical: "htmx.js", bytes: include_bytes!("../../assets/vendor/htmx-2.0.11/htmx.min.js"), content_type: JS },
    Asset { logical: "htmx-sse.js", bytes: include_bytes!("../../assets/vendor/htmx-ext-sse-2.2.4/sse.min.js"), content_type: JS },
    Asset { logical: "console.css", bytes: include_bytes!("../../assets/console.css"), content_type: CSS },
    Asset { logical: "console.js", bytes: include_bytes!("../../assets/console.js"), content_type: JS },
    Asset { logical: "board.js", bytes: include_bytes!("../../assets/board.js"), content_type: JS },
    Asset { logical: "driver.js", bytes: include_bytes!("../../assets/driver.js"), content_type: JS },
];

struct Table {
    /// Logical name -> served path.
    paths: HashMap<&'static str, String>,
    /// Served file name -> file.
    by_name: HashMap<String, &'static Asset>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut paths = HashMap::new();
    let mut by_name = HashMap::new();
    for asset in FILES {
        let digest = hex::encode(Sha256::digest(asset.bytes));
        let (stem, ext) = asset.logical.rsplit_once('.').expect("asset names have an extension");
        let name = format!("{stem}.{}.{ext}", &digest[..10]);
        paths.insert(asset.logical, format!("/assets/{name}"));
        by_name.insert(name, asset);
    }
    Table { paths, by_name }
});

/// The path a page links to for the embedded file `logical`.
pub fn path(logical: &str) -> &'static str {
    TABLE.paths.get(logical).map_or_else(|| panic!("no embedded asset named {logical:?}"), String::as_str)
}

/// `GET /assets/{name}`: an embedded file, cacheable for a year.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = TABLE.by_name.get(&name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let mut res = asset.bytes.into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_has_a_content_hashed_path() {
        for asset in FILES {
            let p = path(asset.logical);
            let name = p.strip_prefix("/assets/").unwrap();
            assert!(TABLE.by_name.contains_key(name), "{p} is served");
            let digest = hex::encode(Sha256::digest(asset.bytes));
            assert!(name.contains(&digest[..10]), "{p} names its content");
        }
    }

    #[test]
    fn vendored_files_keep_their_licence() {
        let vendor = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/vendor");
        for entry in std::fs::read_dir(&vendor).unwrap() {
            let dir = entry.unwrap().path();
            if dir.is_dir() {
                assert!(dir.join("LICENSE").is_file(), "{} has its licence", dir.display());
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                let readme = std::fs::read_to_string(vendor.join("README.md")).unwrap();
                assert!(readme.contains(&name), "vendor/README.md lists {name}");
            }
        }
    }
}
