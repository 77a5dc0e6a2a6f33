//! The shared workload: seeded synthetic enterprises plus ladder's boundary cases, one JSON
//! object per line:
//! `{"id", "as_of": "YYYY-MM-DD", "holds": [tier…], "renewal": bool, "facts": {"2025": {code: value}}}`
//! (facts in ladder's upload format: fiscal years, exact decimals, booleans; an absent fact is
//! missing, an absent `*_rank` is "no rank").

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde_json::{Map, Value, json};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};

/// Synthetic enterprises in the correctness set (the first lines of data/batch.jsonl).
pub const CORRECTNESS_SYNTHETIC: usize = 10_000;
/// Every synthetic enterprise is assessed on this date (Y = 2026), so a vectorised engine runs
/// them as one period; the boundary cases bring their own dates.
pub const AS_OF: &str = "2026-06-01";
const Y: i32 = 2026;

/// The boundary cases that concern the two benchmarked rule sets.
pub fn boundary_cases() -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (dir, ruleset) in [("little_giant", "little_giant-2026"), ("tech_sme", "tech_sme-2017")] {
        let path = format!("../../fixtures/cases/{dir}");
        let mut names: Vec<_> = fs::read_dir(&path)
            .with_context(|| path.clone())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        for p in names {
            let case: Value = serde_json::from_str(&fs::read_to_string(&p)?)?;
            if case["ruleset"] != ruleset {
                continue;
            }
            let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
            out.push(json!({
                "id": format!("case:{dir}/{stem}"),
                "as_of": case["as_of"],
                "holds": case.get("holds").cloned().unwrap_or(json!([])),
                "renewal": case.get("renewal").cloned().unwrap_or(json!(false)),
                "facts": case["facts"],
            }));
        }
    }
    Ok(out)
}

fn num(d: Decimal) -> Value {
    let s = d.normalize().to_string();
    Value::Number(s.parse().unwrap_or_else(|_| serde_json::Number::from(0)))
}

fn dec(x: f64, dp: u32) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default().round_dp(dp)
}

/// One synthetic enterprise. Values cluster around the thresholds, a share of them land exactly
/// on a boundary, some facts are missing and a few denominators are zero.
fn enterprise(rng: &mut ChaCha8Rng, i: usize) -> Value {
    let mut years: Vec<Map<String, Value>> = vec![Map::new(); 6]; // index k = year Y-k
    let mut put = |k: usize, code: &str, v: Value| {
        years[k].insert(code.to_owned(), v);
    };
    let snap = |rng: &mut ChaCha8Rng| rng.gen_bool(0.12);
    // Half are 小巨人 candidates: their values sit near (mostly above) the thresholds.
    let cand = rng.gen_bool(0.5);
    let lo_rev: f64 = if cand { 4500.0 } else { 800.0 };

    // Revenue Y-3 … Y-1, in 万元 (log-uniform 800 … 60000).
    let mut rev1 = dec((lo_rev.ln() + rng.r#gen::<f64>() * (60000f64 / lo_rev).ln()).exp(), 1);
    let (rev2, rev3);
    if snap(rng) {
        // CAGR exactly 5%: k·400 → k·441 (and k·420 between).
        let k = (rev1 / Decimal::from(441)).round().max(Decimal::ONE);
        rev1 = k * Decimal::from(441);
        rev2 = k * Decimal::from(420);
        rev3 = k * Decimal::from(400);
    } else {
        let g = if cand { 0.02..0.16 } else { -0.06..0.16 };
        let g2 = rng.gen_range(g.clone());
        let g1 = rng.gen_range(g);
        rev2 = dec(f64::try_from(rev1).unwrap_or(1.0) / (1.0 + g1), 1);
        rev3 = dec(f64::try_from(rev2).unwrap_or(1.0) / (1.0 + g2), 1);
    }
    let f = |d: Decimal| f64::try_from(d).unwrap_or(0.0);
    put(3, "operating_revenue", num(rev3));
    put(2, "operating_revenue", num(rev2));
    put(1, "operating_revenue", num(rev1));
    let mbr = if snap(rng) {
        rev1 * Decimal::new(9, 1)
    } else {
        dec(f(rev1) * rng.gen_range(if cand { 0.88 } else { 0.7 }..1.0), 1)
    };
    put(1, "main_business_revenue", num(mbr));
    let mut assets = dec(f(rev1) * rng.gen_range(0.4..1.6), 1);
    let liab = if snap(rng) {
        assets = assets.round();
        assets * Decimal::new(75, 2)
    } else {
        dec(f(assets) * rng.gen_range(0.3..if cand { 0.78 } else { 0.9 }), 1)
    };
    put(1, "total_assets", num(assets));
    put(1, "total_liabilities", num(liab));
    // R&D, Y-2 and Y-1.
    let rd1 = if snap(rng) {
        rev1.round() * Decimal::new(3, 2)
    } else {
        dec(f(rev1) * rng.gen_range(if cand { 0.028 } else { 0.01 }..0.08), 1)
    };
    let rd2 = if snap(rng) && rd1 < Decimal::from(1200) {
        Decimal::from(1200) - rd1
    } else {
        dec(f(rev2) * rng.gen_range(if cand { 0.028 } else { 0.015 }..0.07), 1)
    };
    put(1, "rd_expense", num(rd1));
    put(2, "rd_expense", num(rd2));
    let cost = if rng.gen_bool(0.003) {
        Decimal::ZERO
    } else {
        dec(f(rev1) * rng.gen_range(0.2..1.1), 1)
    };
    put(1, "cost_and_expense", num(cost));
    let niche = if snap(rng) { 3 } else { rng.gen_range(if cand { 2 } else { 0 }..12) };
    put(1, "niche_years", json!(niche));
    put(1, "ip_class1", json!(if cand { rng.gen_range(3..10) } else if rng.gen_bool(0.3) { 0 } else { rng.gen_range(0..9) }));
    put(1, "ip_class2", json!(rng.gen_range(0..6)));
    let share = if snap(rng) { Decimal::from(10) } else { dec(rng.gen_range(if cand { 8.0 } else { 0.0 }..30.0), 1) };
    put(1, "main_product_share", num(share));
    if rng.gen_bool(0.3) {
        put(1, "domestic_rank", json!(rng.gen_range(1..20)));
    }
    let p_field = if cand { 0.6 } else { 0.35 };
    put(1, "six_base", json!(rng.gen_bool(p_field)));
    put(1, "key_chain", json!(rng.gen_bool(p_field)));
    for k in [1, 0] {
        let s = if snap(rng) { Decimal::from(60) } else { dec(rng.gen_range(if cand { 55.0 } else { 35.0 }..95.0), 1) };
        put(k, "dev_eval_score", num(s));
    }
    // 科技型 scale and staff.
    let (emp, st) = if rng.gen_bool(0.003) {
        (0, 0)
    } else if snap(rng) {
        let e = rng.gen_range(1..60) * 10;
        (e, e / 10)
    } else {
        let e: i64 = rng.gen_range(5..700);
        (e, (e as f64 * rng.gen_range(0.02..0.45)) as i64)
    };
    put(1, "employees", json!(emp));
    put(1, "st_staff", json!(st));
    put(1, "major_incident", json!(rng.gen_bool(0.02)));
    put(0, "major_incident", json!(rng.gen_bool(0.02)));
    put(0, "abnormal_listed", json!(rng.gen_bool(0.02)));
    put(0, "dishonest_listed", json!(rng.gen_bool(0.02)));
    put(1, "high_tech_enterprise", json!(rng.gen_bool(0.2)));
    put(1, "rd_institution_level", json!(rng.gen_range(0..5)));
    for k in 1..=5 {
        put(k, "standard_led", json!(rng.gen_bool(0.03)));
    }
    if rng.gen_bool(0.04) {
        put(rng.gen_range(1..=5), "st_award_national_rank", json!(rng.gen_range(1..7)));
    }
    // A missing fact in 6% of enterprises.
    if rng.gen_bool(0.06) {
        let filled: Vec<(usize, String)> = years
            .iter()
            .enumerate()
            .flat_map(|(k, m)| m.keys().map(move |c| (k, c.clone())))
            .filter(|(_, c)| !c.ends_with("_rank"))
            .collect();
        let (k, c) = &filled[rng.gen_range(0..filled.len())];
        years[*k].remove(c);
    }
    let mut holds = Vec::new();
    if rng.gen_bool(if cand { 0.95 } else { 0.6 }) {
        holds.push("srdi_sme");
    }
    if rng.gen_bool(0.03) {
        holds.push("single_champion");
    }
    let mut facts = Map::new();
    for k in (0..6).rev() {
        if !years[k].is_empty() {
            facts.insert((Y - k as i32).to_string(), Value::Object(years[k].clone()));
        }
    }
    json!({
        "id": format!("s{i:07}"),
        "as_of": AS_OF,
        "holds": holds,
        "renewal": rng.gen_bool(0.15),
        "facts": facts,
    })
}

pub fn generate(n: usize, seed: u64) -> Result<()> {
    fs::create_dir_all("data")?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut batch = BufWriter::new(File::create("data/batch.jsonl")?);
    let mut corr = BufWriter::new(File::create("data/correctness.jsonl")?);
    for i in 0..n.max(CORRECTNESS_SYNTHETIC) {
        let line = serde_json::to_string(&enterprise(&mut rng, i))?;
        if i < n {
            writeln!(batch, "{line}")?;
        }
        if i < CORRECTNESS_SYNTHETIC {
            writeln!(corr, "{line}")?;
        }
    }
    let cases = boundary_cases()?;
    for c in &cases {
        writeln!(corr, "{}", serde_json::to_string(c)?)?;
    }
    batch.flush()?;
    corr.flush()?;
    eprintln!(
        "wrote data/batch.jsonl ({n} enterprises, seed {seed}) and data/correctness.jsonl ({} + {} boundary cases)",
        CORRECTNESS_SYNTHETIC,
        cases.len()
    );
    Ok(())
}

/// Calls `f` on each record of a JSONL file (up to `limit`), without holding the text.
pub fn each_record(path: &str, limit: usize, mut f: impl FnMut(Value) -> Result<()>) -> Result<usize> {
    let file = File::open(path).with_context(|| format!("{path} (run `peers gen` first)"))?;
    let mut n = 0;
    for line in BufReader::with_capacity(1 << 20, file).lines() {
        if n >= limit {
            break;
        }
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        f(serde_json::from_str(&line)?)?;
        n += 1;
    }
    Ok(n)
}

/// The relative-year view given to the peers: `y0` = facts of year Y, `y1` = Y-1, … `y5`.
pub fn relative_facts(rec: &Value) -> Map<String, Value> {
    let y: i32 = rec["as_of"].as_str().and_then(|s| s.get(..4)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut out = Map::new();
    if let Some(years) = rec["facts"].as_object() {
        for (yk, row) in years {
            if let Ok(fy) = yk.parse::<i32>() {
                let k = y - fy;
                if (0..=5).contains(&k) {
                    // Numbers may come as strings (exact decimals in ladder's upload format):
                    // the peers get them as numbers.
                    let mut row = row.clone();
                    if let Some(m) = row.as_object_mut() {
                        for v in m.values_mut() {
                            if let Value::String(s) = v {
                                if let Ok(n) = s.parse::<serde_json::Number>() {
                                    *v = Value::Number(n);
                                }
                            }
                        }
                    }
                    out.insert(format!("y{k}"), row);
                }
            }
        }
    }
    out
}
