//! `/districts`, `/clusters`, `/indicators`, `/tiers`: the reference data.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::AppResult;
use crate::models::reference as rows;
use crate::routes::db;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct DistrictView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// `district`, `county` or `county_city`.
    pub kind: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// false where the published sources do not confirm the cluster (criteria.md §12).
    pub confirmed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub unit: String,
    /// amount, count, percent, rank, level, years, points, bool
    pub kind: String,
    #[schema(value_type = Option<f64>)]
    pub min: Option<serde_json::Value>,
    #[schema(value_type = Option<f64>)]
    pub max: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TierView {
    pub code: String,
    pub label_zh: String,
    pub label_en: String,
    pub level: i32,
    pub prerequisite: Option<String>,
    pub validity_years: i32,
    pub certifier: String,
    /// false for programmes decided by reviewers alone (no rule set).
    pub has_rules: bool,
    /// Working days an approval is publicised (公示) for objections before the certificate
    /// issues (default 5; 0 issues at approval). `PATCH /tiers/{code}` (admin) sets it.
    pub publicity_days: i32,
}

impl From<rows::Tier> for TierView {
    fn from(t: rows::Tier) -> Self {
        TierView {
            code: t.code,
            label_zh: t.name_zh,
            label_en: t.name_en,
            level: t.level,
            prerequisite: t.prerequisite,
            validity_years: t.validity_years,
            certifier: t.certifier,
            has_rules: t.has_rules,
            publicity_days: t.publicity_days,
        }
    }
}

fn number(s: Option<String>) -> Option<serde_json::Value> {
    s.and_then(|s| s.parse::<rust_decimal::Decimal>().ok())
        .map(crate::services::facts::decimal_json)
}

/// List the districts.
///
/// The 13 districts of Shenyang (codes 2101xx) with Chinese and English names.
#[utoipa::path(get, path = "/api/v1/districts", tag = "reference", responses((status = 200, body = Vec<DistrictView>)), security(("bearer" = [])))]
pub async fn list_districts(pool: web::Data<DbPool>, _user: AuthUser) -> AppResult<HttpResponse> {
    let rows = db(&pool, |c| Ok(rows::all_districts(c)?)).await?;
    let items: Vec<DistrictView> = rows
        .into_iter()
        .map(|d| DistrictView {
            code: d.code,
            name_zh: d.name_zh,
            name_en: d.name_en,
            kind: d.kind,
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// List the industry clusters.
///
/// Shenyang's “10+1” industry clusters with Chinese and English names.
#[utoipa::path(get, path = "/api/v1/clusters", tag = "reference", responses((status = 200, body = Vec<ClusterView>)), security(("bearer" = [])))]
pub async fn list_clusters(pool: web::Data<DbPool>, _user: AuthUser) -> AppResult<HttpResponse> {
    let rows = db(&pool, |c| Ok(rows::all_clusters(c)?)).await?;
    let items: Vec<ClusterView> = rows
        .into_iter()
        .map(|c| ClusterView {
            code: c.code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            confirmed: c.confirmed,
        })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// List the indicator catalog.
///
/// Every fact code the service accepts: unit, kind, labels and the valid range.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "reference", responses((status = 200, body = Vec<IndicatorView>)), security(("bearer" = [])))]
pub async fn list_indicators(_user: AuthUser) -> AppResult<HttpResponse> {
    // Served from the catalog the facts are checked against, so the two cannot differ.
    let mut items: Vec<IndicatorView> = crate::catalog::INDICATORS
        .iter()
        .map(|i| IndicatorView {
            code: i.code.into(),
            label_zh: i.label_zh.into(),
            label_en: i.label_en.into(),
            unit: i.unit.into(),
            kind: i.kind.as_str().into(),
            min: number(i.min.map(Into::into)),
            max: number(i.max.map(Into::into)),
        })
        .collect();
    items.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(HttpResponse::Ok().json(items))
}

/// List the tiers.
///
/// Tier codes, labels, level, prerequisite, validity in years and certifier.
#[utoipa::path(get, path = "/api/v1/tiers", tag = "reference", responses((status = 200, body = Vec<TierView>)), security(("bearer" = [])))]
pub async fn list_tiers(pool: web::Data<DbPool>, _user: AuthUser) -> AppResult<HttpResponse> {
    let rows = db(&pool, |c| Ok(rows::all_tiers(c)?)).await?;
    let items: Vec<TierView> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(items))
}

#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierPatch {
    /// 0..=30 working days.
    pub publicity_days: i32,
}

/// Change a tier's publicity period.
///
/// Admins set how many working days an approval of the tier is publicised (公示) before the
/// certificate issues: 0..=30 (0 issues at approval).
#[utoipa::path(patch, path = "/api/v1/tiers/{code}", tag = "reference", request_body = TierPatch,
    params(("code" = String, Path)),
    responses((status = 200, body = TierView), (status = 403), (status = 404), (status = 422)),
    security(("bearer" = [])))]
pub async fn patch_tier(
    pool: web::Data<DbPool>,
    user: AuthUser,
    code: web::Path<String>,
    crate::routes::Json(body): crate::routes::Json<TierPatch>,
) -> AppResult<HttpResponse> {
    let (code, caller) = (code.into_inner(), user.0);
    let tier = db(&pool, move |c| {
        crate::services::publicity::set_tier_days(c, &caller, &code, body.publicity_days)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TierView::from(tier)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/districts").route(web::get().to(list_districts)));
    cfg.service(web::resource("/clusters").route(web::get().to(list_clusters)));
    cfg.service(web::resource("/indicators").route(web::get().to(list_indicators)));
    cfg.service(web::resource("/tiers").route(web::get().to(list_tiers)));
    cfg.service(web::resource("/tiers/{code}").route(web::patch().to(patch_tier)));
}
