//! The grading engine: compiles rule-set documents once and grades enterprises against them,
//! exactly (decimal arithmetic) and with an explanation per criterion.
//!
//! Rule sets are data (`fixtures/rulesets/<tier>-<year>.json`); no tier has Rust code of its
//! own. The document format is described in `format.md` next to this file; in short:
//!
//! * a rule set has `criteria`, each a `test` (true/false), `points` (scored) or
//!   `review: true` (a reviewer decides), with `id`, labels, `source` and `confirmed`;
//! * each criterion is on the `base` route (always required), the `standard` route (required
//!   with the score) or a `direct` route (any one passing replaces the standard route);
//! * `pass_mark` and `dimensions` (subtotals with `min`/`max`) turn points into a pass;
//! * `schemes` lists alternative self-contained models: the tier is granted if any grants it;
//! * `stages` and `grades` make a weighted points model (创新积分制).
//!
//! Outcomes use Kleene logic: a missing fact makes a test unknown, and the outcome is
//! `incomplete` only if an unknown could still change it.

pub mod cases;
mod columnar;
mod compile;
mod eval;
mod explain;
mod facts;
mod num;
mod pool;
mod render;
mod rules;
mod sheet;
mod shipped_cases;

#[cfg(test)]
mod tests;

pub use columnar::{BatchInput, Column, ColumnKind, Gap, Graded, PointsGap, Status, grade_batch};
pub use compile::compile;
pub use eval::{
    Actual, CriterionResult, Evaluation, Input, Outcome, Route, evaluate, evaluate_explained,
};
pub use explain::{Group, NextStep, Shortfall, StepKind, Summary, Text};
pub use facts::{FactBatch, FactValue, Facts, UnknownCode, indicator_index};
pub use pool::Pool;
pub use rules::{RouteKind, RuleSet};
pub use sheet::{FactSheet, MIN_YEAR, exact_decimal, max_year};

/// A problem found in a rule set or facts document, located by JSON path.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Where, e.g. `$.criteria[3].points.bands[1].range`.
    pub path: String,
    /// A stable machine code: `unknown_fact`, `type`, `band_gap`, `band_overlap`, `duplicate_id`, …
    pub code: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(path: &str, code: &str, message: impl Into<String>) -> Self {
        Problem {
            path: path.to_owned(),
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({})", self.path, self.message, self.code)
    }
}
