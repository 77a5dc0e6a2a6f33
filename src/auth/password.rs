//! Password hashing: Argon2id (m = 19456 KiB, t = 2, p = 1), always off the async workers,
//! on a few dedicated threads so a login flood cannot take every core and all the memory.

use crate::error::{AppError, AppResult};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};

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

/// Job for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// The bounded pool of hashing threads, shared by every worker. Argon2 runs only on these
/// `max_concurrent` dedicated threads, never on the general blocking pool: each hash takes
/// 19 MiB, and glibc keeps a freed block in the arena of the thread that used it, so hashing
/// on the many blocking-pool threads let a login flood grow the process to ~600 MiB
/// (RELIABILITY.md, load). Jobs beyond the threads wait in the queue.
#[derive(Clone)]
pub struct Hashing {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Hashing {
    pub fn new(max_concurrent: usize) -> Hashing {
        // Warm the dummy hash so the first unknown-user login is not slower than the rest.
        let _ = dummy_hash();
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..max_concurrent.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        Hashing { jobs }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| {
                AppError::Internal(anyhow::anyhow!("no password hashing thread is running"))
            })?;
        rx.await.map_err(|_| {
            AppError::Internal(anyhow::anyhow!("a password hashing thread dropped its job"))
        })
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.run(move || hash_blocking(&password))
            .await?
            .map_err(AppError::Internal)
    }

    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        self.run(move || verify_blocking(&password, hash.as_deref()))
            .await
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
