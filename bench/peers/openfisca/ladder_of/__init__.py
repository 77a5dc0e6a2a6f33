"""OpenFisca encoding of the 小巨人 2026 rule set and the 科技型中小企业 (115号) scoring.

One entity (the enterprise). Facts are YEAR variables; criteria and outcomes are DAY variables
computed on the assessment date, so dated parameters (parameters/) and dated formulas
(`formula_2026_04_01`: the rule set applies from that day) pick the rules in force.

Exact numbers: OpenFisca's float variables are float32, which cannot hold 4006.3 exactly, so
numeric facts are int variables in ten-thousandths (4006.3 万元 → 40063000; int32 holds up to 214,748 万元) and comparisons of ratios
are made by cross-multiplication in int64; band lookups use the float64 quotient of two exact
integers, which is exact at every band boundary.

Missing data: a fact variable's default is MISSING (nothing was set). Criteria are three-valued,
vectorised as small ints F=0 < U=1 < T=2 (unknown = a missing fact could still decide), so
Kleene AND is a minimum, OR a maximum and NOT is 2 − x. An absent *_rank is "no rank" (0).
"""

import functools
import os

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.periods import DateUnit
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

F, U, T = 0, 1, 2
MISSING = -(2**31) + 1
NOT_IN_FORCE = 3  # outcome code when the rule set is not in force on the date
OUTCOMES = {F: "ineligible", U: "incomplete", T: "eligible", NOT_IN_FORCE: "not_in_force"}
ROUTES = {0: None, 1: "standard", 2: "direct"}

Enterprise = build_entity(
    key="enterprise",
    plural="enterprises",
    label="An enterprise graded for a cultivation tier",
    is_person=True,
)

# Fact code → kind ("num": ten-thousandths, "flag": 1/0, "rank": 0 = no rank).
FACTS = {
    "operating_revenue": "num", "main_business_revenue": "num", "rd_expense": "num",
    "cost_and_expense": "num", "total_assets": "num", "total_liabilities": "num",
    "employees": "num", "st_staff": "num", "niche_years": "num", "main_product_share": "num",
    "ip_class1": "num", "ip_class2": "num", "rd_institution_level": "num", "dev_eval_score": "num",
    "domestic_rank": "rank", "st_award_national_rank": "rank",
    "six_base": "flag", "key_chain": "flag", "high_tech_enterprise": "flag", "standard_led": "flag",
    "major_incident": "flag", "abnormal_listed": "flag", "dishonest_listed": "flag",
}
SCALE = 10_000  # numeric facts are stored in ten-thousandths (the boundary cases use 4 decimals)


def _fact_variable(code, kind):
    return type(code, (Variable,), {
        "value_type": int,
        "entity": Enterprise,
        "definition_period": DateUnit.YEAR,
        "default_value": 0 if kind == "rank" else MISSING,
        "label": f"{code} ({'ten-thousandths' if kind == 'num' else kind}) of a fiscal year",
    })


class holds_srdi_sme(Variable):
    value_type = bool
    entity = Enterprise
    definition_period = DateUnit.ETERNITY
    label = "Holds a valid 专精特新中小企业 title on the assessment date"


class holds_single_champion(Variable):
    value_type = bool
    entity = Enterprise
    definition_period = DateUnit.ETERNITY
    label = "Holds a 制造业单项冠军 title on the assessment date"


class renewal(Variable):
    value_type = bool
    entity = Enterprise
    definition_period = DateUnit.ETERNITY
    label = "A re-review (复核) rather than a first application"


# ---- vectorised three-valued helpers ----

def tri(known, cond):
    return np.where(known, np.where(cond, T, F), U).astype(np.int8)


def AND(*xs):
    return functools.reduce(np.minimum, xs)


def OR(*xs):
    return functools.reduce(np.maximum, xs)


def at_least(lo, hi, mark):
    return np.where(lo >= mark, T, np.where(hi < mark, F, U)).astype(np.int8)


def fact(e, code, period, k):
    """Fact `code` of fiscal year Y-k (Y = the year of the assessment date), as int64."""
    return e(code, period.this_year.offset(-k)).astype(np.int64)


def known(*xs):
    return functools.reduce(np.logical_and, [x != MISSING for x in xs])


def cmp(x, op, t):
    return tri(x != MISSING, op(x, t * SCALE))


def ratio_cmp(a, b, op, t):
    """a / b × 100 <op> t exactly (a·100 <op> t·b for b > 0); a zero base fails."""
    ok = known(a, b)
    return tri(ok, (b > 0) & op(a * 100, t * b))


def flag_is(x, want):
    return tri(x != MISSING, x == (1 if want else 0))


def flag(x):
    return flag_is(x, True)


def pct(a, b):
    """a / b × 100 as float64 where defined (exact integers in, correctly rounded out)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a * 100.0 / np.where(b > 0, b, 1), np.nan)


def band_points(scale, a, b):
    """(lo, hi) points of the band holding a/b%: missing facts → the whole range of the scale;
    an undefined ratio → the lowest band."""
    amounts = [float(x) for x in scale.amounts]
    p = pct(a, b)
    pts = np.where(np.isnan(p), amounts[0], scale.calc(np.nan_to_num(p, nan=-1.0)))
    ok = known(a, b)
    lo = np.where(ok, pts, min(amounts))
    hi = np.where(ok, pts, max(amounts))
    return lo.astype(np.int64), hi.astype(np.int64)


def first_match(cases, otherwise, n):
    """Points of the first case that holds, three-valued: unknown cases widen the range."""
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, np.iinfo(np.int64).min)
    decided = np.zeros(n, dtype=bool)
    for t, pts in cases:
        active = ~decided & (t != F)
        lo = np.where(active, np.minimum(lo, pts), lo)
        hi = np.where(active, np.maximum(hi, pts), hi)
        decided = decided | (active & (t == T))
    lo = np.where(decided, lo, np.minimum(lo, otherwise))
    hi = np.where(decided, hi, np.maximum(hi, otherwise))
    return lo, hi


def _criterion(name, label, fn, tier):
    """A DAY variable holding a three-valued criterion; `fn(e, period, P)` gets the tier's
    parameters on the assessment date."""
    def formula(e, period, parameters):
        return fn(e, period, getattr(parameters(period.start), tier))
    return type(name, (Variable,), {
        "value_type": int, "entity": Enterprise, "definition_period": DateUnit.DAY,
        "default_value": U, "label": label, "formula": formula,
    })


ge, le = np.greater_equal, np.less_equal


def _not_renewal(e, p):
    return ~e("renewal", p)


# ---- 小巨人 2026 (工信部企业〔2026〕2号 附件2; criteria.md §4b) ----

def rev(e, p, k):
    return fact(e, "operating_revenue", p, k)


LG = [
    ("prerequisite", "Holds a valid 专精特新中小企业 title",
     lambda e, p, P: tri(True, e("holds_srdi_sme", p))),
    ("niche_years", "At least 3 years in the niche market",
     lambda e, p, P: cmp(fact(e, "niche_years", p, 1), ge, P.niche_years_min)),
    ("revenue", "Prior-year operating revenue at least 5000万",
     lambda e, p, P: cmp(rev(e, p, 1), ge, P.revenue_min)),
    ("main_share", "Main-business revenue at least 90% of operating revenue",
     lambda e, p, P: ratio_cmp(fact(e, "main_business_revenue", p, 1), rev(e, p, 1), ge, P.main_share_min)),
    ("revenue_cagr", "Revenue CAGR at least 5% over 2 years (new applications only)",
     lambda e, p, P: np.where(_not_renewal(e, p), _cagr(rev(e, p, 3), rev(e, p, 1), 2, P.revenue_cagr_min), T)),
    ("debt_ratio", "Asset-liability ratio at most 75%",
     lambda e, p, P: ratio_cmp(fact(e, "total_liabilities", p, 1), fact(e, "total_assets", p, 1), le, P.debt_ratio_max)),
    ("rd_total", "R&D of the last 2 years at least 1200万",
     lambda e, p, P: _sum_cmp([fact(e, "rd_expense", p, k) for k in (2, 1)], ge, P.rd_total_min)),
    ("rd_intensity", "R&D at least 3% of revenue in each of the last 2 years",
     lambda e, p, P: AND(*[ratio_cmp(fact(e, "rd_expense", p, k), rev(e, p, k), ge, P.rd_intensity_min) for k in (2, 1)])),
    ("ip", "At least 4 Class I IP, or a top-3 national S&T award in the last 3 years",
     lambda e, p, P: OR(cmp(fact(e, "ip_class1", p, 1), ge, P.ip_class1_min),
                        _rank_within([fact(e, "st_award_national_rank", p, k) for k in (3, 2, 1)], P.award_rank_max))),
    ("market", "Niche market share at least 10% or domestic top 3",
     lambda e, p, P: OR(cmp(fact(e, "main_product_share", p, 1), ge, P.market_share_min),
                        _rank_within([fact(e, "domestic_rank", p, 1)], P.domestic_rank_max))),
    ("field", "Main product in the six bases or at a key chain link",
     lambda e, p, P: OR(flag(fact(e, "six_base", p, 1)), flag(fact(e, "key_chain", p, 1)))),
    ("dev_eval_score", "Development score at least 60 (new applications)",
     lambda e, p, P: np.where(_not_renewal(e, p), cmp(fact(e, "dev_eval_score", p, 0), ge, P.dev_eval_score_min), T)),
    ("dev_eval_score_renewal", "Re-review: development score at least 60 in Y-1 or Y",
     lambda e, p, P: np.where(_not_renewal(e, p), T, OR(*[cmp(fact(e, "dev_eval_score", p, k), ge, P.dev_eval_score_min) for k in (1, 0)]))),
    ("not_single_champion", "Not already a manufacturing single champion",
     lambda e, p, P: tri(True, ~e("holds_single_champion", p))),
]


def _cagr(a, b, years, t):
    """((b/a)^(1/years) − 1) × 100 ≥ t, exactly: b·100^years ≥ a·(100+t)^years; a ≤ 0 fails."""
    ok = known(a, b)
    return tri(ok, (a > 0) & (b >= 0) & (b * 100**years >= a * int(round((100 + t) ** years))))


def _sum_cmp(xs, op, t):
    return tri(known(*xs), op(sum(xs), t * SCALE))


def _rank_within(ranks, t):
    """Some held rank (0 = none) at most t; never unknown."""
    return tri(True, functools.reduce(np.logical_or, [(r > 0) & (r <= t * SCALE) for r in ranks]))


class lg_outcome(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    default_value = NOT_IN_FORCE
    label = "小巨人 2026: 2 eligible, 0 ineligible, 1 incomplete, 3 not in force"

    def formula_2026_04_01(e, period, parameters):
        return AND(*[e(f"lg_{name}", period) for name, _, _ in LG])


class lg_route(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "小巨人 2026 route: 1 standard when eligible, else 0"

    def formula(e, period, parameters):
        return np.where(e("lg_outcome", period) == T, 1, 0)


# ---- 科技型中小企业 (国科发政〔2017〕115号; criteria.md §7) ----

TS = [
    ("employees", "Employees at most 500",
     lambda e, p, P: cmp(fact(e, "employees", p, 1), le, P.employees_max)),
    ("sales", "Annual sales at most 2亿",
     lambda e, p, P: cmp(rev(e, p, 1), le, P.sales_max)),
    ("assets", "Total assets at most 2亿",
     lambda e, p, P: cmp(fact(e, "total_assets", p, 1), le, P.assets_max)),
    ("no_incident", "No major incident in the prior or current year",
     lambda e, p, P: AND(*[flag_is(fact(e, "major_incident", p, k), False) for k in (1, 0)])),
    ("not_listed", "Not on the abnormal-operations or dishonesty lists",
     lambda e, p, P: AND(flag_is(fact(e, "abnormal_listed", p, 0), False), flag_is(fact(e, "dishonest_listed", p, 0), False))),
    ("direct_high_tech", "Valid high-tech enterprise certificate",
     lambda e, p, P: flag(fact(e, "high_tech_enterprise", p, 1))),
    ("direct_award", "Top-3 national S&T award in the last 5 years",
     lambda e, p, P: _rank_within([fact(e, "st_award_national_rank", p, k) for k in (5, 4, 3, 2, 1)], P.award_rank_max)),
    ("direct_rd_institution", "Provincial/ministerial R&D institution or above",
     lambda e, p, P: cmp(fact(e, "rd_institution_level", p, 1), ge, P.rd_institution_level_min)),
    ("direct_standard", "Led a standard in the last 5 years",
     lambda e, p, P: OR(*[flag(fact(e, "standard_led", p, k)) for k in (5, 4, 3, 2, 1)])),
]
TS_BASE = ["employees", "sales", "assets", "no_incident", "not_listed"]
TS_DIRECT = ["direct_high_tech", "direct_award", "direct_rd_institution", "direct_standard"]


def _ts_points(e, period, P):
    """(lo, hi) of each dimension, capped: 科技人员, 研发投入 (best of two bases), 知识产权."""
    f = lambda code: fact(e, code, period, 1)
    st = band_points(P.st_staff_points, f("st_staff"), f("employees"))
    sales = band_points(P.rd_sales_points, f("rd_expense"), f("operating_revenue"))
    cost = band_points(P.rd_cost_points, f("rd_expense"), f("cost_and_expense"))
    rd = (np.maximum(sales[0], cost[0]), np.maximum(sales[1], cost[1]))
    ip1, ip2 = f("ip_class1"), f("ip_class2")
    scale = P.ip_class2_points
    cases = [(cmp(ip1, ge, P.ip_class1_min), int(P.ip_class1_points))]
    for th, am in sorted(zip(scale.thresholds, scale.amounts), reverse=True):
        if am > 0:
            cases.append((cmp(ip2, ge, th), int(am)))
    ip = first_match(cases, int(min(scale.amounts)), len(ip1))
    cap = lambda lh, m: (np.minimum(lh[0], m), np.minimum(lh[1], m))
    return cap(st, P.st_staff_max_points), cap(rd, P.rd_max_points), cap(ip, P.ip_max_points)


class ts_score(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "科技型中小企业 score (points earned; a lower bound when facts are missing)"

    def formula_2017_05_03(e, period, parameters):
        dims = _ts_points(e, period, parameters(period.start).tech_sme)
        return sum(d[0] for d in dims)


class ts_score_max(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "科技型中小企业 score if the missing facts arrived at their best"

    def formula_2017_05_03(e, period, parameters):
        dims = _ts_points(e, period, parameters(period.start).tech_sme)
        return sum(d[1] for d in dims)


class ts_st_staff_points_min(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "科技人员 subtotal not 0 (three-valued)"

    def formula_2017_05_03(e, period, parameters):
        P = parameters(period.start).tech_sme
        lo, hi = _ts_points(e, period, P)[0]
        return at_least(lo, hi, P.st_staff_min_points)


class ts_pass_mark(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Score at least 60 (three-valued)"

    def formula_2017_05_03(e, period, parameters):
        P = parameters(period.start).tech_sme
        return at_least(e("ts_score", period), e("ts_score_max", period), P.pass_mark)


class ts_standard_route(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "Basic conditions and the score"

    def formula_2017_05_03(e, period, parameters):
        return AND(*[e(f"ts_{c}", period) for c in TS_BASE],
                   e("ts_st_staff_points_min", period), e("ts_pass_mark", period))


class ts_outcome(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    default_value = NOT_IN_FORCE
    label = "科技型中小企业: 2 eligible, 0 ineligible, 1 incomplete, 3 not in force"

    def formula_2017_05_03(e, period, parameters):
        base = AND(*[e(f"ts_{c}", period) for c in TS_BASE])
        direct = OR(*[e(f"ts_{c}", period) for c in TS_DIRECT])
        return OR(e("ts_standard_route", period), AND(base, direct))


class ts_route(Variable):
    value_type = int
    entity = Enterprise
    definition_period = DateUnit.DAY
    label = "科技型中小企业 route: 1 standard, 2 direct (when eligible), else 0"

    def formula(e, period, parameters):
        ok = e("ts_outcome", period) == T
        std = e("ts_standard_route", period) == T
        return np.where(ok, np.where(std, 1, 2), 0)


def tax_benefit_system():
    tbs = TaxBenefitSystem([Enterprise])
    for code, kind in FACTS.items():
        tbs.add_variable(_fact_variable(code, kind))
    for v in (holds_srdi_sme, holds_single_champion, renewal):
        tbs.add_variable(v)
    for name, label, fn in LG:
        tbs.add_variable(_criterion(f"lg_{name}", label, fn, "little_giant"))
    for name, label, fn in TS:
        tbs.add_variable(_criterion(f"ts_{name}", label, fn, "tech_sme"))
    for v in (lg_outcome, lg_route, ts_score, ts_score_max, ts_st_staff_points_min, ts_pass_mark,
              ts_standard_route, ts_outcome, ts_route):
        tbs.add_variable(v)
    tbs.load_parameters(os.path.join(os.path.dirname(__file__), "parameters"))
    return tbs
