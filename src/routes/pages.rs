//! The pages: `/portal` (companies), `/review` (reviewers and admins), `/dashboard`
//! (officials) and `/publicity` (public), with their shared stylesheet and scripts under
//! `/assets/`. Every byte is embedded in the binary (no CDN: these services run on closed
//! networks); the pages speak only the public `/api/v1`.

use actix_web::{HttpResponse, web};

/// No inline script or style anywhere; images of the evidence are shown from `blob:` URLs
/// the page made itself (PDFs open in a new tab); nothing is loaded from outside the service.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// (path, content type, body) of every page and asset.
const ASSETS: &[(&str, &str, &str)] = &[
    ("/portal", HTML, include_str!("../web/portal.html")),
    ("/review", HTML, include_str!("../web/review.html")),
    ("/dashboard", HTML, include_str!("../web/dashboard.html")),
    ("/publicity", HTML, include_str!("../web/publicity.html")),
    ("/assets/ladder.css", CSS, include_str!("../web/ladder.css")),
    ("/assets/common.js", JS, include_str!("../web/common.js")),
    ("/assets/i18n.js", JS, include_str!("../web/i18n.js")),
    ("/assets/portal.js", JS, include_str!("../web/portal.js")),
    ("/assets/review.js", JS, include_str!("../web/review.js")),
    (
        "/assets/dashboard.js",
        JS,
        include_str!("../web/dashboard.js"),
    ),
    (
        "/assets/publicity.js",
        JS,
        include_str!("../web/publicity.js"),
    ),
];

fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for &(path, ctype, body) in ASSETS {
        let handler = move || async move { asset(ctype, body) };
        cfg.service(web::resource(path).route(web::get().to(handler)));
        if ctype == HTML {
            cfg.service(web::resource(format!("{path}/")).route(web::get().to(handler)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every script and stylesheet a page names is one the binary serves, and no page
    /// names anything outside the service or carries inline script or style.
    #[test]
    fn pages_name_only_served_assets() {
        let served: Vec<&str> = ASSETS.iter().map(|a| a.0).collect();
        for &(path, ctype, body) in ASSETS {
            if ctype != HTML {
                continue;
            }
            for attr in ["src=\"", "href=\""] {
                for piece in body.split(attr).skip(1) {
                    let url = piece.split('"').next().unwrap_or_default();
                    if url.starts_with("/assets/") {
                        assert!(
                            served.contains(&url),
                            "{path} names {url}, which is not served"
                        );
                    }
                    assert!(!url.contains("//"), "{path} names an outside URL {url}");
                }
            }
            assert!(
                !body.contains("<style"),
                "{path} has an inline style element"
            );
            assert!(
                !body.contains("style=\""),
                "{path} has an inline style attribute"
            );
            for piece in body.split(" on").skip(1) {
                let name: String = piece.chars().take_while(char::is_ascii_lowercase).collect();
                let rest = &piece[name.len()..];
                assert!(
                    name.is_empty() || !rest.starts_with('='),
                    "{path} carries an inline event handler on{name}"
                );
            }
            let scripts = body.matches("<script").count();
            let external = body
                .matches("<script type=\"module\" src=\"/assets/")
                .count();
            assert_eq!(
                scripts, external,
                "{path}: every script is an external module"
            );
        }
    }
}
