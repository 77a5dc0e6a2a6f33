//! Reference data and its idempotent seeding: Shenyang's 13 districts, the "10+1" industry
//! clusters, the tiers of API.md and the indicator catalog.

use crate::catalog::INDICATORS;
use crate::db::DbConnection;
use crate::models::reference::{self as rows, Cluster, District, IndicatorRow, Tier};

/// (code, 中文, English, kind) — criteria.md §11.
pub const DISTRICTS: [(&str, &str, &str, &str); 13] = [
    ("210102", "和平区", "Heping District", "district"),
    ("210103", "沈河区", "Shenhe District", "district"),
    ("210104", "大东区", "Dadong District", "district"),
    ("210105", "皇姑区", "Huanggu District", "district"),
    ("210106", "铁西区", "Tiexi District", "district"),
    ("210111", "苏家屯区", "Sujiatun District", "district"),
    ("210112", "浑南区", "Hunnan District", "district"),
    ("210113", "沈北新区", "Shenbei New District", "district"),
    ("210114", "于洪区", "Yuhong District", "district"),
    ("210115", "辽中区", "Liaozhong District", "district"),
    ("210123", "康平县", "Kangping County", "county"),
    ("210124", "法库县", "Faku County", "county"),
    ("210181", "新民市", "Xinmin City", "county_city"),
];

/// The city scope of quotas.
pub const CITY_SCOPE: &str = "210100";

/// (code, 中文, English, confirmed) — criteria.md §12. The list of ten base clusters is not
/// published in full: `ic` and `materials` are the best reading and flagged unconfirmed.
pub const CLUSTERS: [(&str, &str, &str, bool); 11] = [
    (
        "robotics",
        "机器人及智能制造",
        "Robotics and intelligent manufacturing",
        true,
    ),
    ("aviation", "航空", "Aviation", true),
    ("machine_tools", "工业母机", "Machine tools", true),
    ("equipment", "高端装备", "High-end equipment", true),
    ("auto", "汽车及零部件", "Automobiles and parts", true),
    ("food", "食品", "Food", true),
    (
        "it",
        "新一代信息技术",
        "New-generation information technology",
        true,
    ),
    (
        "biomed",
        "生物医药及医疗装备",
        "Biomedicine and medical equipment",
        true,
    ),
    ("ic", "集成电路", "Integrated circuits", false),
    ("materials", "新材料", "New materials", false),
    (
        "ai",
        "人工智能",
        "Artificial intelligence (the \"+1\")",
        true,
    ),
];

/// (code, 中文, English, level, prerequisite, validity years, certifier, number prefix, has rules)
pub type TierSeed = (
    &'static str,
    &'static str,
    &'static str,
    i32,
    Option<&'static str>,
    i32,
    &'static str,
    &'static str,
    bool,
);

pub const TIERS: [TierSeed; 13] = [
    (
        "innovative_sme",
        "创新型中小企业",
        "Innovative SME",
        1,
        None,
        3,
        "province",
        "IS",
        true,
    ),
    (
        "tech_sme",
        "科技型中小企业",
        "Technology-based SME",
        1,
        None,
        1,
        "national_platform",
        "TS",
        true,
    ),
    (
        "tech_innovative_sme",
        "科技和创新型中小企业",
        "Technology and innovative SME",
        1,
        None,
        3,
        "province",
        "TI",
        true,
    ),
    (
        "srdi_sme",
        "专精特新中小企业",
        "Specialised, refined, distinctive and innovative (SRDI) SME",
        2,
        Some("tech_innovative_sme"),
        3,
        "province",
        "SR",
        true,
    ),
    (
        "little_giant",
        "专精特新“小巨人”企业",
        "SRDI \"Little Giant\"",
        3,
        Some("srdi_sme"),
        3,
        "miit",
        "LG",
        true,
    ),
    (
        "single_champion",
        "制造业单项冠军企业",
        "Manufacturing single champion",
        4,
        None,
        3,
        "miit",
        "SC",
        true,
    ),
    (
        "smart_factory_basic",
        "基础级智能工厂",
        "Smart factory, basic",
        1,
        None,
        3,
        "self_assessed",
        "SFB",
        true,
    ),
    (
        "smart_factory_advanced",
        "先进级智能工厂",
        "Smart factory, advanced",
        2,
        Some("smart_factory_basic"),
        3,
        "province",
        "SFA",
        true,
    ),
    (
        "smart_factory_excellent",
        "卓越级智能工厂",
        "Smart factory, excellent",
        3,
        Some("smart_factory_advanced"),
        3,
        "ministries",
        "SFE",
        true,
    ),
    (
        "smart_factory_leading",
        "领航级智能工厂",
        "Smart factory, leading",
        4,
        Some("smart_factory_excellent"),
        3,
        "ministries",
        "SFL",
        true,
    ),
    (
        "innovation_points",
        "创新积分制",
        "Innovation points",
        1,
        None,
        1,
        "city",
        "IP",
        true,
    ),
    (
        "digital_transformation",
        "智改数转",
        "Intelligent and digital transformation",
        1,
        None,
        3,
        "city",
        "DT",
        false,
    ),
    (
        "industrial_design_center",
        "工业设计中心",
        "Industrial design centre",
        1,
        None,
        3,
        "province",
        "IDC",
        false,
    ),
];

/// The places and tiers of the first release (data migration `reference/places/v1`):
/// districts, clusters and tiers, each inserted unless present.
pub fn seed_places(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    for (code, zh, en, kind) in DISTRICTS {
        rows::ensure_district(
            conn,
            &District {
                code: code.into(),
                name_zh: zh.into(),
                name_en: en.into(),
                kind: kind.into(),
            },
        )?;
    }
    for (i, (code, zh, en, confirmed)) in CLUSTERS.iter().enumerate() {
        rows::ensure_cluster(
            conn,
            &Cluster {
                code: (*code).into(),
                name_zh: (*zh).into(),
                name_en: (*en).into(),
                confirmed: *confirmed,
                sort_order: i as i32 + 1,
            },
        )?;
    }
    for (code, zh, en, level, pre, years, certifier, prefix, has_rules) in TIERS {
        rows::ensure_tier(
            conn,
            &Tier {
                code: code.into(),
                name_zh: zh.into(),
                name_en: en.into(),
                level,
                prerequisite: pre.map(Into::into),
                validity_years: years,
                certifier: certifier.into(),
                number_prefix: prefix.into(),
                has_rules,
                publicity_days: crate::services::publicity::DEFAULT_DAYS,
            },
        )?;
    }
    Ok(())
}

/// The indicator catalog as table rows.
fn indicator_rows() -> Vec<IndicatorRow> {
    INDICATORS
        .iter()
        .map(|i| IndicatorRow {
            code: i.code.into(),
            label_zh: i.label_zh.into(),
            label_en: i.label_en.into(),
            unit: i.unit.into(),
            kind: i.kind.as_str().into(),
            min_value: i.min.map(Into::into),
            max_value: i.max.map(Into::into),
        })
        .collect()
}

/// A short digest of the catalog's content: the id of the data migration that copies this
/// version of the catalog into the `indicators` table, so a changed catalog is copied once.
pub fn catalog_fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for r in indicator_rows() {
        for field in [
            r.code.as_str(),
            &r.label_zh,
            &r.label_en,
            &r.unit,
            &r.kind,
            r.min_value.as_deref().unwrap_or("-"),
            r.max_value.as_deref().unwrap_or("-"),
        ] {
            h.update(field.as_bytes());
            h.update([0x1f]);
        }
        h.update([0x1e]);
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Makes the `indicators` table equal to the catalog (rows replaced, codes no longer in the
/// catalog removed). The catalog in code is the one source; the table is its copy for SQL.
pub fn sync_indicators(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    rows::replace_indicators(conn, &indicator_rows())
}
