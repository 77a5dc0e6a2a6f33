//! Access tokens: HS256 only, with `exp`, `nbf`, `iss` and `aud` required.

use crate::error::{AppError, AppResult};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The audience of API access tokens; other token purposes would get their own.
pub const ACCESS_AUDIENCE: &str = "ladder-api";

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// `u:<user id>` or `c:<api client id>`.
    pub sub: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
}

/// Signing and checking keys, built once from the secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    ttl: Duration,
}

impl Keys {
    pub fn new(secret: &[u8], issuer: &str, ttl: Duration) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[ACCESS_AUDIENCE]);
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.leeway = 5;
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_string(),
            ttl,
        }
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl.as_secs()
    }

    pub fn issue(&self, sub: String) -> AppResult<String> {
        // The one place outside `crate::clock` that reads the system time: `jsonwebtoken`
        // checks `exp`/`nbf` against the system time, so they are issued on it too (a clock
        // started at another instant must not make every token expired or not yet valid).
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub,
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs() as i64,
            iss: self.issuer.clone(),
            aud: ACCESS_AUDIENCE.into(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("signing token: {e}")))
    }

    /// Any failure (bad signature, other algorithm, `alg: none`, expired, wrong audience,
    /// malformed claims) is a 401.
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|_| AppError::Unauthorized("invalid or expired access token".into()))
    }
}
