//! Publicity (公示): the public list and objections (no sign-in), the admins' objection
//! queue, the working-day calendar, and the caller's notifications.

use crate::auth::AuthUser;
use crate::auth::limit::ObjectionLimiter;
use crate::db::DbPool;
use crate::error::AppResult;
use crate::models::notification::Notification;
use crate::models::publicity::{CalendarDay, Objection, PublicRow};
use crate::routes::{Json, Page, Paged, db};
use crate::services::notifications as inbox;
use crate::services::publicity::{self as svc, DayInput, ObjectionInput};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicItem {
    pub application_id: i32,
    /// The enterprise's name.
    pub name: String,
    pub uscc: String,
    pub district_code: String,
    pub tier: String,
    /// First working day of the period.
    pub from: Option<NaiveDate>,
    /// Last working day of the period.
    pub to: Option<NaiveDate>,
}

impl From<PublicRow> for PublicItem {
    fn from(r: PublicRow) -> Self {
        PublicItem {
            application_id: r.application_id,
            name: r.name,
            uscc: r.uscc,
            district_code: r.district_code,
            tier: r.tier,
            from: r.from,
            to: r.to,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicList {
    pub items: Vec<PublicItem>,
}

/// The publicity list.
///
/// No sign-in: the enterprises whose approval is under publicity (公示) now, with the period.
#[utoipa::path(get, path = "/api/v1/public/publicity", tag = "publicity",
    responses((status = 200, body = PublicList)))]
pub async fn public_list(pool: web::Data<DbPool>) -> AppResult<HttpResponse> {
    let rows = db(&pool, svc::public_list).await?;
    Ok(HttpResponse::Ok().json(PublicList {
        items: rows.into_iter().map(PublicItem::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObjection {
    /// 1–100 characters.
    pub name: String,
    /// How to reach the objector: 1–200 characters.
    pub contact: String,
    /// The objection: 1–5000 characters, kept verbatim.
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionReceipt {
    pub id: i32,
    pub application_id: i32,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// Object to an enterprise under publicity.
///
/// No sign-in; rate-limited per address (429 + `Retry-After`). Kept verbatim and shown only
/// as text. 404 when the application is not under publicity (or its period is over).
#[utoipa::path(post, path = "/api/v1/public/publicity/{application_id}/objections", tag = "publicity",
    params(("application_id" = i32, Path)), request_body = NewObjection,
    responses((status = 201, body = ObjectionReceipt), (status = 404, description = "not under publicity"),
        (status = 422), (status = 429)))]
pub async fn object(
    pool: web::Data<DbPool>,
    limiter: web::Data<ObjectionLimiter>,
    req: HttpRequest,
    id: web::Path<i32>,
    Json(body): Json<NewObjection>,
) -> AppResult<HttpResponse> {
    limiter.0.check(&req)?;
    let id = id.into_inner();
    let address = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let input = ObjectionInput {
        name: body.name,
        contact: body.contact,
        text: body.text,
    };
    let row = db(&pool, move |c| svc::object(c, id, &input, &address)).await?;
    Ok(HttpResponse::Created().json(ObjectionReceipt {
        id: row.id,
        application_id: row.application_id,
        status: row.status,
        created_at: row.created_at.and_utc(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionView {
    pub id: i32,
    pub application_id: i32,
    pub name: String,
    pub contact: String,
    /// Verbatim, to be shown only as text.
    pub text: String,
    /// The address it came from.
    pub address: String,
    /// open, upheld or dismissed
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub resolution: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<Objection> for ObjectionView {
    fn from(o: Objection) -> Self {
        ObjectionView {
            id: o.id,
            application_id: o.application_id,
            name: o.name,
            contact: o.contact,
            text: o.text,
            address: o.address,
            status: o.status,
            created_at: o.created_at.and_utc(),
            resolution: o.resolution,
            resolved_by: o.resolved_by,
            resolved_at: o.resolved_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ObjectionList {
    pub items: Vec<ObjectionView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ObjectionQuery {
    /// open, upheld or dismissed
    pub status: Option<String>,
    pub application_id: Option<i32>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List objections (admins).
///
/// Objections filed by the public during publicity, oldest first, filtered by `status` or
/// `application_id`; the text is verbatim, to be shown only as text.
#[utoipa::path(get, path = "/api/v1/objections", tag = "publicity", params(ObjectionQuery),
    responses((status = 200, body = ObjectionList), (status = 403), (status = 422)),
    security(("bearer" = [])))]
pub async fn list_objections(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<ObjectionQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let caller = user.0;
    let rows = db(&pool, move |c| {
        svc::objections(
            c,
            &caller,
            q.status.as_deref(),
            q.application_id,
            page.after,
            page.fetch(),
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(rows, page, |o| o.id, ObjectionView::from)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    /// true: the objection stands and the application is rejected.
    pub upheld: bool,
    /// Required.
    pub comment: String,
}

/// Resolve an objection (admins).
///
/// `upheld: true` rejects the application under publicity (no certificate); `false` lets the
/// period run on, and the certificate issues once it has ended with no other open objection.
#[utoipa::path(post, path = "/api/v1/objections/{id}/resolve", tag = "publicity",
    params(("id" = i32, Path)), request_body = Resolve,
    responses((status = 200, body = ObjectionView), (status = 403), (status = 404),
        (status = 409, description = "already resolved"), (status = 422)),
    security(("bearer" = [])))]
pub async fn resolve(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
    Json(body): Json<Resolve>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let row = db(&pool, move |c| {
        svc::resolve(c, &caller, id, body.upheld, &body.comment)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ObjectionView::from(row)))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DayView {
    pub date: NaiveDate,
    /// `holiday` (a day off) or `workday` (a make-up working day on a weekend).
    pub kind: String,
    pub name: String,
}

impl From<CalendarDay> for DayView {
    fn from(d: CalendarDay) -> Self {
        DayView {
            date: d.day,
            kind: d.kind,
            name: d.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarView {
    pub year: i32,
    /// The notice the days come from.
    pub source: String,
    /// Days that differ from the week (Monday–Friday work, weekends off).
    pub days: Vec<DayView>,
}

/// The working-day calendar of a year.
///
/// China's statutory holidays and make-up working days (2025 and 2026 shipped, from the State
/// Council notices); other days follow the week. 404 for a year not on the calendar (admins
/// add it with `PUT`; publicity then counts Monday–Friday).
#[utoipa::path(get, path = "/api/v1/calendar/{year}", tag = "publicity", params(("year" = i32, Path)),
    responses((status = 200, body = CalendarView), (status = 404)), security(("bearer" = [])))]
pub async fn get_calendar(
    pool: web::Data<DbPool>,
    _user: AuthUser,
    year: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let year = year.into_inner();
    let v = db(&pool, move |c| svc::calendar(c, year)).await?;
    Ok(HttpResponse::Ok().json(CalendarView {
        year: v.year.year,
        source: v.year.source,
        days: v.days.into_iter().map(DayView::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutCalendar {
    /// The notice the days come from (e.g. 国办发明电〔2026〕…号).
    pub source: String,
    pub days: Vec<DayView>,
}

/// Put a year of the calendar (admins).
///
/// Replaces the year's days off and make-up working days.
#[utoipa::path(put, path = "/api/v1/calendar/{year}", tag = "publicity", params(("year" = i32, Path)),
    request_body = PutCalendar,
    responses((status = 200, body = CalendarView), (status = 403), (status = 422)), security(("bearer" = [])))]
pub async fn put_calendar(
    pool: web::Data<DbPool>,
    user: AuthUser,
    year: web::Path<i32>,
    Json(body): Json<PutCalendar>,
) -> AppResult<HttpResponse> {
    let (year, caller) = (year.into_inner(), user.0);
    let days = body
        .days
        .into_iter()
        .map(|d| DayInput {
            date: d.date,
            kind: d.kind,
            name: d.name,
        })
        .collect();
    let v = db(&pool, move |c| {
        svc::put_calendar(c, &caller, year, &body.source, days)
    })
    .await?;
    Ok(HttpResponse::Ok().json(CalendarView {
        year: v.year.year,
        source: v.year.source,
        days: v.days.into_iter().map(DayView::from).collect(),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: i32,
    /// submitted, assigned, decided, publicity, objection, certified or expiring
    pub kind: String,
    pub application_id: Option<i32>,
    pub certification_id: Option<i32>,
    pub text_zh: String,
    pub text_en: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
}

impl From<Notification> for NotificationView {
    fn from(n: Notification) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            application_id: n.application_id,
            certification_id: n.certification_id,
            text_zh: n.text_zh,
            text_en: n.text_en,
            created_at: n.created_at.and_utc(),
            read: n.read_at.is_some(),
            read_at: n.read_at.map(|t| t.and_utc()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub items: Vec<NotificationView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// true: only the unread ones.
    pub unread: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The caller's notifications.
///
/// What concerns the caller (submitted, assigned, decided, publicity, objection, certified,
/// expiring within 90 days), oldest first; `?unread=true` for the unread ones.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "publicity", params(InboxQuery),
    responses((status = 200, body = NotificationList)), security(("bearer" = [])))]
pub async fn notifications(
    pool: web::Data<DbPool>,
    user: AuthUser,
    q: web::Query<InboxQuery>,
) -> AppResult<HttpResponse> {
    let q = q.into_inner();
    let page = Page::parse(q.limit, q.cursor.as_deref())?;
    let caller = user.0;
    let unread = q.unread.unwrap_or(false);
    let rows = db(&pool, move |c| {
        inbox::inbox(c, &caller, unread, page.after, page.fetch())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Paged::from_rows(
        rows,
        page,
        |n| n.id,
        NotificationView::from,
    )))
}

/// Mark a notification read.
///
/// One of the caller's own notifications; anyone else's is not found (404).
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "publicity",
    params(("id" = i32, Path)),
    responses((status = 200, body = NotificationView), (status = 404)), security(("bearer" = [])))]
pub async fn mark_read(
    pool: web::Data<DbPool>,
    user: AuthUser,
    id: web::Path<i32>,
) -> AppResult<HttpResponse> {
    let (id, caller) = (id.into_inner(), user.0);
    let n = db(&pool, move |c| inbox::mark_read(c, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(NotificationView::from(n)))
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/public/publicity").route(web::get().to(public_list)));
    cfg.service(
        web::resource("/public/publicity/{application_id}/objections")
            .route(web::post().to(object)),
    );
    cfg.service(web::resource("/objections").route(web::get().to(list_objections)));
    cfg.service(web::resource("/objections/{id}/resolve").route(web::post().to(resolve)));
    cfg.service(
        web::resource("/calendar/{year}")
            .route(web::get().to(get_calendar))
            .route(web::put().to(put_calendar)),
    );
    cfg.service(web::resource("/me/notifications").route(web::get().to(notifications)));
    cfg.service(web::resource("/me/notifications/{id}/read").route(web::post().to(mark_read)));
}
