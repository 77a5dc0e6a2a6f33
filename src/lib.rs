//! ladder: the enterprise cultivation registry, grading engine, review workflow and quota
//! rollup. `Application` wires the state; `app` builds the actix `App` used by `serve` and
//! by the tests alike.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv_export;
pub mod db;
pub mod domain;
pub mod engine;
pub mod error;
pub mod models;
pub mod openapi;
pub mod routes;
pub mod services;
pub mod telemetry;

use crate::auth::jwt::Keys;
use crate::auth::password::Hashing;
use crate::config::Config;
use crate::db::DbPool;
use crate::error::AppError;
use crate::routes::system::Metrics;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpResponse, web};
use secrecy::ExposeSecret;

/// Everything a running service shares across workers.
#[derive(Clone)]
pub struct Application {
    pub config: Config,
    pub pool: DbPool,
    pub keys: Keys,
    pub hashing: Hashing,
    pub metrics: Metrics,
    pub rules: std::sync::Arc<services::rulesets::RuleCache>,
    pub auth_limiter: auth::limit::AuthLimiter,
    pub objection_limiter: auth::limit::ObjectionLimiter,
}

impl Application {
    /// Connects, migrates, runs the seeding steps not yet run (reference data, shipped rule
    /// sets, the quota plan; see [`services::seed`]), and loads keys.
    pub fn prepare(config: Config) -> anyhow::Result<Application> {
        let (audit_key, key_source) = services::audit::resolve_key(
            &config.database_url,
            config
                .audit_key
                .as_ref()
                .map(|k| k.expose_secret().as_bytes()),
        )?;
        services::audit::install(audit_key);
        clock::install(config.clock);
        let pool = db::connect(&config.database_url, config.pool_size)?;
        let mut conn = pool.get()?;
        let secret = db::with_setup_lock(&mut conn, |conn| {
            db::run_migrations(conn)?;
            services::audit::seal_legacy(conn, &key_source)?;
            services::seed::run(conn)?;
            Ok(match &config.jwt_secret {
                Some(s) => s.expose_secret().as_bytes().to_vec(),
                None => services::auth::jwt_secret(conn)?,
            })
        })?;
        drop(conn);
        let keys = Keys::new(&secret, &config.issuer, config.access_ttl);
        let hashing = Hashing::new(config.max_concurrent_hashes);
        let metrics = Metrics::new()?;
        let rules = std::sync::Arc::new(services::rulesets::RuleCache::default());
        let auth_limiter = auth::limit::AuthLimiter::new(config.auth_rate_per_min);
        let objection_limiter = auth::limit::ObjectionLimiter(auth::limit::AuthLimiter::new(
            config.objection_rate_per_min,
        ));
        Ok(Application {
            auth_limiter,
            objection_limiter,
            config,
            pool,
            keys,
            hashing,
            metrics,
            rules,
        })
    }
}

/// Rewrites the framework's bare error responses (unknown route, wrong method, …) into
/// problem documents; our own errors already are.
fn problem_for_bare<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (slug, title, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Not found", "no such route".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "Method not allowed",
            "this method is not allowed on this path".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload-too-large",
            "Payload too large",
            "the request body is larger than 1 MiB".to_string(),
        ),
        s => (
            "error",
            s.canonical_reason().unwrap_or("Error"),
            s.to_string(),
        ),
    };
    let body = serde_json::json!({
        "type": format!("https://ladder.example/problems/{slug}"),
        "title": title, "status": status.as_u16(), "detail": detail,
    });
    let (req, old) = res.into_parts();
    let mut builder = HttpResponse::build(status);
    for (k, v) in old.headers() {
        if k != actix_web::http::header::CONTENT_TYPE
            && k != actix_web::http::header::CONTENT_LENGTH
        {
            builder.insert_header((k.clone(), v.clone()));
        }
    }
    let new = builder
        .content_type("application/problem+json")
        .body(body.to_string());
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

/// The whole application: state, extractor settings, middleware and every route.
pub fn app(
    state: Application,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let openapi = openapi::document();
    App::new()
        .app_data(web::Data::new(state.pool.clone()))
        .app_data(web::Data::new(state.config.clone()))
        .app_data(web::Data::new(state.keys.clone()))
        .app_data(web::Data::new(state.hashing.clone()))
        .app_data(web::Data::new(state.metrics.clone()))
        .app_data(web::Data::from(state.rules.clone()))
        .app_data(web::Data::new(state.auth_limiter.clone()))
        .app_data(web::Data::new(state.objection_limiter.clone()))
        .app_data(web::PayloadConfig::new(routes::MAX_BODY))
        .app_data(web::QueryConfig::default().error_handler(routes::query_error))
        .app_data(web::PathConfig::default().error_handler(routes::path_error))
        .app_data(
            web::JsonConfig::default()
                .limit(routes::MAX_BODY)
                .error_handler(|e, _| AppError::BadRequest(format!("malformed JSON: {e}")).into()),
        )
        .wrap(from_fn(routes::idempotency::middleware))
        .wrap(from_fn(routes::reject_nul_query))
        .wrap(
            ErrorHandlers::new()
                .handler(StatusCode::NOT_FOUND, problem_for_bare)
                .handler(StatusCode::METHOD_NOT_ALLOWED, problem_for_bare)
                .handler(StatusCode::PAYLOAD_TOO_LARGE, problem_for_bare)
                .handler(StatusCode::BAD_REQUEST, problem_for_bare),
        )
        .wrap(from_fn(routes::system::track))
        .wrap(from_fn(telemetry::request_id_header))
        .wrap(tracing_actix_web::TracingLogger::default())
        .wrap(from_fn(routes::security_headers))
        .service(web::resource("/healthz").route(web::get().to(routes::system::healthz)))
        .service(web::resource("/readyz").route(web::get().to(routes::system::readyz)))
        .service(web::resource("/metrics").route(web::get().to(routes::system::metrics)))
        .service(web::resource("/docs").route(web::get().to(|| async {
            HttpResponse::Found()
                .insert_header(("Location", "/docs/"))
                .finish()
        })))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .url("/api/v1/openapi.json", openapi)
                // No request to swagger.io's online validator: the page runs on a closed network.
                .config(utoipa_swagger_ui::Config::default().validator_url("none")),
        )
        .configure(routes::pages::routes)
        .service(web::scope("/api/v1").configure(routes::configure))
}

/// Runs the HTTP server until SIGINT/SIGTERM, then drains in-flight requests.
pub async fn serve(state: Application) -> anyhow::Result<()> {
    let bind = state.config.bind;
    let workers = state.config.workers;
    let st = state.clone();
    let mut server = actix_web::HttpServer::new(move || app(st.clone())).shutdown_timeout(20);
    if workers > 0 {
        server = server.workers(workers);
    }
    let server = server.bind(bind).map_err(|e| {
        let hint = match e.kind() {
            std::io::ErrorKind::AddrInUse => {
                "another process (perhaps another `ladder serve`) is listening there"
            }
            std::io::ErrorKind::PermissionDenied => "ports below 1024 need privileges",
            std::io::ErrorKind::AddrNotAvailable => "this machine has no such address",
            _ => "the address cannot be used",
        };
        anyhow::anyhow!(
            "cannot listen on {bind}: {e} ({hint}); choose another address with LADDER_BIND, e.g. LADDER_BIND=127.0.0.1:8081"
        )
    })?;
    for addr in server.addrs() {
        tracing::info!(%addr, "ladder listening");
    }
    if state.config.tick_secs > 0 {
        let (pool, every) = (
            state.pool.clone(),
            std::time::Duration::from_secs(state.config.tick_secs),
        );
        // Ends publicity periods and issues their certificates. Every process may run it: one
        // conditional update per application decides which one issues.
        std::thread::Builder::new()
            .name("ladder-tick".into())
            .spawn(move || {
                loop {
                    match pool.get() {
                        Ok(mut conn) => match services::publicity::tick(&mut conn) {
                            Ok(r) if r.issued > 0 || r.expiring > 0 => {
                                tracing::info!(issued = r.issued, expiring = r.expiring, "tick")
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = ?e, "tick failed"),
                        },
                        Err(e) => tracing::warn!(error = %e, "tick: no connection"),
                    }
                    std::thread::sleep(every);
                }
            })?;
    }
    server.run().await?;
    tracing::info!("ladder stopped");
    Ok(())
}
