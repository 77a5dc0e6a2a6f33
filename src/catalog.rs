//! The indicator catalog: every fact code a rule set or a facts upload may name, with its
//! unit, kind and valid range. One list, used by fact validation, rule-set validation,
//! the `/indicators` endpoint and database seeding.

use rust_decimal::Decimal;

/// How a fact's value is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An amount in 万元; exact decimal.
    Amount,
    /// A whole number of people or items.
    Count,
    /// A percentage, 0–100, exact decimal.
    Percent,
    /// A position in a ranking, 1 is best.
    Rank,
    /// An ordinal level within `min..=max`.
    Level,
    /// Years, exact decimal (may be fractional).
    Years,
    /// Points from an outside scoring (0–100).
    Points,
    /// Yes / no.
    Bool,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Amount => "amount",
            Kind::Count => "count",
            Kind::Percent => "percent",
            Kind::Rank => "rank",
            Kind::Level => "level",
            Kind::Years => "years",
            Kind::Points => "points",
            Kind::Bool => "bool",
        }
    }

    /// Whether values of this kind must be whole numbers.
    pub fn integral(self) -> bool {
        matches!(self, Kind::Count | Kind::Rank | Kind::Level)
    }
}

/// One indicator of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Indicator {
    pub code: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
    pub unit: &'static str,
    pub kind: Kind,
    /// Inclusive lower bound, as a decimal literal; `None` = unbounded.
    pub min: Option<&'static str>,
    /// Inclusive upper bound, as a decimal literal; `None` = unbounded.
    pub max: Option<&'static str>,
}

impl Indicator {
    pub fn min_decimal(&self) -> Option<Decimal> {
        self.min.and_then(|s| s.parse().ok())
    }
    pub fn max_decimal(&self) -> Option<Decimal> {
        self.max.and_then(|s| s.parse().ok())
    }
}

const fn ind(
    code: &'static str,
    label_zh: &'static str,
    label_en: &'static str,
    unit: &'static str,
    kind: Kind,
    min: Option<&'static str>,
    max: Option<&'static str>,
) -> Indicator {
    Indicator {
        code,
        label_zh,
        label_en,
        unit,
        kind,
        min,
        max,
    }
}

const ZERO: Option<&str> = Some("0");
const ONE: Option<&str> = Some("1");
const HUNDRED: Option<&str> = Some("100");

/// The canonical catalog of API.md (codes are never renamed; more may be added).
pub static INDICATORS: &[Indicator] = &[
    ind(
        "operating_revenue",
        "营业收入",
        "Operating revenue",
        "万元",
        Kind::Amount,
        ZERO,
        None,
    ),
    ind(
        "main_business_revenue",
        "主营业务收入",
        "Main-business revenue",
        "万元",
        Kind::Amount,
        ZERO,
        None,
    ),
    ind(
        "rd_expense",
        "研发费用",
        "R&D expense",
        "万元",
        Kind::Amount,
        ZERO,
        None,
    ),
    ind(
        "cost_and_expense",
        "成本费用总额",
        "Total cost and expense",
        "万元",
        Kind::Amount,
        ZERO,
        None,
    ),
    ind(
        "net_profit",
        "净利润",
        "Net profit",
        "万元",
        Kind::Amount,
        None,
        None,
    ),
    ind(
        "total_assets",
        "资产总额",
        "Total assets",
        "万元",
        Kind::Amount,
        ZERO,
        None,
    ),
    ind(
        "total_liabilities",
        "负债总额（年末）",
        "Total liabilities (year end)",
        "万元",
        Kind::Amount,
        ZERO,
        None,
    ),
    ind(
        "employees",
        "从业人员",
        "Employees",
        "persons",
        Kind::Count,
        ZERO,
        None,
    ),
    ind(
        "rd_staff",
        "研发人员",
        "R&D staff",
        "persons",
        Kind::Count,
        ZERO,
        None,
    ),
    ind(
        "st_staff",
        "科技人员",
        "S&T staff",
        "persons",
        Kind::Count,
        ZERO,
        None,
    ),
    ind(
        "equity_financing",
        "当年新增股权融资（合格机构投资者实缴）",
        "New equity financing from qualified investors (paid-in)",
        "万元",
        Kind::Amount,
        ZERO,
        None,
    ),
    ind(
        "niche_years",
        "从事特定细分市场年限（年末）",
        "Years in the niche market (year end)",
        "years",
        Kind::Years,
        ZERO,
        Some("200"),
    ),
    ind(
        "main_product_share",
        "主导产品细分市场占有率",
        "Main product's niche market share",
        "%",
        Kind::Percent,
        ZERO,
        HUNDRED,
    ),
    ind(
        "domestic_rank",
        "细分市场国内排名",
        "Domestic niche-market rank",
        "rank",
        Kind::Rank,
        ONE,
        None,
    ),
    ind(
        "global_rank",
        "细分市场全球排名",
        "Global niche-market rank",
        "rank",
        Kind::Rank,
        ONE,
        None,
    ),
    ind(
        "ip_class1",
        "Ⅰ类知识产权（与主导产品相关，有效）",
        "Class I IP (main product, valid)",
        "count",
        Kind::Count,
        ZERO,
        None,
    ),
    ind(
        "ip_class1_self",
        "其中自主研发Ⅰ类知识产权",
        "of which self-developed Class I IP",
        "count",
        Kind::Count,
        ZERO,
        None,
    ),
    ind(
        "ip_class1_high_value",
        "其中高价值Ⅰ类知识产权",
        "of which high-value Class I IP",
        "count",
        Kind::Count,
        ZERO,
        None,
    ),
    ind(
        "ip_class2",
        "Ⅱ类知识产权",
        "Class II IP",
        "count",
        Kind::Count,
        ZERO,
        None,
    ),
    ind(
        "rd_institution_level",
        "研发机构级别",
        "R&D institution level (0 none … 4 national)",
        "level",
        Kind::Level,
        ZERO,
        Some("4"),
    ),
    ind(
        "digital_level",
        "中小企业数字化水平评测等级",
        "SME digitalisation level",
        "level",
        Kind::Level,
        ONE,
        Some("4"),
    ),
    ind(
        "quality_items",
        "质量奖/管理体系认证/自主品牌/参与标准制定（项）",
        "Quality items met",
        "count",
        Kind::Count,
        ZERO,
        Some("4"),
    ),
    ind(
        "dev_eval_score",
        "专精特新发展评价得分",
        "SRDI development evaluation score",
        "points",
        Kind::Points,
        ZERO,
        HUNDRED,
    ),
    ind(
        "cmmm_level",
        "智能制造能力成熟度等级",
        "Smart-manufacturing maturity level (GB/T 39116)",
        "level",
        Kind::Level,
        ONE,
        Some("5"),
    ),
    ind(
        "st_award_national_rank",
        "当年获国家级科技奖励的单位排名",
        "Rank among units of a national S&T award this year",
        "rank",
        Kind::Rank,
        ONE,
        None,
    ),
    ind(
        "st_award_provincial_rank",
        "当年获省级科技奖励的单位排名",
        "Rank among units of a provincial S&T award this year",
        "rank",
        Kind::Rank,
        ONE,
        None,
    ),
    ind(
        "makers_china_rank",
        "当年“创客中国”全国排名",
        "Makers China national rank this year",
        "rank",
        Kind::Rank,
        ONE,
        None,
    ),
    ind(
        "strategic_emerging",
        "主导产品属战略性新兴产业",
        "Main product in a strategic emerging industry",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "six_base",
        "主导产品属工业“六基”",
        "Main product in the industrial six bases",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "key_chain",
        "属重点产业链关键环节",
        "At a key link of a key industrial chain",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "high_tech_enterprise",
        "有效高新技术企业",
        "Valid high-tech enterprise",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "standard_led",
        "当年主导制定国际/国家/行业标准",
        "Led an international/national/industry standard this year",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "above_designated_size",
        "规模以上工业企业",
        "Industrial enterprise above designated size",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "abnormal_listed",
        "列入经营异常名录",
        "On the abnormal-operations list",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "dishonest_listed",
        "列入严重失信名单",
        "On the serious-dishonesty list",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
    ind(
        "major_incident",
        "当年发生重大安全/质量/环境事故",
        "Major safety/quality/environmental incident this year",
        "bool",
        Kind::Bool,
        None,
        None,
    ),
];

/// Looks an indicator up by its code.
pub fn indicator(code: &str) -> Option<&'static Indicator> {
    INDICATORS.iter().find(|i| i.code == code)
}
