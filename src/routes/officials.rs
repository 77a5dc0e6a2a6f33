//! `/cultivation`, `/reports/forecast` and `/rulesets/{id}/impact`: the officials' tools
//! (services::officials holds the rules and the authorization).

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::error::{AppError, AppResult};
use crate::routes::{Json, Page, db, parse_date};
use crate::services::officials::{self as svc, PoolQuery};
use crate::services::rulesets::RuleCache;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CultivationQuery {
    /// The tier the pool is for (enterprises that do not hold it).
    pub tier: Option<String>,
    /// The grading date, YYYY-MM-DD; default today.
    pub as_of: Option<String>,
    pub district: Option<String>,
    pub cluster: Option<String>,
    /// Only enterprises with at most this many failed criteria (0–20).
    pub max_failed: Option<i64>,
    /// `json` (default, paginated), `csv` or `xlsx` (every item).
    pub format: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ForecastQuery {
    /// Default: the current year.
    pub year: Option<i32>,
    /// The report date; default today (or 31 December of a past year).
    pub as_of: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactRequest {
    /// The grading date, YYYY-MM-DD.
    pub as_of: String,
    /// The rule set to compare with (same tier); default the one in force on `as_of`.
    pub against: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImpactQuery {
    /// `json` (default; `changed` capped at 500) or `csv` (every changed enterprise).
    pub format: Option<String>,
}

fn format_of(given: Option<&str>, allowed: &[&str]) -> AppResult<String> {
    let f = given.unwrap_or("json");
    if allowed.contains(&f) {
        Ok(f.to_owned())
    } else {
        Err(AppError::field("format", "enum", allowed.join(", ")))
    }
}

fn file(
    content_type: &str,
    name: &str,
    body: impl actix_web::body::MessageBody + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .body(body)
}

fn io(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(anyhow::anyhow!("writing the file: {e}"))
}

/// The cultivation pool (培育库).
///
/// Every enterprise that does not hold the tier, graded on `as_of` with the rule set in force:
/// `outcome`, `failed: [{criterion, shortfall}]` and `distance` (failed criteria, then the
/// summed relative shortfall), nearest first; per district how many are eligible and how many
/// one criterion away. Officials and admins. Read-only: nothing is stored.
#[utoipa::path(get, path = "/api/v1/cultivation", tag = "officials", params(CultivationQuery),
    responses((status = 200, body = svc::PoolReport, description = "JSON; CSV or XLSX with format="),
        (status = 422, description = "unknown tier, district or cluster; no rule set in force; max_failed outside 0..20")),
    security(("bearer" = [])))]
pub async fn get_cultivation(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    q: web::Query<CultivationQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let format = format_of(q.format.as_deref(), &["json", "csv", "xlsx"])?;
    // An absent tier is the service's 422 (after authorization, like every other check).
    let tier = q.tier.clone().unwrap_or_default();
    let as_of = match &q.as_of {
        Some(s) => parse_date("as_of", s)?,
        None => crate::clock::today(),
    };
    let page = if format == "json" {
        let p = Page::parse(q.limit, q.cursor.as_deref())?;
        Some((usize::try_from(p.after).unwrap_or(0), p.limit as usize))
    } else {
        None
    };
    let query = PoolQuery {
        tier,
        as_of,
        district: q.district,
        cluster: q.cluster,
        max_failed: q.max_failed,
        page,
    };
    let caller = user.0;
    let mut r = db(&pool, move |c| svc::cultivation(c, &caller, &cache, &query)).await?;
    r.next_cursor = r
        .next_offset
        .map(|o| crate::routes::encode_cursor(i32::try_from(o).unwrap_or(i32::MAX)));
    let name = format!("ladder-cultivation-{}-{}", r.tier, r.as_of);
    Ok(match format.as_str() {
        "csv" => file(
            "text/csv; charset=utf-8",
            &format!("{name}.csv"),
            svc::pool_csv(&r).map_err(io)?,
        ),
        "xlsx" => file(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("{name}.xlsx"),
            svc::pool_xlsx(&r).map_err(io)?,
        ),
        _ => HttpResponse::Ok().json(r),
    })
}

/// The quota forecast.
///
/// Per quota of the year: achieved, the pipeline by state, enterprises eligible but not
/// applied, near misses (one failed criterion), the projection to year end from the monthly
/// series and a verdict (`on_track`, `at_risk`, `off_track`) whose rule is stated in the
/// response (`verdict_rule`). Officials and admins.
#[utoipa::path(get, path = "/api/v1/reports/forecast", tag = "officials", params(ForecastQuery),
    responses((status = 200, body = svc::Forecast)), security(("bearer" = [])))]
pub async fn get_forecast(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    q: web::Query<ForecastQuery>,
) -> AppResult<HttpResponse> {
    let year = q
        .year
        .unwrap_or_else(|| chrono::Datelike::year(&crate::clock::today()));
    let as_of = crate::routes::quotas::default_as_of(year, q.as_of.as_deref())?;
    let caller = user.0;
    let r = db(&pool, move |c| {
        svc::forecast(c, &caller, &cache, year, as_of)
    })
    .await?;
    Ok(HttpResponse::Ok().json(r))
}

/// The impact of a rule change.
///
/// Grades every enterprise under this rule set (a draft, say) and under `against` (default: the
/// rule set of the tier in force on `as_of`): totals gained, lost and unchanged, by district and
/// cluster, and the changed enterprises with the criteria that decided the change (at most 500
/// in JSON; `format=csv` lists all). Officials and admins; nothing is stored.
#[utoipa::path(post, path = "/api/v1/rulesets/{id}/impact", tag = "officials", params(("id" = i32, Path), ImpactQuery), request_body = ImpactRequest,
    responses((status = 200, body = svc::Impact), (status = 404, description = "no such rule set"),
        (status = 422, description = "`against` unknown or of another tier; no rule set in force")),
    security(("bearer" = [])))]
pub async fn post_impact(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    id: web::Path<i32>,
    q: web::Query<ImpactQuery>,
    Json(b): Json<ImpactRequest>,
) -> AppResult<HttpResponse> {
    let format = format_of(q.format.as_deref(), &["json", "csv"])?;
    let as_of = parse_date("as_of", &b.as_of)?;
    let (id, caller, against) = (id.into_inner(), user.0, b.against);
    let all = format == "csv";
    let r = db(&pool, move |c| {
        svc::impact(c, &caller, &cache, id, as_of, against, all)
    })
    .await?;
    Ok(if all {
        file(
            "text/csv; charset=utf-8",
            &format!("ladder-impact-{id}-{as_of}.csv"),
            svc::impact_csv(&r).map_err(io)?,
        )
    } else {
        HttpResponse::Ok().json(r)
    })
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/cultivation").route(web::get().to(get_cultivation)));
    cfg.service(web::resource("/reports/forecast").route(web::get().to(get_forecast)));
    cfg.service(web::resource("/rulesets/{id}/impact").route(web::post().to(post_impact)));
}
