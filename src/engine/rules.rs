//! The compiled form of a rule set: what `compile` builds once and `evaluate` walks many times.
//!
//! Fact codes are resolved to catalog positions, numbers to decimals, intervals to bounds and
//! threshold texts are rendered ahead of time, so evaluation neither parses nor allocates text.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::num::Interval;

/// Aggregations over a list of years of one fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agg {
    Sum,
    Avg,
    Min,
    Max,
}

/// A numeric expression. Year offsets are relative to the current base year: the assessment
/// year Y (`as_of`'s year), or the year of an enclosing `each_year`/`any_year`.
#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Fact {
        idx: u16,
        year: i32,
    },
    Agg {
        agg: Agg,
        idx: u16,
        years: Box<[i32]>,
    },
    /// `(to − from) / from × 100`.
    Growth {
        idx: u16,
        from: i32,
        to: i32,
    },
    /// Mean of the year-on-year growth of each listed year.
    AvgGrowth {
        idx: u16,
        years: Box<[i32]>,
    },
    /// Compound annual growth from `from` to `to`, in percent.
    Cagr {
        idx: u16,
        from: i32,
        to: i32,
    },
    /// `num / den × 100`.
    Ratio(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Ge,
    Gt,
    Le,
    Lt,
    Eq,
    Ne,
}

impl Op {
    /// Whether an ordering of value against threshold passes.
    #[inline]
    pub(crate) fn holds(self, o: std::cmp::Ordering) -> bool {
        match self {
            Op::Ge => o.is_ge(),
            Op::Gt => o.is_gt(),
            Op::Le => o.is_le(),
            Op::Lt => o.is_lt(),
            Op::Eq => o.is_eq(),
            Op::Ne => o.is_ne(),
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Op> {
        Some(match s {
            ">=" => Op::Ge,
            ">" => Op::Gt,
            "<=" => Op::Le,
            "<" => Op::Lt,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// A yes/no test; evaluates to true, false or unknown (Kleene logic over missing facts).
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    Cmp {
        left: Expr,
        op: Op,
        right: Decimal,
        /// `right` as a 64-bit mantissa and scale, when it fits.
        right_parts: Option<(i64, u32)>,
    },
    /// A bool fact equals `is`.
    Flag {
        idx: u16,
        year: i32,
        is: bool,
    },
    /// The enterprise holds an active certification of this tier on `as_of`.
    Holds(Box<str>),
    /// The evaluation is (`true`) or is not (`false`) a re-review (复核).
    Renewal(bool),
    All(Box<[Cond]>),
    Any(Box<[Cond]>),
    Not(Box<Cond>),
    EachYear {
        years: Box<[i32]>,
        test: Box<Cond>,
    },
    AnyYear {
        years: Box<[i32]>,
        test: Box<Cond>,
    },
    /// Picks the test by the band `on` falls in (thresholds that depend on another value).
    Switch {
        on: Expr,
        cases: Box<[(Interval, Cond)]>,
    },
}

/// How a scored criterion turns facts into points.
#[derive(Debug, Clone)]
pub(crate) enum Points {
    Bands {
        value: Expr,
        bands: Box<[(Interval, Decimal)]>,
    },
    /// First matching case wins.
    Cases {
        cases: Box<[(Cond, Decimal)]>,
        otherwise: Decimal,
    },
    /// `floor(value / per) × each`, capped by the criterion's `max_points`.
    Step {
        value: Expr,
        per: Decimal,
        each: Decimal,
    },
    BestOf(Box<[Points]>),
    /// The value's percentile rank (0–100) within the [`Pool`](super::Pool), slot `slot`;
    /// the bands score it when no pool is given.
    Percentile {
        value: Expr,
        slot: usize,
        bands: Box<[(Interval, Decimal)]>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// Required on every route.
    Base,
    /// Required on the standard route (with the score, when there is one).
    Standard,
    /// Any one passing direct criterion replaces the standard route.
    Direct,
}

/// When a criterion applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applies {
    Always,
    /// Only on first application, not on re-review (复核).
    New,
    /// Only on re-review.
    Renewal,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Test(Cond),
    Points {
        points: Points,
        max_points: Option<Decimal>,
        weights: Option<Box<[Decimal]>>,
        dimension: Option<usize>,
    },
    /// Judged by a person; `passed` is always null and it never affects the outcome.
    Review,
}

#[derive(Debug, Clone)]
pub(crate) struct Criterion {
    pub(crate) id: Box<str>,
    pub(crate) label_zh: Box<str>,
    pub(crate) label_en: Box<str>,
    pub(crate) source: Box<str>,
    pub(crate) threshold: Box<str>,
    pub(crate) confirmed: bool,
    pub(crate) route: RouteKind,
    pub(crate) applies: Applies,
    pub(crate) body: Body,
}

#[derive(Debug, Clone)]
pub(crate) struct Dimension {
    pub(crate) id: Box<str>,
    pub(crate) result_id: Box<str>,
    pub(crate) label_zh: Box<str>,
    pub(crate) label_en: Box<str>,
    pub(crate) source: Box<str>,
    pub(crate) threshold: Box<str>,
    pub(crate) confirmed: bool,
    pub(crate) cap: Option<Decimal>,
    pub(crate) min: Option<Decimal>,
}

/// The pass-mark check shown as a criterion of its own.
#[derive(Debug, Clone)]
pub(crate) struct PassMark {
    pub(crate) result_id: Box<str>,
    pub(crate) label_zh: Box<str>,
    pub(crate) label_en: Box<str>,
    pub(crate) source: Box<str>,
    pub(crate) threshold: Box<str>,
    pub(crate) confirmed: bool,
    pub(crate) mark: Decimal,
}

/// A set of criteria with its own score: the whole rule set, or one scheme of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    pub(crate) id: Box<str>,
    pub(crate) criteria: Vec<Criterion>,
    pub(crate) dimensions: Vec<Dimension>,
    pub(crate) pass: Option<PassMark>,
    pub(crate) has_standard: bool,
    pub(crate) has_direct: bool,
    pub(crate) has_points: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Stage {
    pub(crate) id: Box<str>,
    pub(crate) label_zh: Box<str>,
    pub(crate) label_en: Box<str>,
    pub(crate) range: Interval,
}

/// Company stages that select the weight column of a points model.
#[derive(Debug, Clone)]
pub(crate) struct Stages {
    pub(crate) value: Expr,
    pub(crate) list: Vec<Stage>,
}

/// A compiled rule set: validated once, evaluated many times.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub(crate) tier: Box<str>,
    pub(crate) version: i64,
    pub(crate) name: Box<str>,
    pub(crate) effective_from: NaiveDate,
    pub(crate) effective_to: Option<NaiveDate>,
    pub(crate) status: Box<str>,
    pub(crate) default_model: bool,
    /// Top-level criteria (apply to every scheme) and score.
    pub(crate) main: Model,
    /// Alternative schemes: the tier is granted when any one of them grants it.
    pub(crate) schemes: Vec<Model>,
    pub(crate) stages: Option<Stages>,
    pub(crate) grades: Vec<(Interval, Box<str>)>,
    /// One per `Points::Percentile`, in slot order: the expression the pool ranks.
    pub(crate) percentile_exprs: Vec<Expr>,
    pub(crate) fact_codes: Vec<&'static str>,
    pub(crate) tiers_referenced: Vec<Box<str>>,
    pub(crate) criteria_count: usize,
}

impl RuleSet {
    pub fn tier(&self) -> &str {
        &self.tier
    }
    pub fn version(&self) -> i64 {
        self.version
    }
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn effective_from(&self) -> NaiveDate {
        self.effective_from
    }
    /// `None` = open-ended.
    pub fn effective_to(&self) -> Option<NaiveDate> {
        self.effective_to
    }
    /// Whether the rule set is in force on `day` (both ends inclusive).
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.effective_from <= day && self.effective_to.is_none_or(|to| day <= to)
    }
    /// Whether this rule set's effective range overlaps another's (for the service's
    /// one-rule-set-per-tier-and-day check).
    pub fn overlaps(&self, other: &RuleSet) -> bool {
        let a_end = self.effective_to.unwrap_or(NaiveDate::MAX);
        let b_end = other.effective_to.unwrap_or(NaiveDate::MAX);
        self.effective_from <= b_end && other.effective_from <= a_end
    }
    /// The `status` written in the document; the service keeps the authoritative one.
    pub fn status(&self) -> &str {
        &self.status
    }
    /// Marked as a default a city is expected to tune (创新积分制).
    pub fn default_model(&self) -> bool {
        self.default_model
    }
    /// The top-level pass mark, if the rule set scores.
    pub fn pass_mark(&self) -> Option<Decimal> {
        self.main.pass.as_ref().map(|p| p.mark)
    }
    fn all_criteria(&self) -> impl Iterator<Item = &Criterion> {
        self.main
            .criteria
            .iter()
            .chain(self.schemes.iter().flat_map(|s| s.criteria.iter()))
    }
    /// Every criterion id, in document order (schemes after the top level).
    pub fn criteria_ids(&self) -> impl Iterator<Item = &str> {
        self.all_criteria().map(|c| &*c.id)
    }
    /// `(criterion id, confirmed)` for every criterion.
    pub fn confirmed_flags(&self) -> impl Iterator<Item = (&str, bool)> {
        self.all_criteria().map(|c| (&*c.id, c.confirmed))
    }
    /// Criterion ids marked `confirmed: false`.
    pub fn unconfirmed(&self) -> impl Iterator<Item = &str> {
        self.all_criteria().filter(|c| !c.confirmed).map(|c| &*c.id)
    }
    /// Ids of criteria a reviewer decides.
    pub fn review_criteria(&self) -> impl Iterator<Item = &str> {
        self.all_criteria()
            .filter(|c| matches!(c.body, Body::Review))
            .map(|c| &*c.id)
    }
    /// The catalog codes the rule set reads, each once, in first-use order.
    pub fn fact_codes(&self) -> &[&'static str] {
        &self.fact_codes
    }
    /// The tier codes named by `holds` tests (prerequisites and exclusions).
    pub fn tiers_referenced(&self) -> impl Iterator<Item = &str> {
        self.tiers_referenced.iter().map(|t| &**t)
    }
    /// `(id, label_zh, label_en)` of the company stages of a weighted points model.
    pub fn stages(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.stages
            .iter()
            .flat_map(|s| s.list.iter())
            .map(|s| (&*s.id, &*s.label_zh, &*s.label_en))
    }
    /// Ids of the alternative schemes (empty for a single-scheme rule set).
    pub fn scheme_ids(&self) -> impl Iterator<Item = &str> {
        self.schemes.iter().map(|s| &*s.id)
    }
}
