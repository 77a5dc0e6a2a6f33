//! Password hashing: Argon2id (m = 19456 KiB, t = 2, p = 1), always off the async workers
//! and behind a semaphore so a login flood cannot take every core and all the memory.

use crate::error::{AppError, AppResult};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

fn hasher() -> Argon2<'static> {
    // Params::new only fails on out-of-range constants; these are the OWASP minimums.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (blocking; call through [`Hashing`]).
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// A fixed hash to verify against when the user does not exist, so an unknown user and a
/// wrong password cost the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("ladder-dummy-password-for-timing").unwrap_or_default())
}

/// Verifies a password against a stored hash (blocking). `None` verifies against the dummy
/// hash and always fails.
pub fn verify_blocking(password: &str, hash: Option<&str>) -> bool {
    let target: &str = match hash {
        Some(h) => h,
        None => dummy_hash(),
    };
    let ok = hasher()
        .verify_password(password.as_bytes(), target)
        .is_ok();
    ok && hash.is_some()
}

/// The bounded pool of hashing slots, shared by every worker.
#[derive(Clone)]
pub struct Hashing {
    slots: Arc<Semaphore>,
}

impl Hashing {
    pub fn new(max_concurrent: usize) -> Hashing {
        // Warm the dummy hash so the first unknown-user login is not slower than the rest.
        let _ = dummy_hash();
        Hashing {
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        let _permit = self
            .slots
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        let hash = actix_web::web::block(move || hash_blocking(&password)).await??;
        Ok(hash)
    }

    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let _permit = self
            .slots
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(actix_web::web::block(move || verify_blocking(&password, hash.as_deref())).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_blocking("correct horse battery").unwrap_or_default();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("correct horse battery", Some(&h)));
        assert!(!verify_blocking("wrong", Some(&h)));
        assert!(!verify_blocking("ladder-dummy-password-for-timing", None));
    }
}
