//! `applications`, `application_events` and `reviewer_ties`. Every state change is a
//! guarded update (`… WHERE id = ? AND state = expected`): the caller learns from the row
//! count whether it won.

use crate::db::DbConnection;
use crate::db::schema::{application_events, applications, reviewer_ties};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// The states of the workflow (API.md: Workflow).
pub const DRAFT: &str = "draft";
pub const SUBMITTED: &str = "submitted";
pub const UNDER_REVIEW: &str = "under_review";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";
pub const RETURNED: &str = "returned";
pub const WITHDRAWN: &str = "withdrawn";
/// Approved and published for objections (公示) until its period ends.
pub const PUBLICIZED: &str = crate::models::publicity::PUBLICIZED;
pub const STATES: [&str; 8] = [
    DRAFT,
    SUBMITTED,
    UNDER_REVIEW,
    PUBLICIZED,
    APPROVED,
    REJECTED,
    RETURNED,
    WITHDRAWN,
];

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = applications, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Application {
    pub id: i32,
    pub enterprise_id: i32,
    pub tier: String,
    pub year: i32,
    pub state: String,
    pub renewal: bool,
    pub reviewer_id: Option<i32>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub submitted_at: Option<NaiveDateTime>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision: Option<String>,
    pub decision_comment: Option<String>,
    pub review: Option<String>,
    pub prescreen_outcome: Option<String>,
    /// Kept out of the audit copy: it is large and immutable; its hash is what matters.
    #[serde(skip)]
    pub prescreen: Option<String>,
    pub ruleset_id: Option<i32>,
    /// Why an approval overrode an ineligible pre-screen or a criterion judged false.
    pub override_reason: Option<String>,
    /// The grade at decision time, kept when it differs from the pre-screen (JSON).
    pub regrade: Option<String>,
    /// The publicity period (working days, inclusive) of an approval.
    pub publicity_from: Option<chrono::NaiveDate>,
    pub publicity_to: Option<chrono::NaiveDate>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = applications)]
pub struct NewApplication<'a> {
    pub enterprise_id: i32,
    pub tier: &'a str,
    pub year: i32,
    pub state: &'a str,
    pub renewal: bool,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = application_events, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Event {
    pub id: i32,
    pub application_id: i32,
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor: String,
    pub comment: Option<String>,
    pub at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = application_events)]
pub struct NewEvent<'a> {
    pub application_id: i32,
    pub from_state: Option<&'a str>,
    pub to_state: &'a str,
    pub actor: &'a str,
    pub comment: Option<&'a str>,
    pub at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = reviewer_ties, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Tie {
    pub reviewer_id: i32,
    pub enterprise_id: i32,
    pub note: Option<String>,
    pub declared_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, new: &NewApplication) -> QueryResult<i32> {
    diesel::insert_into(applications::table)
        .values(new)
        .returning(applications::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConnection, id: i32) -> QueryResult<Option<Application>> {
    applications::table
        .find(id)
        .select(Application::as_select())
        .first(conn)
        .optional()
}

/// List filters; `only_enterprise` narrows an enterprise caller to its own.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub state: Option<String>,
    pub tier: Option<String>,
    pub enterprise_id: Option<i32>,
    pub year: Option<i32>,
    pub reviewer_id: Option<i32>,
    pub only_enterprise: Option<i32>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<Application>> {
    let mut q = applications::table
        .filter(applications::id.gt(after))
        .into_boxed();
    if let Some(s) = &f.state {
        q = q.filter(applications::state.eq(s.clone()));
    }
    if let Some(t) = &f.tier {
        q = q.filter(applications::tier.eq(t.clone()));
    }
    if let Some(e) = f.enterprise_id {
        q = q.filter(applications::enterprise_id.eq(e));
    }
    if let Some(e) = f.only_enterprise {
        q = q.filter(applications::enterprise_id.eq(e));
    }
    if let Some(y) = f.year {
        q = q.filter(applications::year.eq(y));
    }
    if let Some(r) = f.reviewer_id {
        q = q.filter(applications::reviewer_id.eq(r));
    }
    q.order(applications::id)
        .limit(limit)
        .select(Application::as_select())
        .load(conn)
}

/// Submits (`draft | returned → submitted`) with the pre-screen kept alongside; clears the
/// previous round's decision (the history keeps it).
pub fn mark_submitted(
    conn: &mut DbConnection,
    id: i32,
    from: &str,
    at: NaiveDateTime,
    prescreen: &str,
    outcome: &str,
    ruleset_id: Option<i32>,
) -> QueryResult<usize> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::state.eq(from)),
    )
    .set((
        applications::state.eq(SUBMITTED),
        applications::submitted_at.eq(at),
        applications::updated_at.eq(at),
        applications::prescreen.eq(prescreen),
        applications::prescreen_outcome.eq(outcome),
        applications::ruleset_id.eq(ruleset_id),
        applications::decision.eq(None::<String>),
        applications::decision_comment.eq(None::<String>),
        applications::review.eq(None::<String>),
        applications::decided_at.eq(None::<NaiveDateTime>),
        applications::override_reason.eq(None::<String>),
        applications::regrade.eq(None::<String>),
    ))
    .execute(conn)
}

/// A plain state change guarded by the expected state.
pub fn move_state(
    conn: &mut DbConnection,
    id: i32,
    from: &str,
    to: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::state.eq(from)),
    )
    .set((applications::state.eq(to), applications::updated_at.eq(at)))
    .execute(conn)
}

/// Assigns a reviewer (`submitted | under_review → under_review`), guarded by the state read.
pub fn assign(
    conn: &mut DbConnection,
    id: i32,
    from: &str,
    reviewer_id: i32,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::state.eq(from)),
    )
    .set((
        applications::state.eq(UNDER_REVIEW),
        applications::reviewer_id.eq(reviewer_id),
        applications::updated_at.eq(at),
    ))
    .execute(conn)
}

/// What a decision writes on the application.
#[derive(Debug)]
pub struct DecisionRow<'a> {
    pub reviewer_id: i32,
    pub to: &'a str,
    pub decision: &'a str,
    pub comment: &'a str,
    pub review: Option<&'a str>,
    pub override_reason: Option<&'a str>,
    pub regrade: Option<&'a str>,
    pub at: NaiveDateTime,
}

/// Records a decision. Guarded by state *and* reviewer, so neither a concurrent decision nor
/// a concurrent re-assignment can be overtaken.
pub fn decide(conn: &mut DbConnection, id: i32, d: &DecisionRow) -> QueryResult<usize> {
    let (reviewer_id, to, at) = (d.reviewer_id, d.to, d.at);
    diesel::update(
        applications::table
            .find(id)
            .filter(applications::state.eq(UNDER_REVIEW))
            .filter(applications::reviewer_id.eq(reviewer_id)),
    )
    .set((
        applications::state.eq(to),
        applications::decision.eq(d.decision),
        applications::decision_comment.eq(d.comment),
        applications::review.eq(d.review),
        applications::override_reason.eq(d.override_reason),
        applications::regrade.eq(d.regrade),
        applications::decided_at.eq(at),
        applications::updated_at.eq(at),
    ))
    .execute(conn)
}

pub fn insert_event(conn: &mut DbConnection, new: &NewEvent) -> QueryResult<usize> {
    diesel::insert_into(application_events::table)
        .values(new)
        .execute(conn)
}

pub fn events(conn: &mut DbConnection, application_id: i32) -> QueryResult<Vec<Event>> {
    application_events::table
        .filter(application_events::application_id.eq(application_id))
        .order(application_events::id)
        .select(Event::as_select())
        .load(conn)
}

/// A reviewer's applications under review, oldest first.
pub fn queue(
    conn: &mut DbConnection,
    reviewer_id: i32,
    after: i32,
    limit: i64,
) -> QueryResult<Vec<Application>> {
    applications::table
        .filter(applications::reviewer_id.eq(reviewer_id))
        .filter(applications::state.eq(UNDER_REVIEW))
        .filter(applications::id.gt(after))
        .order(applications::id)
        .limit(limit)
        .select(Application::as_select())
        .load(conn)
}

pub fn insert_tie(conn: &mut DbConnection, tie: &Tie) -> QueryResult<usize> {
    diesel::insert_into(reviewer_ties::table)
        .values(tie)
        .execute(conn)
}

pub fn ties_of(conn: &mut DbConnection, reviewer_id: i32) -> QueryResult<Vec<Tie>> {
    reviewer_ties::table
        .filter(reviewer_ties::reviewer_id.eq(reviewer_id))
        .order(reviewer_ties::enterprise_id)
        .select(Tie::as_select())
        .load(conn)
}

pub fn is_tied(conn: &mut DbConnection, reviewer_id: i32, enterprise_id: i32) -> QueryResult<bool> {
    let n: i64 = reviewer_ties::table
        .filter(reviewer_ties::reviewer_id.eq(reviewer_id))
        .filter(reviewer_ties::enterprise_id.eq(enterprise_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// `(enterprise_id, tier, state, pre-screen outcome)` of an application in the workflow.
pub type OpenApplication = (i32, String, String, Option<String>);

/// The year's applications still in the workflow (draft, submitted, under review, returned).
pub fn open_for_year(conn: &mut DbConnection, year: i32) -> QueryResult<Vec<OpenApplication>> {
    applications::table
        .filter(applications::year.eq(year))
        .filter(applications::state.eq_any([DRAFT, SUBMITTED, UNDER_REVIEW, RETURNED]))
        .select((
            applications::enterprise_id,
            applications::tier,
            applications::state,
            applications::prescreen_outcome,
        ))
        .load(conn)
}
