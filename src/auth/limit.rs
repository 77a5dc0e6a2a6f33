//! The per-address rate limit on the endpoints that take credentials or create accounts
//! (`/auth/login`, `/auth/register`, `/auth/token`): a keyed GCRA limiter from `governor`,
//! in each process's memory. It bounds how fast one address can guess passwords or create
//! accounts, whoever the account is; the per-account-and-address lockout in
//! `services::auth` is the second line.

use crate::error::{AppError, AppResult};
use actix_web::HttpRequest;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

type Keyed = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// Addresses kept before idle ones are dropped (they hold no debt once their burst refilled).
const PRUNE_ABOVE: usize = 10_000;

/// Shared by every worker of a process (`web::Data`).
#[derive(Clone)]
pub struct AuthLimiter {
    limiter: Option<Arc<Keyed>>,
}

/// The client's address as the service knows it: the TCP peer (forwarding headers are not
/// trusted, since a client could name any address there). The one source for the rate limit,
/// the failed-login counts per address and anything else keyed by client.
pub fn client_ip(req: &HttpRequest) -> Option<std::net::IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

impl AuthLimiter {
    /// `per_minute` requests a minute from one address, all of them allowed as a burst;
    /// 0 turns the limit off.
    pub fn new(per_minute: u32) -> AuthLimiter {
        AuthLimiter {
            limiter: NonZeroU32::new(per_minute)
                .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
        }
    }

    /// Counts one request from the caller's address ([`client_ip`]). Past the quota: 429 with the whole
    /// seconds until the next request is allowed as `Retry-After`.
    pub fn check(&self, req: &HttpRequest) -> AppResult<()> {
        let (Some(limiter), Some(ip)) = (&self.limiter, client_ip(req)) else {
            return Ok(());
        };
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::TooManyRequests {
                // Round up: a client that waits the whole `Retry-After` is let in.
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

/// The same per-address limit on public objections (`POST /public/publicity/{id}/objections`),
/// with its own budget: objecting never uses up an address's logins, nor the reverse.
#[derive(Clone)]
pub struct ObjectionLimiter(pub AuthLimiter);
