//! `POST /evaluations` (dry runs) and `GET /enterprises/{id}/eligibility`.

use crate::auth::AuthUser;
use crate::db::DbPool;
use crate::engine::FactSheet;
use crate::error::{AppError, AppResult, FieldError};
use crate::routes::{Json, db, parse_date};
use crate::services::evaluations::{self as svc, Subject};
use crate::services::rulesets::RuleCache;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRequest {
    pub tier: String,
    /// The assessment date; its year Y anchors 上年度 = Y−1.
    pub as_of: chrono::NaiveDate,
    /// Grade a registered enterprise (its facts and certifications) …
    pub enterprise_id: Option<i32>,
    /// … or these facts: `{"2025": {code: value}, …}`
    #[schema(value_type = Option<Object>)]
    pub facts: Option<serde_json::Value>,
    /// Tier codes held on `as_of` (with `facts`).
    pub holds: Option<Vec<String>>,
    /// Try a specific rule set (e.g. a draft) instead of the one in force.
    pub ruleset_id: Option<i32>,
    /// Grade as a re-review (复核) where the rule set distinguishes it.
    #[serde(default)]
    pub renewal: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AsOfQuery {
    /// YYYY-MM-DD; default today.
    pub as_of: Option<String>,
}

/// Tier codes a dry run may say it holds.
const MAX_HOLDS: usize = 100;

/// A dry run's facts are keyed by fiscal years from `facts::MIN_YEAR` to the year after
/// `as_of` (later years cannot bear on the assessment).
fn check_years(facts: &serde_json::Value, as_of: chrono::NaiveDate) -> AppResult<()> {
    let last = chrono::Datelike::year(&as_of) + 1;
    let Some(years) = facts.as_object() else {
        return Ok(());
    };
    let bad: Vec<FieldError> = years
        .keys()
        .filter(|k| {
            k.parse::<i32>()
                .is_ok_and(|y| !(crate::services::facts::MIN_YEAR..=last).contains(&y))
        })
        .take(20)
        .map(|k| {
            FieldError::new(
                format!("facts.{k}"),
                "year",
                format!(
                    "a fiscal year from {} to {last}",
                    crate::services::facts::MIN_YEAR
                ),
            )
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(bad))
    }
}

/// Dry-run an evaluation.
///
/// Grades an enterprise (from its facts on file) or a given fact sheet against a tier's rule set
/// in force on `as_of` (or a draft, with `ruleset_id`), criterion by criterion; nothing is stored.
/// A tier with no rule set in force answers 422.
#[utoipa::path(post, path = "/api/v1/evaluations", tag = "evaluations", request_body = EvaluationRequest,
    responses((status = 200, description = "an evaluation result (API.md: Evaluation result)"), (status = 404), (status = 422, description = "bad input, or no rule set in force on that date")),
    security(("bearer" = [])))]
pub async fn create_evaluation(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    Json(body): Json<EvaluationRequest>,
) -> AppResult<HttpResponse> {
    let caller = user.0;
    let subject = match (body.enterprise_id, body.facts) {
        (Some(id), None) => {
            if body.holds.is_some() {
                return Err(AppError::field(
                    "holds",
                    "not_allowed",
                    "holds come from the enterprise's certifications",
                ));
            }
            // Visibility (404) is the service's: `enterprises::get_visible` below.
            Subject::Enterprise(id)
        }
        (None, Some(facts)) => {
            check_years(&facts, body.as_of)?;
            if body.holds.as_ref().is_some_and(|h| h.len() > MAX_HOLDS) {
                return Err(AppError::field(
                    "holds",
                    "too_many",
                    format!("at most {MAX_HOLDS} tier codes"),
                ));
            }
            let table =
                FactSheet::parse(&facts, crate::clock::today()).map_err(AppError::Validation)?;
            Subject::Facts {
                facts: table,
                holds: body.holds.unwrap_or_default(),
            }
        }
        _ => {
            return Err(AppError::field(
                "enterprise_id",
                "one_of",
                "give either enterprise_id or facts",
            ));
        }
    };
    let cache = cache.into_inner();
    let (graded, _) = db(&pool, move |c| {
        match &subject {
            Subject::Enterprise(id) => {
                crate::services::enterprises::get_visible(c, &caller, *id)?;
            }
            Subject::Facts { holds, .. } => {
                for (i, code) in holds.iter().enumerate() {
                    if crate::models::reference::tier(c, code)?.is_none() {
                        return Err(AppError::field(
                            format!("holds[{i}]"),
                            "unknown_tier",
                            format!("{code:?} is not a tier code (GET /api/v1/tiers)"),
                        ));
                    }
                }
            }
        }
        svc::evaluate(
            c,
            &cache,
            &body.tier,
            body.as_of,
            subject,
            body.ruleset_id,
            body.renewal,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(graded.result))
}

/// Eligibility for every tier.
///
/// Evaluates the enterprise for every tier with a rule set in force on `as_of` (default today),
/// against the certifications it holds on that date.
#[utoipa::path(get, path = "/api/v1/enterprises/{id}/eligibility", tag = "evaluations", params(("id" = i32, Path), AsOfQuery),
    responses((status = 200, description = "an evaluation for every tier in force on that date"), (status = 404)), security(("bearer" = [])))]
pub async fn eligibility(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    id: web::Path<i32>,
    q: web::Query<AsOfQuery>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let as_of = match &q.as_of {
        Some(s) => parse_date("as_of", s)?,
        None => crate::clock::today(),
    };
    let caller = user.0;
    let cache = cache.into_inner();
    let items = db(&pool, move |c| {
        crate::services::enterprises::get_visible(c, &caller, id)?;
        svc::eligibility(c, &cache, id, as_of)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .json(serde_json::json!({"enterprise_id": id, "as_of": as_of, "items": items})))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/evaluations").route(web::post().to(create_evaluation)));
    cfg.service(web::resource("/enterprises/{id}/eligibility").route(web::get().to(eligibility)));
}
