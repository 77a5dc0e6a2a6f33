//! Seeding as versioned data migrations. Each step has a stable id, runs once in its own
//! write transaction together with the row that records it in `data_migrations`, and is
//! never run again: a quota an admin deleted stays deleted, and a later release changes
//! shipped data by adding a step (a new rule-set version, a new catalog) rather than by
//! re-inserting whatever is missing on every start. Steps run in order at start-up under
//! the set-up lock ([`crate::db::with_setup_lock`]).

use crate::db::{DbConnection, write_tx};
use crate::error::{AppError, AppResult};
use crate::models::data_migration as rows;
use crate::models::now;
use crate::services::{quotas, reference, rulesets};

/// What a seeding step does, inside its write transaction.
type StepFn = Box<dyn Fn(&mut DbConnection) -> AppResult<()>>;

/// One seeding step: its id and what it does.
pub struct Step {
    pub id: String,
    run: StepFn,
}

/// Every step this release ships, in the order they run.
pub fn steps() -> AppResult<Vec<Step>> {
    let mut steps = vec![
        Step {
            id: "reference/places/v1".into(),
            run: Box::new(|c| Ok(reference::seed_places(c)?)),
        },
        Step {
            id: format!("reference/indicators/{}", reference::catalog_fingerprint()),
            run: Box::new(|c| Ok(reference::sync_indicators(c)?)),
        },
    ];
    for (name, text) in rulesets::SHIPPED {
        steps.push(Step {
            id: rulesets::seed_id(text).map_err(|e| {
                AppError::Internal(anyhow::anyhow!(
                    "shipped rule set {name} does not compile: {e:?}"
                ))
            })?,
            run: Box::new(move |c| rulesets::seed_file(c, name, text).map(|_| ())),
        });
    }
    steps.push(Step {
        id: "quotas/plan-2025-2026/v1".into(),
        run: Box::new(quotas::seed_plan),
    });
    Ok(steps)
}

/// Runs the given steps that have not run on this database; returns the ids run now.
pub fn run_steps(conn: &mut DbConnection, steps: &[Step]) -> AppResult<Vec<String>> {
    let mut ran = Vec::new();
    for step in steps {
        let done = write_tx(conn, |conn| -> AppResult<bool> {
            if rows::applied(conn, &step.id)? {
                return Ok(false);
            }
            (step.run)(conn)?;
            rows::mark(conn, &step.id, now())?;
            Ok(true)
        })?;
        if done {
            tracing::info!(step = step.id.as_str(), "data migration applied");
            ran.push(step.id.clone());
        }
    }
    Ok(ran)
}

/// Runs every shipped step that has not run yet.
pub fn run(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let steps = steps().map_err(|e| anyhow::anyhow!("seeding: {e:?}"))?;
    run_steps(conn, &steps).map_err(|e| anyhow::anyhow!("seeding: {e:?}"))
}
