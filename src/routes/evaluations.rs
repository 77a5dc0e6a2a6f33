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

/// The evaluation result as the OpenAPI document describes it (API.md "Evaluation result"
/// and "Evaluation result, explained"). The body itself is the engine's `Evaluation`
/// serialised with the rule set it used; `surface::the_evaluation_schema_describes_every_field`
/// checks that every field of a real result is described here, so the two cannot drift.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct EvaluationResult {
    pub tier: String,
    pub as_of: chrono::NaiveDate,
    pub ruleset: RuleSetRef,
    #[schema(value_type = String, example = "eligible")]
    /// `eligible`, `ineligible`, or `incomplete` (a missing fact could still decide it).
    pub outcome: String,
    /// `standard` or `direct` when eligible, else `null`.
    pub route: Option<String>,
    /// Points earned (a lower bound while facts are missing); a decimal.
    #[schema(value_type = Option<f64>)]
    pub score: Option<String>,
    /// The most the score could reach if the missing facts arrived; absent when exact.
    #[schema(value_type = Option<f64>)]
    pub score_max: Option<String>,
    #[schema(value_type = Option<f64>)]
    pub pass_mark: Option<String>,
    /// The grade band of a points model, where it has one.
    pub grade: Option<String>,
    /// The company stage that chose the weights of a points model.
    pub stage: Option<String>,
    /// The alternative scheme that granted the tier, for rule sets with schemes.
    pub scheme: Option<String>,
    pub criteria: Vec<CriterionView>,
    /// Facts whose absence leaves some criterion undecided, each once, as `"2025.rd_expense"`.
    pub missing: Vec<String>,
    pub summary: Option<SummaryView>,
}

/// The rule set an evaluation used.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RuleSetRef {
    pub id: i32,
    pub version: i32,
    pub name: String,
    /// `draft`, `published` or `retired`.
    pub status: String,
    pub effective_from: chrono::NaiveDate,
    pub effective_to: Option<chrono::NaiveDate>,
}

/// One criterion of an evaluation, with the enterprise's value and the requirement.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CriterionView {
    pub id: String,
    pub label_zh: String,
    pub label_en: String,
    /// `null` when a reviewer decides (`review`) or missing facts leave it open.
    pub passed: Option<bool>,
    /// A reviewer judges this criterion.
    pub review: bool,
    /// `false` where the published source leaves the reading unconfirmed (criteria.md).
    pub confirmed: bool,
    /// `base` (every route), `standard` or `direct`.
    pub route: String,
    /// The observed value: a decimal, a boolean, or `null`.
    #[schema(value_type = Option<Object>)]
    pub actual: Option<serde_json::Value>,
    /// The requirement in the rule set's notation.
    pub threshold: String,
    /// Points earned by this criterion in a points model.
    #[schema(value_type = Option<f64>)]
    pub points: Option<String>,
    /// The clause of the published source.
    pub source: String,
    pub missing: Vec<String>,
    pub scheme: Option<String>,
    pub dimension: Option<String>,
    /// One plain sentence with the value and the requirement in units (中文).
    pub explain_zh: Option<String>,
    /// The same sentence in English.
    pub explain_en: Option<String>,
    /// On a failed or undecided quantitative test: the least value of one fact that passes
    /// with every other fact unchanged; `null` when no single fact decides it.
    pub shortfall: Option<ShortfallView>,
    /// The "any one of" group of an alternative.
    pub group: Option<String>,
    /// A failed alternative that does not matter because another alternative passed.
    pub not_needed: Option<bool>,
}

/// What one fact would have to be for a criterion to pass.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ShortfallView {
    /// The catalog code.
    pub fact: String,
    pub year: i32,
    /// `null` when the fact is not on file.
    #[schema(value_type = Option<f64>)]
    pub actual: Option<String>,
    #[schema(value_type = f64)]
    pub needed: String,
    /// `needed − actual`; `null` when the fact is not on file.
    #[schema(value_type = Option<f64>)]
    pub gap: Option<String>,
}

/// What failed, what is open and what to do next.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SummaryView {
    pub failed: Vec<String>,
    pub undecided: Vec<String>,
    pub next_steps: Vec<NextStepView>,
}

/// One thing the company can do.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct NextStepView {
    /// `file_fact`, `raise`, `obtain_title` or `review`.
    pub kind: String,
    pub fact: Option<String>,
    pub year: Option<i32>,
    pub tier: Option<String>,
    pub criterion: Option<String>,
    pub text_zh: String,
    pub text_en: String,
}

/// Eligibility for every tier in force.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct EligibilityView {
    pub enterprise_id: i32,
    pub as_of: chrono::NaiveDate,
    pub items: Vec<EvaluationResult>,
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
    responses((status = 200, description = "an evaluation result (API.md: Evaluation result)", body = EvaluationResult), (status = 404), (status = 422, description = "bad input, or no rule set in force on that date")),
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
    responses((status = 200, description = "an evaluation for every tier in force on that date", body = EligibilityView), (status = 404)), security(("bearer" = [])))]
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
