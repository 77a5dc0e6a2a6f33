//! Typed configuration, read once from the environment (and an optional `.env`).

use secrecy::SecretString;
use std::net::SocketAddr;
use std::time::Duration;

/// The service's settings. Travels as `web::Data<Config>`; tests build their own.
#[derive(Clone, Debug)]
pub struct Config {
    /// `postgres://…` / `postgresql://…` for PostgreSQL; anything else is a SQLite path.
    pub database_url: String,
    pub bind: SocketAddr,
    /// `None` = generate on first start and keep it in the database.
    pub jwt_secret: Option<SecretString>,
    /// `LADDER_AUDIT_KEY`: the audit chain's HMAC key (at least 32 bytes). `None` = a key file
    /// beside the SQLite database (created with mode 0600 on first start); required with
    /// PostgreSQL.
    pub audit_key: Option<SecretString>,
    pub issuer: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub pool_size: u32,
    /// Argon2 hashes allowed at once; the rest wait (bounded memory and CPU under a login flood).
    pub max_concurrent_hashes: usize,
    /// Failed logins for one account before it is locked out for `lockout`.
    pub max_failed_logins: i32,
    pub lockout: Duration,
    /// Requests a minute from one address to `/auth/login`, `/auth/register` and
    /// `/auth/token` (0: no limit).
    pub auth_rate_per_min: u32,
    /// Public objections a minute from one address (0: no limit).
    pub objection_rate_per_min: u32,
    /// Seconds between the background runs of `ladder serve` that end publicity periods and
    /// issue certificates (0: none; `ladder tick` does it at once).
    pub tick_secs: u64,
    pub log_filter: String,
    pub log_json: bool,
    pub workers: usize,
    /// The one clock (`LADDER_TZ`, default Asia/Shanghai; `LADDER_CLOCK_START` to start it at
    /// an instant, for rehearsals and tests). Installed for the process by `Application::prepare`.
    pub clock: crate::clock::Clock,
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError {
            var: name,
            message: format!("cannot parse {v:?}: {e}"),
        }),
    }
}

impl Config {
    /// Reads the environment; names the variable that is wrong.
    pub fn from_env() -> Result<Config, ConfigError> {
        let jwt_secret = match var("LADDER_JWT_SECRET") {
            None => None,
            Some(s) if s.len() < 32 => {
                return Err(ConfigError {
                    var: "LADDER_JWT_SECRET",
                    message: "must be at least 32 bytes (256 bits)".into(),
                });
            }
            Some(s) => Some(SecretString::from(s)),
        };
        let audit_key = match var("LADDER_AUDIT_KEY") {
            None => None,
            Some(s) if s.len() < 32 => {
                return Err(ConfigError {
                    var: "LADDER_AUDIT_KEY",
                    message: "must be at least 32 bytes (256 bits)".into(),
                });
            }
            Some(s) => Some(SecretString::from(s)),
        };
        let log_format = var("LADDER_LOG_FORMAT").unwrap_or_else(|| "text".into());
        let log_json = match log_format.as_str() {
            "json" => true,
            "text" => false,
            other => {
                return Err(ConfigError {
                    var: "LADDER_LOG_FORMAT",
                    message: format!("expected json or text, got {other:?}"),
                });
            }
        };
        let tz = match var("LADDER_TZ") {
            None => crate::clock::DEFAULT_TZ,
            Some(name) => crate::clock::parse_tz(&name).map_err(|message| ConfigError {
                var: "LADDER_TZ",
                message,
            })?,
        };
        let clock = match var("LADDER_CLOCK_START") {
            None => crate::clock::Clock::system(tz),
            Some(start) => {
                let start = crate::clock::parse_instant(&start).map_err(|message| ConfigError {
                    var: "LADDER_CLOCK_START",
                    message,
                })?;
                crate::clock::Clock::starting_at(start, tz)
            }
        };
        Ok(Config {
            database_url: var("DATABASE_URL").unwrap_or_else(|| "ladder.db".into()),
            bind: parse("LADDER_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            jwt_secret,
            audit_key,
            issuer: var("LADDER_ISSUER").unwrap_or_else(|| "ladder".into()),
            access_ttl: Duration::from_secs(parse("LADDER_ACCESS_TTL_SECS", 900u64)?),
            refresh_ttl: Duration::from_secs(parse("LADDER_REFRESH_TTL_SECS", 14 * 86_400u64)?),
            pool_size: parse("LADDER_POOL_SIZE", 16u32)?,
            // Half the cores (at least one): a login flood leaves the other half to everything else.
            max_concurrent_hashes: parse(
                "LADDER_MAX_HASHES",
                (std::thread::available_parallelism().map_or(2, |n| n.get()) / 2).max(1),
            )?
            .max(1),
            max_failed_logins: parse("LADDER_MAX_FAILED_LOGINS", 5i32)?,
            lockout: Duration::from_secs(parse("LADDER_LOCKOUT_SECS", 300u64)?),
            auth_rate_per_min: parse("LADDER_AUTH_RATE_PER_MIN", 30u32)?,
            objection_rate_per_min: parse("LADDER_OBJECTION_RATE_PER_MIN", 5u32)?,
            tick_secs: parse("LADDER_TICK_SECS", 60u64)?,
            log_filter: var("LADDER_LOG").unwrap_or_else(|| "info".into()),
            log_json,
            workers: parse("LADDER_WORKERS", 0usize)?,
            clock,
        })
    }

    /// Settings for tests: a given database, everything else local defaults.
    pub fn for_tests(database_url: &str) -> Config {
        Config {
            database_url: database_url.into(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_secret: None,
            // One fixed key for every app in a test process (the key is per process).
            audit_key: Some(SecretString::from(
                "test-audit-key-0123456789abcdef0123456789abcdef",
            )),
            issuer: "ladder".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(86_400),
            pool_size: 8,
            max_concurrent_hashes: 2,
            max_failed_logins: 5,
            lockout: Duration::from_secs(300),
            // Every test client is 127.0.0.1: the limit's own test turns it on.
            auth_rate_per_min: 0,
            objection_rate_per_min: 0,
            // Tests end publicity with `ladder tick` (or call the service), never by waiting.
            tick_secs: 0,
            log_filter: "warn".into(),
            log_json: false,
            workers: 2,
            clock: crate::clock::Clock::default(),
        }
    }
}
