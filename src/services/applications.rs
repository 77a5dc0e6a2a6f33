//! The review workflow: applications and their transitions, the pre-screen kept at
//! submission, reviewer assignment, conflict-of-interest ties, decisions (an approval issues
//! the certification in the same transaction) and the reviewer's queue.
//!
//! Every transition is a guarded update on the state it expects; losing a race, or asking
//! for a transition the state does not allow, is a 409 naming the current state.

use crate::db::{DbConnection, write_tx};
use crate::domain::Role;
use crate::error::{AppError, AppResult, FieldError};
use crate::models::application::{
    self as rows, Application, Event, Filter, NewApplication, NewEvent, Tie,
};
use crate::models::certification::Certification;
use crate::models::now;
use crate::models::{enterprise, reference, ruleset as rs_rows, user as users};
use crate::services::audit;
use crate::services::certifications;
use crate::services::evaluations::{self as evals, Subject};
use crate::services::policy::{Action, Caller, CallerKind, Resource};
use crate::services::rulesets::RuleCache;
use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A 409 naming the state the application is in.
pub fn wrong_state(app_id: i32, state: &str, action: &str) -> AppError {
    AppError::Conflict(format!(
        "application {app_id} is {state}: it cannot be {action} in that state"
    ))
}

/// After a guarded update touched nothing: someone else moved the application first.
fn lost_race(conn: &mut DbConnection, id: i32, action: &str) -> AppError {
    match rows::find(conn, id) {
        Ok(Some(a)) => wrong_state(id, &a.state, action),
        Ok(None) => AppError::NotFound,
        Err(e) => e.into(),
    }
}

fn event(
    conn: &mut DbConnection,
    id: i32,
    from: Option<&str>,
    to: &str,
    actor: &str,
    comment: Option<&str>,
) -> AppResult<()> {
    rows::insert_event(
        conn,
        &NewEvent {
            application_id: id,
            from_state: from,
            to_state: to,
            actor,
            comment,
            at: now(),
        },
    )?;
    Ok(())
}

fn reload(conn: &mut DbConnection, id: i32) -> AppResult<Application> {
    rows::find(conn, id)?.ok_or(AppError::NotFound)
}

/// Loads an application the caller may see (enterprise accounts: their own); else 404.
pub fn get_visible(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<Application> {
    let app = rows::find(conn, id)?.ok_or(AppError::NotFound)?;
    caller.may(
        Action::ReadEnterprise,
        &Resource::Enterprise(app.enterprise_id),
    )?;
    Ok(app)
}

/// An application with what a reader wants next to it.
pub struct Detail {
    pub app: Application,
    pub history: Vec<Event>,
    pub certification: Option<Certification>,
}

pub fn detail(conn: &mut DbConnection, app: Application) -> AppResult<Detail> {
    let history = rows::events(conn, app.id)?;
    let certification = crate::models::certification::for_application(conn, app.id)?;
    Ok(Detail {
        app,
        history,
        certification,
    })
}

/// The input of `POST /applications`.
#[derive(Debug, Clone)]
pub struct NewInput {
    pub enterprise_id: i32,
    pub tier: String,
    pub year: i32,
    pub renewal: bool,
}

/// Creates a draft for the caller's enterprise (or any, for an admin). One open application
/// per enterprise, tier and year (the database enforces it). A renewal needs a current title
/// of the tier expiring within a year; a first application needs no title in force.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    input: &NewInput,
) -> AppResult<Application> {
    caller.may(
        Action::EditEnterprise,
        &Resource::Enterprise(input.enterprise_id),
    )?;
    let day = crate::clock::today();
    write_tx(conn, |conn| {
        let mut errors = Vec::new();
        if enterprise::find(conn, input.enterprise_id)?.is_none() {
            errors.push(FieldError::new(
                "enterprise_id",
                "not_found",
                "no such enterprise",
            ));
        }
        if reference::tier(conn, &input.tier)?.is_none() {
            errors.push(FieldError::new(
                "tier",
                "unknown_tier",
                format!("{:?} is not a tier (GET /api/v1/tiers)", input.tier),
            ));
        }
        if !(2000..=day.year() + 1).contains(&input.year) {
            errors.push(FieldError::new(
                "year",
                "range",
                format!("year must be between 2000 and {}", day.year() + 1),
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if input.renewal {
            if certifications::renewal_basis(conn, input.enterprise_id, &input.tier, day)?.is_none()
            {
                return Err(AppError::field(
                    "renewal",
                    "no_title_to_renew",
                    "a renewal (复核) needs a current certification of this tier that expires within the next year",
                ));
            }
        } else if let Some(held) =
            crate::models::certification::current(conn, input.enterprise_id, &input.tier)?
                .filter(|c| c.active_on(day))
        {
            return Err(AppError::Conflict(format!(
                "the enterprise already holds certification {} of tier {} valid to {}; apply with renewal: true when it expires within a year",
                held.number, held.tier, held.valid_to
            )));
        }
        let at = now();
        let actor = caller.actor();
        let id = rows::insert(
            conn,
            &NewApplication {
                enterprise_id: input.enterprise_id,
                tier: &input.tier,
                year: input.year,
                state: rows::DRAFT,
                renewal: input.renewal,
                created_by: &actor,
                created_at: at,
                updated_at: at,
            },
        )?;
        event(conn, id, None, rows::DRAFT, &actor, None)?;
        let app = reload(conn, id)?;
        audit::record::<(), _>(
            conn,
            &actor,
            "application.create",
            "application",
            id,
            None,
            Some(&app),
        )?;
        Ok(app)
    })
}

pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    mut filter: Filter,
    after: i32,
    limit: i64,
) -> AppResult<Vec<Application>> {
    if let Some(only) = caller.enterprise_scope() {
        filter.only_enterprise = Some(only);
    }
    Ok(rows::list(conn, &filter, after, limit)?)
}

fn require_owner(caller: &Caller, app: &Application) -> AppResult<()> {
    caller.may(
        Action::EditEnterprise,
        &Resource::Enterprise(app.enterprise_id),
    )
}

/// Grades the application as of `day` and builds the record kept with it forever: the full
/// result, the facts and holdings it used, and the rule set. No rule set in force is not an
/// error here: the application is submitted ungraded (`not_graded`) and reviewers decide.
fn prescreen(
    conn: &mut DbConnection,
    cache: &RuleCache,
    app: &Application,
    day: NaiveDate,
) -> AppResult<(Value, String, Option<i32>)> {
    let holds = rs_rows::holds(conn, app.enterprise_id, day)?;
    if rs_rows::in_force(conn, &app.tier, day)?.is_none() {
        let record = json!({
            "as_of": day, "renewal": app.renewal, "outcome": "not_graded", "ruleset": null,
            "reason": format!("no rule set of tier {} is in force on {day}", app.tier),
            "result": null, "facts": Value::Object(crate::services::facts::stored_years(conn, app.enterprise_id)?), "holds": holds,
        });
        return Ok((record, "not_graded".into(), None));
    }
    let (graded, facts) = evals::evaluate(
        conn,
        cache,
        &app.tier,
        day,
        Subject::Enterprise(app.enterprise_id),
        None,
        app.renewal,
    )?;
    let r = &graded.ruleset;
    let record = json!({
        "as_of": day, "renewal": app.renewal, "outcome": graded.outcome,
        "ruleset": {"id": r.id, "tier": r.tier, "version": r.version, "name": r.name, "effective_from": r.effective_from, "effective_to": r.effective_to},
        "result": graded.result, "facts": facts, "holds": holds,
    });
    Ok((record, graded.outcome.clone(), Some(r.id)))
}

/// `draft | returned → submitted`, with the pre-screen graded under the rule set in force today.
pub fn submit(
    conn: &mut DbConnection,
    cache: &RuleCache,
    caller: &Caller,
    id: i32,
) -> AppResult<Application> {
    write_tx(conn, |conn| {
        let before = get_visible(conn, caller, id)?;
        require_owner(caller, &before)?;
        if before.state != rows::DRAFT && before.state != rows::RETURNED {
            return Err(wrong_state(id, &before.state, "submitted"));
        }
        let day = crate::clock::today();
        let (mut record, outcome, ruleset_id) = prescreen(conn, cache, &before, day)?;
        // The evidence list is frozen with the pre-screen: it cannot change until returned.
        record["evidence"] = crate::services::evidence::frozen_list(conn, id)?;
        let at = now();
        if rows::mark_submitted(
            conn,
            id,
            &before.state,
            at,
            &record.to_string(),
            &outcome,
            ruleset_id,
        )? == 0
        {
            return Err(lost_race(conn, id, "submitted"));
        }
        let actor = caller.actor();
        event(
            conn,
            id,
            Some(&before.state),
            rows::SUBMITTED,
            &actor,
            Some(&format!("pre-screen: {outcome}")),
        )?;
        let after = reload(conn, id)?;
        crate::services::notifications::submitted(conn, &after)?;
        audit::record(
            conn,
            &actor,
            "application.submit",
            "application",
            id,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// `draft | submitted → withdrawn`.
pub fn withdraw(conn: &mut DbConnection, caller: &Caller, id: i32) -> AppResult<Application> {
    write_tx(conn, |conn| {
        let before = get_visible(conn, caller, id)?;
        require_owner(caller, &before)?;
        if before.state != rows::DRAFT && before.state != rows::SUBMITTED {
            return Err(wrong_state(id, &before.state, "withdrawn"));
        }
        if rows::move_state(conn, id, &before.state, rows::WITHDRAWN, now())? == 0 {
            return Err(lost_race(conn, id, "withdrawn"));
        }
        let actor = caller.actor();
        event(conn, id, Some(&before.state), rows::WITHDRAWN, &actor, None)?;
        let after = reload(conn, id)?;
        audit::record(
            conn,
            &actor,
            "application.withdraw",
            "application",
            id,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// `submitted | under_review → under_review` with this reviewer (admins). The reviewer must be
/// an enabled account of role reviewer (422) not tied to the enterprise (403).
pub fn assign(
    conn: &mut DbConnection,
    caller: &Caller,
    id: i32,
    reviewer_id: i32,
) -> AppResult<Application> {
    caller.may(Action::AssignReviewer, &Resource::Any)?;
    write_tx(conn, |conn| {
        let before = get_visible(conn, caller, id)?;
        if before.state != rows::SUBMITTED && before.state != rows::UNDER_REVIEW {
            return Err(wrong_state(id, &before.state, "assigned"));
        }
        let reviewer = users::find(conn, reviewer_id)?
            .ok_or_else(|| AppError::field("reviewer_id", "not_found", "no such user"))?;
        if reviewer.role != Role::Reviewer.as_str() || reviewer.disabled {
            return Err(AppError::field(
                "reviewer_id",
                "not_a_reviewer",
                format!("user {reviewer_id} is not an enabled reviewer"),
            ));
        }
        if rows::is_tied(conn, reviewer_id, before.enterprise_id)? {
            return Err(AppError::Forbidden(format!(
                "reviewer {reviewer_id} has declared a tie to enterprise {} (conflict of interest)",
                before.enterprise_id
            )));
        }
        if rows::assign(conn, id, &before.state, reviewer_id, now())? == 0 {
            return Err(lost_race(conn, id, "assigned"));
        }
        let actor = caller.actor();
        let note = format!("assigned to reviewer {reviewer_id} ({})", reviewer.username);
        event(
            conn,
            id,
            Some(&before.state),
            rows::UNDER_REVIEW,
            &actor,
            Some(&note),
        )?;
        let after = reload(conn, id)?;
        crate::services::notifications::assigned(conn, &after)?;
        audit::record(
            conn,
            &actor,
            "application.assign",
            "application",
            id,
            Some(&before),
            Some(&after),
        )?;
        Ok(after)
    })
}

/// A reviewer's decision.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
    Return,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
            Decision::Return => "return",
        }
    }

    fn target(self) -> &'static str {
        match self {
            Decision::Approve => rows::APPROVED,
            Decision::Reject => rows::REJECTED,
            Decision::Return => rows::RETURNED,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DecisionInput {
    pub decision: Decision,
    pub comment: String,
    pub review: Option<BTreeMap<String, bool>>,
    /// `override: {reason}`: approve although the pre-screen is `ineligible` or a review
    /// criterion is judged false.
    pub override_reason: Option<String>,
}

/// The kept pre-screen record of a submitted application (`Null` before submission).
fn kept_record(app: &Application) -> Value {
    app.prescreen
        .as_deref()
        .and_then(|p| serde_json::from_str(p).ok())
        .unwrap_or(Value::Null)
}

/// The ids of the criteria the pre-screen left to a reviewer (`review: true`).
pub fn review_criteria(app: &Application) -> BTreeSet<String> {
    let record = kept_record(app);
    record["result"]["criteria"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["review"] == Value::Bool(true))
                .filter_map(|c| c["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A criterion that failed in a grade: its id and labels.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FailedCriterion {
    pub criterion: String,
    pub label_zh: String,
    pub label_en: String,
    pub text_zh: String,
    pub text_en: String,
}

/// The failed criteria of an evaluation result (`summary.failed`, which counts an "any one
/// of" group as one), with their labels.
fn failures_of(result: &Value) -> Vec<FailedCriterion> {
    let criteria = result["criteria"].as_array().cloned().unwrap_or_default();
    result["summary"]["failed"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(|id| {
                    let c = criteria
                        .iter()
                        .find(|c| c["id"] == id)
                        .cloned()
                        .unwrap_or(Value::Null);
                    let label_zh = c["label_zh"].as_str().unwrap_or(id).to_string();
                    let label_en = c["label_en"].as_str().unwrap_or(id).to_string();
                    FailedCriterion {
                        criterion: id.to_string(),
                        text_zh: format!("预审未通过：{label_zh}"),
                        text_en: format!("Failed in the pre-screen: {label_en}"),
                        label_zh,
                        label_en,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The failed criteria of the kept pre-screen when its outcome is `ineligible` (else none):
/// the `warnings` of a submission and what an approval must override.
pub fn prescreen_failures(app: &Application) -> Vec<FailedCriterion> {
    if app.prescreen_outcome.as_deref() != Some("ineligible") {
        return Vec::new();
    }
    failures_of(&kept_record(app)["result"])
}

/// A comment is required; `review` may name only the pre-screen's review criteria, and an
/// approval must judge every one of them.
fn check_decision(app: &Application, input: &DecisionInput) -> AppResult<()> {
    let mut errors = Vec::new();
    let comment = input.comment.trim();
    if comment.is_empty() || comment.chars().count() > 4000 {
        errors.push(FieldError::new(
            "comment",
            "length",
            "a comment of 1–4000 characters is required",
        ));
    }
    let wanted = review_criteria(app);
    let given: BTreeSet<String> = input
        .review
        .as_ref()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default();
    for unknown in given.difference(&wanted) {
        errors.push(FieldError::new(
            format!("review.{unknown}"),
            "not_a_review_criterion",
            "not one of the pre-screen's criteria left to a reviewer (review: true)",
        ));
    }
    if input.decision == Decision::Approve {
        for missing in wanted.difference(&given) {
            errors.push(FieldError::new(
                format!("review.{missing}"),
                "required",
                "an approval must judge every review criterion",
            ));
        }
    }
    if let Some(reason) = &input.override_reason {
        if input.decision != Decision::Approve {
            errors.push(FieldError::new(
                "override",
                "not_an_approval",
                "only an approval can carry an override",
            ));
        } else if !(10..=2000).contains(&reason.trim().chars().count()) {
            errors.push(FieldError::new(
                "override.reason",
                "length",
                "an override needs a reason of 10–2000 characters",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// What an approval would go against: the failed criteria of an `ineligible` pre-screen and
/// the review criteria judged false. Refused with 422 naming each unless overridden.
fn guard_approval(app: &Application, input: &DecisionInput) -> AppResult<bool> {
    let mut errors: Vec<FieldError> = prescreen_failures(app)
        .into_iter()
        .map(|f| {
            FieldError::new(
                format!("prescreen.{}", f.criterion),
                "criterion_failed",
                format!(
                    "the pre-screen is ineligible: {} ({}) failed; approve with override: {{reason}} to go against it",
                    f.label_en, f.label_zh
                ),
            )
        })
        .collect();
    for (id, judged) in input.review.iter().flatten() {
        if !judged {
            errors.push(FieldError::new(
                format!("review.{id}"),
                "judged_false",
                "a review criterion judged false: approve with override: {reason} to go against it",
            ));
        }
    }
    match (&input.override_reason, errors.is_empty()) {
        (None, true) => Ok(false),
        (None, false) => Err(AppError::Validation(errors)),
        (Some(_), false) => Ok(true),
        (Some(_), true) => Err(AppError::field(
            "override",
            "not_needed",
            "nothing to override: the pre-screen is not ineligible and no review criterion is judged false",
        )),
    }
}

/// The grade at decision time (today's facts, the rule set in force today), in the short form
/// kept beside the pre-screen: `{as_of, outcome, ruleset, failed}`.
fn regrade(
    conn: &mut DbConnection,
    cache: &RuleCache,
    app: &Application,
    day: NaiveDate,
) -> AppResult<Value> {
    let (record, outcome, _) = prescreen(conn, cache, app, day)?;
    Ok(json!({
        "as_of": day,
        "outcome": outcome,
        "ruleset": record["ruleset"],
        "failed": failures_of(&record["result"]),
    }))
}

/// Whether the re-grade says something other than the kept pre-screen (outcome, rule set or
/// failed criteria).
fn regrade_differs(app: &Application, now: &Value) -> bool {
    let kept = kept_record(app);
    let kept_failed = serde_json::to_value(failures_of(&kept["result"])).unwrap_or(Value::Null);
    kept["outcome"] != now["outcome"]
        || kept["ruleset"]["id"] != now["ruleset"]["id"]
        || kept_failed != now["failed"]
}

/// `under_review → approved | rejected | returned`, by the assigned reviewer only (403 for
/// anyone else, and for a reviewer tied to the enterprise). An approval against an
/// `ineligible` pre-screen or a criterion judged false needs an override (422 otherwise).
/// Approval issues the certification in the same transaction.
pub fn decide(
    conn: &mut DbConnection,
    cache: &RuleCache,
    caller: &Caller,
    id: i32,
    input: &DecisionInput,
) -> AppResult<Application> {
    write_tx(conn, |conn| {
        let before = get_visible(conn, caller, id)?;
        caller.may(Action::DecideApplication, &Resource::Any)?;
        if before.state != rows::UNDER_REVIEW {
            return Err(wrong_state(id, &before.state, "decided"));
        }
        let caller_tied = before.reviewer_id == Some(caller.id)
            && rows::is_tied(conn, caller.id, before.enterprise_id)?;
        caller.may(
            Action::DecideApplication,
            &Resource::Review {
                enterprise_id: before.enterprise_id,
                reviewer_id: before.reviewer_id,
                caller_tied,
            },
        )?;
        check_decision(&before, input)?;
        let overridden = input.decision == Decision::Approve && guard_approval(&before, input)?;
        let override_reason = input
            .override_reason
            .as_deref()
            .map(str::trim)
            .filter(|_| overridden);
        let day = crate::clock::today();
        let graded = regrade(conn, cache, &before, day)?;
        let regraded = regrade_differs(&before, &graded).then(|| graded.to_string());
        let review = input
            .review
            .as_ref()
            .map(|r| serde_json::to_string(r).unwrap_or_default());
        // An approval of a tier with a publicity period is published first (公示).
        let period = if input.decision == Decision::Approve {
            crate::services::publicity::period_for(conn, &before.tier, day)?
        } else {
            None
        };
        let to = if period.is_some() {
            rows::PUBLICIZED
        } else {
            input.decision.target()
        };
        let at = now();
        let comment = input.comment.trim();
        if rows::decide(
            conn,
            id,
            &rows::DecisionRow {
                reviewer_id: caller.id,
                to,
                decision: input.decision.as_str(),
                comment,
                review: review.as_deref(),
                override_reason,
                regrade: regraded.as_deref(),
                at,
            },
        )? == 0
        {
            return Err(lost_race(conn, id, "decided"));
        }
        if let Some((from, until)) = period {
            crate::models::publicity::set_period(conn, id, from, until)?;
        }
        let actor = caller.actor();
        event(
            conn,
            id,
            Some(rows::UNDER_REVIEW),
            to,
            &actor,
            Some(comment),
        )?;
        let after = reload(conn, id)?;
        audit::record(
            conn,
            &actor,
            "application.decide",
            "application",
            id,
            Some(&before),
            Some(&after),
        )?;
        if let Some(reason) = override_reason {
            audit::record::<(), _>(
                conn,
                &actor,
                "application.override",
                "application",
                id,
                None,
                Some(&json!({
                    "reason": reason,
                    "prescreen_outcome": before.prescreen_outcome,
                    "failed": prescreen_failures(&before),
                    "review": input.review,
                })),
            )?;
        }
        match period {
            Some((from, until)) => {
                crate::services::notifications::publicity(conn, &after, from, until)?
            }
            None => {
                crate::services::notifications::decided(conn, &after)?;
                if input.decision == Decision::Approve {
                    let cert = certifications::issue(conn, &actor, &after, day)?;
                    crate::services::notifications::certified(conn, &after, &cert)?;
                }
            }
        }
        Ok(after)
    })
}

/// The caller's applications under review, oldest first (reviewers only).
pub fn queue(
    conn: &mut DbConnection,
    caller: &Caller,
    after: i32,
    limit: i64,
) -> AppResult<Vec<Application>> {
    caller.may(Action::ReadReviewQueue, &Resource::Any)?;
    if caller.kind != CallerKind::User {
        return Ok(Vec::new());
    }
    Ok(rows::queue(conn, caller.id, after, limit)?)
}

/// Who may read or declare a reviewer's ties: the reviewer, admins (and, to read, officials).
/// Anyone else gets a 404, as for any object they may not see.
fn tie_access(caller: &Caller, reviewer_id: i32, write: bool) -> AppResult<()> {
    let action = if write {
        Action::DeclareTie
    } else {
        Action::ReadTies
    };
    caller.may(action, &Resource::Reviewer(reviewer_id))
}

fn reviewer_user(
    conn: &mut DbConnection,
    reviewer_id: i32,
) -> AppResult<crate::models::user::User> {
    let user = users::find(conn, reviewer_id)?.ok_or(AppError::NotFound)?;
    if user.role != Role::Reviewer.as_str() {
        return Err(AppError::NotFound);
    }
    Ok(user)
}

/// Declares a conflict of interest between a reviewer and an enterprise.
pub fn declare_tie(
    conn: &mut DbConnection,
    caller: &Caller,
    reviewer_id: i32,
    enterprise_id: i32,
    note: Option<&str>,
) -> AppResult<Tie> {
    tie_access(caller, reviewer_id, true)?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::field("note", "length", "at most 1000 characters"));
    }
    write_tx(conn, |conn| {
        reviewer_user(conn, reviewer_id)?;
        if enterprise::find(conn, enterprise_id)?.is_none() {
            return Err(AppError::field(
                "enterprise_id",
                "not_found",
                "no such enterprise",
            ));
        }
        if rows::is_tied(conn, reviewer_id, enterprise_id)? {
            return Err(AppError::Conflict(format!(
                "reviewer {reviewer_id} has already declared a tie to enterprise {enterprise_id}"
            )));
        }
        let tie = Tie {
            reviewer_id,
            enterprise_id,
            note: note.map(str::to_string),
            declared_at: now(),
        };
        rows::insert_tie(conn, &tie)?;
        audit::record::<(), _>(
            conn,
            &caller.actor(),
            "reviewer.tie",
            "reviewer",
            reviewer_id,
            None,
            Some(&tie),
        )?;
        Ok(tie)
    })
}

pub fn ties(conn: &mut DbConnection, caller: &Caller, reviewer_id: i32) -> AppResult<Vec<Tie>> {
    tie_access(caller, reviewer_id, false)?;
    reviewer_user(conn, reviewer_id)?;
    Ok(rows::ties_of(conn, reviewer_id)?)
}
