//! One error type for the crate; every error leaves as an RFC 9457 problem document.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// A field-level problem inside a 422 (or 400) answer.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// Where the problem is: a field name, a dotted path (`facts.rd_staff`), or a JSON path.
    pub field: String,
    /// A stable machine code (`required`, `range`, `unknown_field`, …).
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The RFC 6749 §5.2 error code (`invalid_request`, `invalid_client`,
    /// `unsupported_grant_type`), on errors of the token endpoint only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An error of the OAuth token endpoint (RFC 6749 §5.2): 401 for `invalid_client`, 400 for
/// the rest, with the code as the problem document's `error` member.
#[derive(Debug)]
pub struct OAuthError {
    pub code: &'static str,
    pub detail: String,
    /// Field-level problems of the request, when a field can be named.
    pub fields: Vec<FieldError>,
    /// The client tried HTTP Basic: a 401 then challenges `Basic` (§5.2).
    pub basic: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized(String),
    #[error("forbidden")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("payload too large")]
    PayloadTooLarge,
    /// 413 with its own explanation (an upload past its limits).
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("service unavailable")]
    Unavailable,
    #[error("oauth: {}", .0.code)]
    OAuth(Box<OAuthError>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// One 422 naming one field.
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }

    fn kind(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            AppError::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Validation failed",
            ),
            AppError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            AppError::NotFound => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            AppError::PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "stale-etag",
                "Precondition failed",
            ),
            AppError::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "Precondition required",
            ),
            AppError::TooManyRequests { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-requests",
                "Too many requests",
            ),
            AppError::PayloadTooLarge | AppError::TooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            AppError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            AppError::OAuth(e) if e.code == "invalid_client" => {
                (StatusCode::UNAUTHORIZED, "invalid-client", "Invalid client")
            }
            AppError::OAuth(_) => (
                StatusCode::BAD_REQUEST,
                "invalid-token-request",
                "Invalid token request",
            ),
            AppError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.kind();
        let detail = match self {
            AppError::Validation(errors) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                format!("invalid input: {}", fields.join(", "))
            }
            AppError::BadRequest(m)
            | AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::Conflict(m) => m.clone(),
            AppError::NotFound => "no such resource, or not visible to you".into(),
            AppError::PreconditionFailed => "the If-Match etag is stale: reload and retry".into(),
            AppError::PreconditionRequired => {
                "this update needs an If-Match header with the current etag".into()
            }
            AppError::TooManyRequests { retry_after_secs } => {
                format!("too many attempts; retry after {retry_after_secs} s")
            }
            AppError::PayloadTooLarge => "the request body is larger than 1 MiB".into(),
            AppError::TooLarge(detail) => detail.clone(),
            AppError::Unavailable => "the database is busy or unreachable; retry shortly".into(),
            AppError::OAuth(e) => e.detail.clone(),
            AppError::Internal(_) => "an internal error occurred; it has been logged".into(),
        };
        let errors = match self {
            AppError::Validation(errors) => Some(errors.clone()),
            AppError::OAuth(e) if !e.fields.is_empty() => Some(e.fields.clone()),
            _ => None,
        };
        let error = match self {
            AppError::OAuth(e) => Some(e.code.to_string()),
            _ => None,
        };
        Problem {
            type_: format!("https://ladder.example/problems/{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
            error,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        self.kind().0
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let problem = self.problem();
        let mut resp = HttpResponse::build(self.status_code());
        resp.content_type("application/problem+json");
        match self {
            AppError::Unauthorized(_) => {
                resp.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            AppError::OAuth(e) if e.code == "invalid_client" => {
                let challenge = if e.basic {
                    "Basic realm=\"ladder\", charset=\"UTF-8\""
                } else {
                    "Bearer"
                };
                resp.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                ));
                resp.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
            }
            AppError::OAuth(_) => {
                resp.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
            }
            AppError::TooManyRequests { retry_after_secs } => {
                resp.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        resp.body(serde_json::to_string(&problem).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => AppError::Conflict(
                unique_message(info.table_name(), info.constraint_name(), info.message()),
            ),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                AppError::Conflict("a concurrent change won; retry".into())
            }
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Turns a unique violation into a message naming the field, without the database's text.
fn unique_message(table: Option<&str>, constraint: Option<&str>, message: &str) -> String {
    let hay = format!(
        "{} {} {}",
        table.unwrap_or(""),
        constraint.unwrap_or(""),
        message
    );
    let field = if hay.contains("uscc") {
        "uscc"
    } else if hay.contains("username") {
        "username"
    } else if hay.contains("applications_one_open") || hay.contains("applications.enterprise_id") {
        "an open application for this enterprise, tier and year already exists"
    } else if hay.contains("one_current") || hay.contains("certifications.enterprise_id") {
        "the enterprise already holds a current certification of this tier"
    } else if hay.contains("number") {
        "number"
    } else if hay.contains("client_id") {
        "client_id"
    } else if hay.contains("version") {
        "version"
    } else if hay.contains("quotas") {
        "a quota for this year, scope, tiers and measure already exists"
    } else {
        "a unique value"
    };
    if field.contains(' ') {
        field.to_string()
    } else {
        format!("{field} already exists")
    }
}

/// `#[derive(Validate)]` failures: one entry per field and rule.
impl From<validator::ValidationErrors> for AppError {
    fn from(errors: validator::ValidationErrors) -> Self {
        let mut out = Vec::new();
        for (field, errs) in errors.field_errors() {
            for e in errs {
                let message = e
                    .message
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| format!("fails the {} rule", e.code));
                out.push(FieldError::new(
                    field.to_string(),
                    e.code.to_string(),
                    message,
                ));
            }
        }
        AppError::Validation(out)
    }
}

impl From<r2d2_error::PoolError> for AppError {
    fn from(_: r2d2_error::PoolError) -> Self {
        AppError::Unavailable
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

mod r2d2_error {
    pub type PoolError = diesel::r2d2::PoolError;
}
