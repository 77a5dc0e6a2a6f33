//! Authentication: password hashing, access tokens and the request guard.

pub mod extractor;
pub mod jwt;
pub mod limit;
pub mod password;

pub use extractor::AuthUser;
