//! The shipped case files (fixtures/cases), embedded so a deployed binary can test drafts
//! against them. `include_dir` reads the folder at build time: nothing to regenerate.

use include_dir::{Dir, include_dir};

static CASES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/fixtures/cases");

/// `("<tier>/<file stem>", text)` for every case file, sorted by name.
pub(super) fn all() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for dir in CASES.dirs() {
        for f in dir.files() {
            let path = f.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let (Some(tier), Some(stem), Some(text)) = (
                dir.path().to_str(),
                path.file_stem().and_then(|s| s.to_str()),
                f.contents_utf8(),
            ) else {
                continue;
            };
            out.push((format!("{tier}/{stem}"), text));
        }
    }
    out.sort();
    out
}
