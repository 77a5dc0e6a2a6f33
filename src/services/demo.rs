//! `ladder seed --demo`: the synthetic Shenyang data set of fixtures/demo, embedded in the
//! binary so it loads from anywhere, plus a believable history: titles from earlier batches
//! (chosen among enterprises the engine grades eligible), a few revoked or expired, 2026
//! decisions made through the workflow, and applications still in the pipeline. Loading
//! twice changes nothing.

use crate::db::DbConnection;
use crate::domain::Role;
use crate::error::{AppError, AppResult};

const ENTERPRISES: &str = include_str!("../../fixtures/demo/enterprises.csv");
const FACTS: &str = include_str!("../../fixtures/demo/facts.csv");
const USERS: &str = include_str!("../../fixtures/demo/users.csv");

pub fn seed(conn: &mut DbConnection) -> AppResult<String> {
    let first_uscc = ENTERPRISES
        .lines()
        .nth(1)
        .and_then(|l| l.split(',').next())
        .unwrap_or("");
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
        let role = Role::parse(role)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("bad role in demo users")))?;
        let enterprise_id = if uscc.is_empty() {
            None
        } else {
            crate::models::enterprise::by_uscc(conn, uscc)?.map(|e| e.id)
        };
        if crate::models::user::by_username(conn, name)?.is_some() {
            continue;
        }
        let hash = crate::auth::password::hash_blocking(password)?;
        crate::services::users::create_user(
            conn,
            &Caller::system(actor),
            name,
            &hash,
            role,
            enterprise_id,
        )?;
        users += 1;
    }
    let history = history(conn)?;
    Ok(format!(
        "demo data loaded: {e} enterprises, {f} fact-years, {users} users (passwords in fixtures/demo/users.csv); {history}"
    ))
}

use crate::engine::{FactSheet, Input};
use crate::services::auth::{Caller, CallerKind};
use crate::services::import::CertificationItem;
use chrono::NaiveDate;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// A small deterministic generator (no external state), so every demo database is the same.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Enterprises the tier's rule set in force on `as_of` grades eligible (given `holds`).
fn eligible(
    conn: &mut DbConnection,
    tier: &str,
    as_of: NaiveDate,
    tables: &[(i32, String, FactSheet)],
    holds: &dyn Fn(i32) -> Vec<String>,
) -> AppResult<Vec<(i32, String)>> {
    let row = crate::services::evaluations::in_force(conn, tier, as_of)?;
    let rs = crate::services::rulesets::compile_text(&row.document)?;
    let mut out = Vec::new();
    for (id, uscc, facts) in tables {
        let held = holds(*id);
        let ev = crate::engine::evaluate(
            &rs,
            &Input {
                as_of,
                facts: facts.view(),
                holds: &held,
                renewal: false,
                pool: None,
            },
            false,
        );
        if ev.outcome == crate::engine::Outcome::Eligible {
            out.push((*id, uscc.clone()));
        }
    }
    Ok(out)
}

fn title(
    uscc: &str,
    tier: &str,
    prefix: &str,
    n: usize,
    issued: NaiveDate,
    years: i32,
    batch: &str,
) -> CertificationItem {
    let valid_to = crate::services::certifications::valid_to(issued, years).unwrap_or(issued);
    CertificationItem {
        uscc: uscc.to_string(),
        name: None,
        district_code: None,
        cluster: None,
        tier: tier.to_string(),
        number: format!("SY-{prefix}-{}-D{n:03}", issued.format("%Y")),
        issued_on: issued,
        valid_from: issued,
        valid_to,
        batch: Some(batch.to_string()),
    }
}

/// Earlier batches (imported as published lists), revocations, and 2026 workflow activity.
fn history(conn: &mut DbConnection) -> AppResult<String> {
    let mut rng = Lcg(20251127);
    let enterprises: Vec<(i32, String)> = crate::models::enterprise::ids_by_uscc(conn)?
        .into_iter()
        .map(|(u, id)| (id, u))
        .collect();
    // The current compliance status (2026 row), needed by 2026 assessments; a few are listed.
    let mut status = String::from("uscc,year,abnormal_listed,dishonest_listed,major_incident\n");
    for (i, (_, uscc)) in enterprises.iter().enumerate() {
        let listed = i % 53 == 7;
        status.push_str(&format!("{uscc},2026,{listed},false,false\n"));
    }
    crate::services::import::facts(conn, "seed:demo", &status, false)?;
    let mut tables = Vec::new();
    for (id, uscc) in &enterprises {
        let (facts, _) = crate::services::evaluations::facts_of(conn, *id)?;
        tables.push((*id, uscc.clone(), facts));
    }
    let none = |_: i32| Vec::<String>::new();
    let mut items: Vec<CertificationItem> = Vec::new();
    let mut n = 0;
    let mut push = |items: &mut Vec<CertificationItem>,
                    uscc: &str,
                    tier: &str,
                    prefix: &str,
                    issued: NaiveDate,
                    years: i32,
                    batch: &str| {
        n += 1;
        items.push(title(uscc, tier, prefix, n, issued, years, batch));
    };
    // 科技型中小企业: 2025 registrations (1 year; expired now), 2026 re-registrations for most.
    let tech = eligible(conn, "tech_sme", day(2025, 4, 1), &tables, &none)?;
    for (i, (_, u)) in tech.iter().enumerate() {
        push(
            &mut items,
            u,
            "tech_sme",
            "TS",
            day(2025, 3 + (i % 4) as u32, 1 + (i % 27) as u32),
            1,
            "2025年科技型中小企业入库",
        );
        if i % 6 != 0 {
            push(
                &mut items,
                u,
                "tech_sme",
                "TS",
                day(2026, 3 + (i % 4) as u32, 2 + (i % 26) as u32),
                1,
                "2026年科技型中小企业入库",
            );
        }
    }
    // 专精特新中小企业: 2023 and 2024 batches, then 2025 (graded by the 2022 rules of the time).
    let srdi = eligible(conn, "srdi_sme", day(2025, 5, 1), &tables, &none)?;
    let mut srdi_holders: Vec<(i32, String, NaiveDate)> = Vec::new();
    for (i, (id, u)) in srdi.iter().enumerate() {
        let issued = match i % 5 {
            0 => day(2023, 7, 14),
            1 => day(2024, 1, 15),
            2 => day(2024, 7, 20),
            _ => day(2025, 6 + (i % 2) as u32 * 5, 18),
        };
        let batch = format!(
            "{}年辽宁省专精特新中小企业第{}批",
            issued.format("%Y"),
            if chrono::Datelike::month(&issued) < 7 {
                "一"
            } else {
                "二"
            }
        );
        push(&mut items, u, "srdi_sme", "SR", issued, 3, &batch);
        srdi_holders.push((*id, u.clone(), issued));
    }
    // 小巨人 2025 (第七批): SRDI holders the 2022 rules find eligible.
    let held_srdi: std::collections::HashMap<i32, NaiveDate> =
        srdi_holders.iter().map(|(id, _, d)| (*id, *d)).collect();
    let holds_srdi = |id: i32| {
        if held_srdi.get(&id).is_some_and(|d| *d <= day(2025, 6, 1)) {
            vec!["srdi_sme".to_string()]
        } else {
            vec![]
        }
    };
    let giants = eligible(conn, "little_giant", day(2025, 6, 1), &tables, &holds_srdi)?;
    for (i, (_, u)) in giants.iter().take(8).enumerate() {
        push(
            &mut items,
            u,
            "little_giant",
            "LG",
            day(2025, 8 + (i % 2) as u32, 8),
            3,
            "第七批专精特新“小巨人”企业",
        );
    }
    // 单项冠军 2025, smart factories, 智改数转, 工业设计中心.
    let champions = eligible(conn, "single_champion", day(2025, 9, 1), &tables, &none)?;
    for (_, u) in champions.iter().take(3) {
        push(
            &mut items,
            u,
            "single_champion",
            "SC",
            day(2025, 11, 20),
            3,
            "第九批制造业单项冠军",
        );
    }
    let basic = eligible(conn, "smart_factory_basic", day(2025, 3, 1), &tables, &none)?;
    for (i, (_, u)) in basic.iter().enumerate() {
        let issued = if i % 3 == 0 {
            day(2024, 12, 10)
        } else {
            day(2025, 4 + (i % 6) as u32, 10)
        };
        push(
            &mut items,
            u,
            "smart_factory_basic",
            "SFB",
            issued,
            3,
            "基础级智能工厂",
        );
        if i % 8 == 1 {
            push(
                &mut items,
                u,
                "smart_factory_advanced",
                "SFA",
                day(2025, 10 + (i % 2) as u32, 15),
                3,
                "2025年辽宁省先进级智能工厂",
            );
        } else if i % 9 == 2 {
            push(
                &mut items,
                u,
                "smart_factory_advanced",
                "SFA",
                day(2026, 5 + (i % 5) as u32, 12),
                3,
                "2026年辽宁省先进级智能工厂",
            );
        }
    }
    if let Some((_, u)) = basic.get(1) {
        push(
            &mut items,
            u,
            "smart_factory_excellent",
            "SFE",
            day(2026, 2, 28),
            3,
            "2025年度卓越级智能工厂",
        );
    }
    for (i, (_, u)) in enterprises.iter().enumerate() {
        if rng.below(3) == 0 {
            push(
                &mut items,
                u,
                "digital_transformation",
                "DT",
                day(2025 + (i % 2) as i32, 1 + (i % 10) as u32, 5),
                3,
                "沈阳市智改数转项目",
            );
        }
        if rng.below(25) == 0 {
            push(
                &mut items,
                u,
                "industrial_design_center",
                "IDC",
                day(2024 + (i % 3) as i32, 9, 26),
                3,
                "工业设计中心",
            );
        }
    }
    let numbered: Vec<(u64, CertificationItem)> = items
        .into_iter()
        .enumerate()
        .map(|(i, it)| (i as u64, it))
        .collect();
    let imported = crate::services::import::certifications(
        conn,
        &Caller::system("seed:demo"),
        &numbered,
        false,
    )?;

    // Revocations with their dates: one 小巨人 (data fraud) and two SRDI titles.
    let mut revoked = 0;
    let revoke_list: Vec<(String, &str, NaiveDate, &str)> = giants
        .iter()
        .take(1)
        .map(|(_, u)| {
            (
                u.clone(),
                "little_giant",
                day(2026, 3, 18),
                "抽查发现数据造假 data fraud found in a spot check",
            )
        })
        .chain(srdi.iter().skip(3).step_by(17).take(2).map(|(_, u)| {
            (
                u.clone(),
                "srdi_sme",
                day(2025, 12, 5),
                "未按期更新信息 information not updated by 31 May",
            )
        }))
        .collect();
    for (uscc, tier, on, reason) in revoke_list {
        let Some(e) = crate::models::enterprise::by_uscc(conn, &uscc)? else {
            continue;
        };
        if let Some(c) = crate::models::certification::current(conn, e.id, tier)? {
            crate::db::write_tx(conn, |conn| -> AppResult<()> {
                crate::models::certification::revoke(conn, c.id, on, reason)?;
                crate::services::audit::record(
                    conn,
                    "seed:demo",
                    "certification.revoke",
                    "certification",
                    c.id,
                    Some(&c),
                    Some(&serde_json::json!({"revoked_on": on, "reason": reason})),
                )?;
                Ok(())
            })?;
            revoked += 1;
        }
    }

    // 2026 through the workflow: the demo enterprise accounts apply; reviewer1 decides some.
    let admin = crate::models::user::by_username(conn, "admin")?;
    let reviewer = crate::models::user::by_username(conn, "reviewer1")?;
    let (Some(admin), Some(reviewer)) = (admin, reviewer) else {
        return Ok(format!("{imported} titles imported, {revoked} revoked"));
    };
    let caller = |u: &crate::models::user::User, role: Role| Caller {
        kind: CallerKind::User,
        id: u.id,
        name: u.username.clone(),
        role,
        enterprise_id: u.enterprise_id,
    };
    let admin_c = caller(&admin, Role::Admin);
    let reviewer_c = caller(&reviewer, Role::Reviewer);
    let cache = crate::services::rulesets::RuleCache::default();
    let mut pipeline = 0;
    let mut decided = 0;
    let (mut evidence, mut overrides, mut objections) = (0, 0, 0);
    for i in 1..=8 {
        let Some(u) = crate::models::user::by_username(conn, &format!("enterprise{i:02}"))? else {
            continue;
        };
        let Some(eid) = u.enterprise_id else { continue };
        let owner = caller(&u, Role::Enterprise);
        let holds = crate::models::ruleset::holds(conn, eid, crate::clock::today())?;
        let tier = if holds.iter().any(|t| t == "srdi_sme") {
            "little_giant"
        } else {
            "srdi_sme"
        };
        let input = crate::services::applications::NewInput {
            enterprise_id: eid,
            tier: tier.into(),
            year: 2026,
            renewal: false,
        };
        let Ok(app) = crate::services::applications::create(conn, &owner, &input) else {
            continue;
        };
        // Evidence: an audit report (PDF) and a business licence (PNG), as the company files them.
        demo_evidence(
            conn,
            &owner,
            app.id,
            "audit_report",
            "2025年度审计报告.pdf",
            &demo_pdf(i),
        )?;
        demo_evidence(
            conn,
            &owner,
            app.id,
            "license",
            "营业执照.png",
            &demo_png(i),
        )?;
        evidence += 2;
        if i == 8 {
            continue; // a draft, not yet submitted
        }
        crate::services::applications::submit(conn, &cache, &owner, app.id)?;
        if i % 3 == 0 {
            pipeline += 1;
            continue; // submitted, waiting for an assignment
        }
        crate::services::applications::assign(conn, &admin_c, app.id, reviewer.id)?;
        if i <= 5 || i == 7 {
            let a = crate::models::application::find(conn, app.id)?.ok_or(AppError::NotFound)?;
            let review: std::collections::BTreeMap<String, bool> =
                crate::services::applications::review_criteria(&a)
                    .into_iter()
                    .map(|c| (c, true))
                    .collect();
            let needs_override =
                i != 4 && !crate::services::applications::prescreen_failures(&a).is_empty();
            let decision = crate::services::applications::DecisionInput {
                decision: if i == 4 {
                    crate::services::applications::Decision::Return
                } else {
                    crate::services::applications::Decision::Approve
                },
                comment: if i == 4 {
                    "请补充2025年度审计报告 please add the 2025 audit report".into()
                } else {
                    "材料齐全，符合认定条件 complete and eligible".into()
                },
                review: Some(review),
                override_reason: needs_override.then(|| {
                    "专家评审认定核心技术达到要求 experts judged the core technology sufficient"
                        .into()
                }),
            };
            let after = crate::services::applications::decide(
                conn,
                &cache,
                &reviewer_c,
                app.id,
                &decision,
            )?;
            decided += 1;
            overrides += usize::from(after.override_reason.is_some());
            // Under publicity (公示): the first gets an objection that is dismissed (its period
            // runs on), the second one that is upheld (it is rejected), the rest none.
            if after.state == crate::models::application::PUBLICIZED && objections < 2 {
                let upheld = objections == 1;
                let objection = crate::services::publicity::object(
                    conn,
                    app.id,
                    &crate::services::publicity::ObjectionInput {
                        name: "匿名群众 anonymous".into(),
                        contact: "12345 市民热线 city hotline".into(),
                        text: if upheld {
                            "该企业主导产品由外协加工，不属于自主研发。 The main product is made by a subcontractor, not developed in house.".into()
                        } else {
                            "企业名称与营业执照不一致。 The name differs from the business licence."
                                .into()
                        },
                    },
                    "demo",
                )?;
                crate::services::publicity::resolve(
                    conn,
                    &admin_c,
                    objection.id,
                    upheld,
                    if upheld {
                        "经核查异议属实，不予认定 upheld after inspection"
                    } else {
                        "名称已于2025年变更，营业执照已更新 the name changed in 2025; dismissed"
                    },
                )?;
                objections += 1;
            }
        } else {
            pipeline += 1; // under review
        }
    }
    Ok(format!(
        "{imported} titles imported from earlier batches, {revoked} revoked, {decided} decisions made in 2026 ({overrides} with an override), {pipeline} applications in the pipeline, {evidence} evidence files, {objections} objections resolved"
    ))
}

/// A small PDF standing for a scanned document.
fn demo_pdf(i: i32) -> Vec<u8> {
    format!("%PDF-1.4\n% ladder demo evidence {i}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").into_bytes()
}

/// A PNG header standing for a photographed licence.
fn demo_png(i: i32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0".to_vec();
    v.extend_from_slice(format!("demo licence {i}").as_bytes());
    v
}

/// Files one piece of evidence through the same path as an upload.
fn demo_evidence(
    conn: &mut DbConnection,
    owner: &Caller,
    application_id: i32,
    kind: &str,
    filename: &str,
    bytes: &[u8],
) -> AppResult<()> {
    use crate::services::evidence::{self, Spool, Upload};
    let limit = evidence::allowance(conn, owner, application_id)?;
    let mut spool = Spool::new(limit)?;
    spool.push(bytes)?;
    evidence::store(
        conn,
        owner,
        application_id,
        Upload {
            kind: Some(kind.into()),
            filename: Some(filename.into()),
            file: Some(spool.finish()?),
        },
    )?;
    Ok(())
}
