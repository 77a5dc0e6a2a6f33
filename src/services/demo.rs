//! `ladder seed --demo`: the synthetic Shenyang data set of fixtures/demo, embedded in the
//! binary so it loads from anywhere. Loading twice changes nothing.

use crate::db::DbConnection;
use crate::domain::Role;
use crate::error::{AppError, AppResult};

const ENTERPRISES: &str = include_str!("../../fixtures/demo/enterprises.csv");
const FACTS: &str = include_str!("../../fixtures/demo/facts.csv");
const USERS: &str = include_str!("../../fixtures/demo/users.csv");

pub fn seed(conn: &mut DbConnection) -> AppResult<String> {
    let first_uscc = ENTERPRISES.lines().nth(1).and_then(|l| l.split(',').next()).unwrap_or("");
    if crate::models::enterprise::by_uscc(conn, first_uscc)?.is_some() {
        return Ok("demo data already loaded; nothing changed".into());
    }
    let actor = "seed:demo";
    let e = crate::services::import::enterprises(conn, actor, ENTERPRISES, true)?;
    let f = crate::services::import::facts(conn, actor, FACTS, true)?;
    let mut users = 0;
    let mut rdr = csv::Reader::from_reader(USERS.as_bytes());
    for rec in rdr.records() {
        let rec = rec.map_err(|e| AppError::Internal(e.into()))?;
        let (name, password, role, uscc) = (&rec[0], &rec[1], &rec[2], &rec[3]);
        let role = Role::parse(role).ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad role in demo users")))?;
        let enterprise_id = if uscc.is_empty() {
            None
        } else {
            crate::models::enterprise::by_uscc(conn, uscc)?.map(|e| e.id)
        };
        if crate::models::user::by_username(conn, name)?.is_some() {
            continue;
        }
        let hash = crate::auth::password::hash_blocking(password)?;
        crate::services::users::create_user(conn, actor, name, &hash, role, enterprise_id)?;
        users += 1;
    }
    Ok(format!("demo data loaded: {e} enterprises, {f} fact-years, {users} users (passwords in fixtures/demo/users.csv)"))
}
