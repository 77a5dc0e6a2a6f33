//! Health, readiness and Prometheus metrics.

use crate::db::DbPool;
use crate::routes::db;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use diesel::connection::SimpleConnection;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};
use std::time::Instant;

/// Request counters and latency histograms, one registry per application.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "ladder_http_requests_total",
                "HTTP requests by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "ladder_http_request_duration_seconds",
                "HTTP request latency by method and route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
            &["method", "route"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
        })
    }
}

/// Middleware: counts every request under its route pattern (not the raw path, so ids do
/// not explode the label set).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let start = Instant::now();
    let res = next.call(req).await?;
    if let Some(m) = metrics {
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".into());
        let status = res.status().as_u16().to_string();
        m.requests
            .with_label_values(&[&method, &route, &status])
            .inc();
        m.latency
            .with_label_values(&[&method, &route])
            .observe(start.elapsed().as_secs_f64());
    }
    Ok(res)
}

/// Liveness.
///
/// Answers 200 while the process is serving; checks nothing else.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, description = "the process is up")))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness.
///
/// Answers 200 when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "system", responses((status = 200, description = "the database answers"), (status = 503)))]
pub async fn readyz(pool: web::Data<DbPool>) -> HttpResponse {
    match db(&pool, |c| Ok(c.batch_execute("SELECT 1")?)).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ready"})),
        Err(e) => {
            let p = crate::error::AppError::Unavailable.problem();
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .content_type("application/problem+json")
                .json(p)
        }
    }
}

/// Prometheus metrics.
///
/// Request counts and latencies by route and status, in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(m: web::Data<Metrics>) -> HttpResponse {
    let mut buf = Vec::new();
    let _ = TextEncoder::new().encode(&m.registry.gather(), &mut buf);
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(buf)
}
