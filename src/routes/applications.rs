//! `/applications` (the review workflow), `/reviewers/{id}/ties` (conflicts of interest) and
//! `/review-queue`. Transitions accept an `Idempotency-Key`, kept in their transaction.

use crate::auth::AuthUser;
use crate::db::{DbConnection, DbPool};
use crate::error::{AppError, AppResult};
use crate::models::application::{Application, Event, Filter, STATES, Tie};
use crate::routes::idempotency::{Idem, respond};
use crate::routes::{Json, Page, Paged, db};
use crate::services::applications::{self as svc, Decision, DecisionInput, NewInput};
use crate::services::idempotency::run;
use crate::services::rulesets::RuleCache;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            from_state: e.from_state,
            to_state: e.to_state,
            actor: e.actor,
            comment: e.comment,
            at: e.at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Publicity {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificationRef {
    pub id: i32,
    pub number: String,
    pub valid_from: chrono::NaiveDate,
    pub valid_to: chrono::NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationResponse {
    pub id: i32,
    pub enterprise_id: i32,
    pub tier: String,
    pub year: i32,
    /// draft, submitted, under_review, publicized (approved, published for objections),
    /// approved, rejected, returned or withdrawn
    pub state: String,
    /// The publicity period (公示, working days, inclusive) of an approval: the certificate
    /// issues the day after `to` unless an objection is upheld.
    pub publicity: Option<Publicity>,
    /// A re-review (复核) of a held title.
    pub renewal: bool,
    /// The engine's verdict at submission (`eligible`, `ineligible`, `incomplete`, or
    /// `not_graded` when no rule set was in force). It does not block the workflow.
    pub prescreen_outcome: Option<String>,
    pub reviewer_id: Option<i32>,
    pub ruleset_id: Option<i32>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    /// approve, reject or return
    pub decision: Option<String>,
    pub decision_comment: Option<String>,
    /// The reviewer's judgment on each `review: true` criterion.
    #[schema(value_type = Option<Object>)]
    pub review: Option<serde_json::Value>,
    /// What the engine said at submission, kept unchanged: `{as_of, renewal, outcome, ruleset,
    /// result, facts, holds}`. Omitted in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub prescreen: Option<serde_json::Value>,
    /// The certification an approval issued.
    pub certification: Option<CertificationRef>,
    /// Every transition, oldest first. Omitted in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<EventView>>,
    /// The approval overrode an ineligible pre-screen or a review criterion judged false.
    #[serde(rename = "override")]
    pub overridden: bool,
    /// The reviewer's reason for the override.
    pub override_reason: Option<String>,
    /// The grade at decision time (today's facts, the rule set then in force), shown beside the
    /// pre-screen when it differs from it: `{as_of, outcome, ruleset, failed}`.
    #[schema(value_type = Option<Object>)]
    pub regrade: Option<serde_json::Value>,
    /// On submission of an application whose pre-screen is `ineligible`: the failed criteria.
    /// Submitting is allowed; an approval will need an override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<svc::FailedCriterion>>,
}

impl ApplicationResponse {
    fn new(a: Application, with_prescreen: bool) -> Self {
        ApplicationResponse {
            prescreen: if with_prescreen {
                a.prescreen
                    .as_deref()
                    .and_then(|p| serde_json::from_str(p).ok())
            } else {
                None
            },
            review: a
                .review
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            id: a.id,
            enterprise_id: a.enterprise_id,
            tier: a.tier,
            year: a.year,
            publicity: a
                .publicity_from
                .zip(a.publicity_to)
                .map(|(from, to)| Publicity { from, to }),
            state: a.state,
            renewal: a.renewal,
            prescreen_outcome: a.prescreen_outcome,
            reviewer_id: a.reviewer_id,
            ruleset_id: a.ruleset_id,
            created_by: a.created_by,
            created_at: a.created_at.and_utc(),
            updated_at: a.updated_at.and_utc(),
            submitted_at: a.submitted_at.map(|t| t.and_utc()),
            decided_at: a.decided_at.map(|t| t.and_utc()),
            decision: a.decision,
            decision_comment: a.decision_comment,
            certification: None,
            history: None,
            overridden: a.override_reason.is_some(),
            override_reason: a.override_reason,
            regrade: a
                .regrade
                .as_deref()
                .and_then(|r| serde_json::from_str(r).ok()),
            warnings: None,
        }
    }
}

impl From<svc::Detail> for ApplicationResponse {
    fn from(d: svc::Detail) -> Self {
        let mut r = ApplicationResponse::new(d.app, true);
        r.certification = d.certification.map(|c| CertificationRef {
            id: c.id,
            number: c.number,
            valid_from: c.valid_from,
            valid_to: c.valid_to,
        });
        r.history = Some(d.history.into_iter().map(EventView::from).collect());
        r
    }
}

/// The full view of an application (pre-screen, certification, history).
fn full(conn: &mut DbConnection, app: Application) -> AppResult<ApplicationResponse> {
    svc::detail(conn, app).map(ApplicationResponse::from)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationList {
    pub items: Vec<ApplicationResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApplication {
    pub enterprise_id: i32,
    pub tier: String,
    /// The assessment year.
    pub year: i32,
    /// A re-review (复核): needs a current title of the tier expiring within a year.
    #[serde(default)]
    pub renewal: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignReviewer {
    pub reviewer_id: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: Decision,
    /// Required.
    pub comment: String,
    /// `{criterion_id: bool}` for the pre-screen's `review: true` criteria; an approval must
    /// judge every one of them.
    #[schema(value_type = Option<Object>)]
    pub review: Option<BTreeMap<String, bool>>,
    /// Approve although the pre-screen is `ineligible` or a review criterion is judged false;
    /// kept on the application and the certification, audited, counted in the rollup.
    #[serde(rename = "override")]
    pub overrides: Option<Override>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// At least 10 characters.
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub state: Option<String>,
    pub tier: Option<String>,
    pub enterprise_id: Option<i32>,
    pub year: Option<i32>,
    /// `me`, or a reviewer's user id.
    pub reviewer: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareTie {
    pub enterprise_id: i32,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TieResponse {
    pub reviewer_id: i32,
    pub enterprise_id: i32,
    pub note: Option<String>,
    pub declared_at: DateTime<Utc>,
}

impl From<Tie> for TieResponse {
    fn from(t: Tie) -> Self {
        TieResponse {
            reviewer_id: t.reviewer_id,
            enterprise_id: t.enterprise_id,
            note: t.note,
            declared_at: t.declared_at.and_utc(),
        }
    }
}

/// Create an application.
///
/// A draft application of an enterprise for a tier and assessment year. The enterprise's owner (or
/// an admin) may create one; nothing is evaluated until it is submitted. Accepts
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/applications", tag = "applications", request_body = CreateApplication,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = ApplicationResponse), (status = 403), (status = 404, description = "not your enterprise"),
        (status = 409, description = "an open application for this enterprise, tier and year exists, or a title is already held"), (status = 422)),
    security(("bearer" = [])))]
pub async fn create_application(
    pool: web::Data<DbPool>,
    user: AuthUser,
    idem: Idem,
    Json(body): Json<CreateApplication>,
) -> AppResult<HttpResponse> {
    let (caller, ctx) = (user.0, idem.0.clone());
    let input = NewInput {
        enterprise_id: body.enterprise_id,
        tier: body.tier,
        year: body.year,
        renewal: body.renewal,
    };
    let out = db(&pool, move |c| {
        run(c, ctx.as_ref(), 201, |c| {
            let app = svc::create(c, &caller, &input)?;
            full(c, app)
        })
    })
    .await?;
    Ok(respond(StatusCode::CREATED, out, &idem))
}

/// List applications.
///
/// Applications the caller may see (an enterprise its own; reviewers, officials and admins all),
/// filtered by state, tier, year or enterprise, oldest first, paginated with `limit` and `cursor`.
#[utoipa::path(get, path = "/api/v1/applications", tag = "applications", params(ListQuery),
    responses((status = 200, body = ApplicationList), (status = 422)), security(("bearer" = [])))]
pub async fn list_applications(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    if let Some(s) = &q.state
        && !STATES.contains(&s.as_str())
    {
        return Err(AppError::field(
            "state",
            "enum",
            format!("one of {}", STATES.join(", ")),
        ));
    }
    let reviewer_id = match q.reviewer.as_deref() {
        None => None,
        Some("me") => Some(user.id),
        Some(other) => Some(
            other
                .parse()
                .map_err(|_| AppError::field("reviewer", "invalid", "`me` or a user id"))?,
        ),
    };
    let filter = Filter {
        state: q.state,
        tier: q.tier,
        enterprise_id: q.enterprise_id,
        year: q.year,
        reviewer_id,
        only_enterprise: None,
    };
    let caller = user.0;
    let rows = db(&pool, move |c| {
        svc::list(c, &caller, filter, page.after, page.fetch())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |a| a.id,
        |a| ApplicationResponse::new(a, false),
    )))
}

/// Get an application with its history.
///
/// The application, the pre-screen evaluation kept at submission (rule-set version, facts and
/// result) and every state transition with who and when. Objects the caller may not see answer
/// 404.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "applications", params(("id" = i32, Path)),
    responses((status = 200, body = ApplicationResponse), (status = 404)), security(("bearer" = [])))]
pub async fn get_application(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let body = db(&pool, move |c| {
        let app = svc::get_visible(c, &caller, id)?;
        full(c, app)
    })
    .await?;
    Ok(HttpResponse::Ok().json(body))
}

/// Submit an application.
///
/// The owner submits a draft (or a returned) application: it is evaluated under the rule set in
/// force on the submission date, and that result, the facts and the rule-set version are kept with
/// it. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "applications",
    params(("id" = i32, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ApplicationResponse, description = "submitted, with the pre-screen kept"), (status = 403), (status = 404),
        (status = 409, description = "not in draft or returned: names the current state")),
    security(("bearer" = [])))]
pub async fn submit_application(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    idem: Idem,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller, ctx, cache) = (id.into_inner(), user.0, idem.0.clone(), cache.into_inner());
    let out = db(&pool, move |c| {
        run(c, ctx.as_ref(), 200, |c| {
            let app = svc::submit(c, &cache, &caller, id)?;
            let warnings = svc::prescreen_failures(&app);
            let mut out = full(c, app)?;
            out.warnings = (!warnings.is_empty()).then_some(warnings);
            Ok(out)
        })
    })
    .await?;
    Ok(respond(StatusCode::OK, out, &idem))
}

/// Withdraw an application.
///
/// The owner withdraws a draft or submitted application; it cannot be resubmitted afterwards.
/// Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/withdraw", tag = "applications",
    params(("id" = i32, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ApplicationResponse), (status = 403), (status = 404),
        (status = 409, description = "not in draft or submitted: names the current state")),
    security(("bearer" = [])))]
pub async fn withdraw_application(
    pool: web::Data<DbPool>,
    user: AuthUser,
    idem: Idem,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller, ctx) = (id.into_inner(), user.0, idem.0.clone());
    let out = db(&pool, move |c| {
        run(c, ctx.as_ref(), 200, |c| {
            let app = svc::withdraw(c, &caller, id)?;
            full(c, app)
        })
    })
    .await?;
    Ok(respond(StatusCode::OK, out, &idem))
}

/// Assign a reviewer.
///
/// An admin assigns a submitted application to a reviewer, who must not be tied to the enterprise
/// (conflict of interest); the application moves to `under_review`. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/assign", tag = "applications", request_body = AssignReviewer,
    params(("id" = i32, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ApplicationResponse), (status = 403, description = "not an admin, or the reviewer is tied to the enterprise"),
        (status = 404), (status = 409, description = "not submitted or under review: names the current state"), (status = 422, description = "not a reviewer")),
    security(("bearer" = [])))]
pub async fn assign_reviewer(
    pool: web::Data<DbPool>,
    user: AuthUser,
    idem: Idem,
    id: web::Path<i32>,
    Json(body): Json<AssignReviewer>,
) -> AppResult<HttpResponse> {
    let (id, caller, ctx) = (id.into_inner(), user.0, idem.0.clone());
    let out = db(&pool, move |c| {
        run(c, ctx.as_ref(), 200, |c| {
            let app = svc::assign(c, &caller, id, body.reviewer_id)?;
            full(c, app)
        })
    })
    .await?;
    Ok(respond(StatusCode::OK, out, &idem))
}

/// Decide an application.
///
/// The assigned reviewer approves, rejects or returns the application with a comment, judging each
/// criterion the pre-screen left to a person (`review`). An approval is refused (422, naming each
/// criterion) when the kept pre-screen is `ineligible` or a review criterion is judged `false`,
/// unless the body carries `override: {reason}` (10+ characters). The application is re-graded
/// with today's facts and rule set; when that differs from the pre-screen, `regrade` shows it.
/// Approval creates the certification. Accepts `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/applications/{id}/decision", tag = "applications", request_body = DecisionRequest,
    params(("id" = i32, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 200, body = ApplicationResponse, description = "decided; an approval carries its certification"),
        (status = 403, description = "not the assigned reviewer, or tied to the enterprise"), (status = 404),
        (status = 409, description = "not under review (names the current state), or a title of the tier is still in force"), (status = 422)),
    security(("bearer" = [])))]
pub async fn decide_application(
    pool: web::Data<DbPool>,
    cache: web::Data<RuleCache>,
    user: AuthUser,
    idem: Idem,
    id: web::Path<i32>,
    Json(body): Json<DecisionRequest>,
) -> AppResult<HttpResponse> {
    let (id, caller, ctx) = (id.into_inner(), user.0, idem.0.clone());
    let cache = cache.into_inner();
    let input = DecisionInput {
        decision: body.decision,
        comment: body.comment,
        review: body.review,
        override_reason: body.overrides.map(|o| o.reason),
    };
    let out = db(&pool, move |c| {
        run(c, ctx.as_ref(), 200, |c| {
            let app = svc::decide(c, &cache, &caller, id, &input)?;
            full(c, app)
        })
    })
    .await?;
    Ok(respond(StatusCode::OK, out, &idem))
}

/// The caller's review queue.
///
/// Applications assigned to the calling reviewer that are waiting for a decision, oldest first,
/// with the enterprise's name; paginated.
#[utoipa::path(get, path = "/api/v1/review-queue", tag = "applications", params(PageQuery),
    responses((status = 200, body = ApplicationList, description = "the caller's applications under review, oldest first, with their pre-screens"),
        (status = 403, description = "not a reviewer")),
    security(("bearer" = [])))]
pub async fn review_queue(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let caller = user.0;
    let rows = db(&pool, move |c| {
        svc::queue(c, &caller, page.after, page.fetch())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |a| a.id,
        |a| ApplicationResponse::new(a, true),
    )))
}

/// Declare a conflict of interest.
///
/// A reviewer (for themself) or an admin declares that the reviewer is tied to an enterprise; tied
/// reviewers cannot be assigned that enterprise's applications.
#[utoipa::path(post, path = "/api/v1/reviewers/{id}/ties", tag = "applications", request_body = DeclareTie,
    params(("id" = i32, Path, description = "the reviewer's user id"), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TieResponse), (status = 403), (status = 404), (status = 409, description = "already declared"), (status = 422)),
    security(("bearer" = [])))]
pub async fn declare_tie(
    pool: web::Data<DbPool>,
    user: AuthUser,
    idem: Idem,
    id: web::Path<i32>,
    Json(body): Json<DeclareTie>,
) -> AppResult<HttpResponse> {
    let (id, caller, ctx) = (id.into_inner(), user.0, idem.0.clone());
    let out = db(&pool, move |c| {
        run(c, ctx.as_ref(), 201, |c| {
            svc::declare_tie(c, &caller, id, body.enterprise_id, body.note.as_deref())
                .map(TieResponse::from)
        })
    })
    .await?;
    Ok(respond(StatusCode::CREATED, out, &idem))
}

/// List a reviewer's ties.
///
/// The enterprises a reviewer has declared ties to; the reviewer themself and admins may read
/// them.
#[utoipa::path(get, path = "/api/v1/reviewers/{id}/ties", tag = "applications", params(("id" = i32, Path, description = "the reviewer's user id")),
    responses((status = 200, body = Vec<TieResponse>), (status = 404)), security(("bearer" = [])))]
pub async fn list_ties(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let ties = db(&pool, move |c| svc::ties(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(ties.into_iter().map(TieResponse::from).collect::<Vec<_>>()))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/applications")
            .route(web::post().to(create_application))
            .route(web::get().to(list_applications)),
    );
    cfg.service(web::resource("/applications/{id}").route(web::get().to(get_application)));
    cfg.service(
        web::resource("/applications/{id}/submit").route(web::post().to(submit_application)),
    );
    cfg.service(
        web::resource("/applications/{id}/withdraw").route(web::post().to(withdraw_application)),
    );
    cfg.service(web::resource("/applications/{id}/assign").route(web::post().to(assign_reviewer)));
    cfg.service(
        web::resource("/applications/{id}/decision").route(web::post().to(decide_application)),
    );
    cfg.service(web::resource("/review-queue").route(web::get().to(review_queue)));
    cfg.service(
        web::resource("/reviewers/{id}/ties")
            .route(web::post().to(declare_tie))
            .route(web::get().to(list_ties)),
    );
}
