//! `/dashboard`: the officials' page, its assets embedded in the binary (no CDN: these
//! services run on closed networks).

use actix_web::{HttpResponse, web};

const HTML: &str = include_str!("../web/dashboard.html");
const CSS: &str = include_str!("../web/dashboard.css");
const JS: &str = include_str!("../web/dashboard.js");

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Security-Policy", CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(body)
}

pub async fn page() -> HttpResponse {
    asset("text/html; charset=utf-8", HTML)
}

pub async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

pub async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/dashboard").route(web::get().to(page)));
    cfg.service(web::resource("/dashboard/").route(web::get().to(page)));
    cfg.service(web::resource("/dashboard/dashboard.css").route(web::get().to(css)));
    cfg.service(web::resource("/dashboard/dashboard.js").route(web::get().to(js)));
}
