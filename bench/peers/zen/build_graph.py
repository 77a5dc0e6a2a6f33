#!/usr/bin/env python3
"""Writes zen/grading.jdm.json: the 小巨人 2026 rule set and the 科技型中小企业 (115号) scoring as
one GoRules JDM decision graph (expression nodes + first-hit decision tables).

The graph is a chain of pass-through nodes over the input
  {renewal, holds: [..], y0: {facts of year Y}, y1: {Y-1}, ..., y5: {Y-5}}
where Y is the year of the assessment date (the loader maps fiscal years to offsets).
Three-valued logic: a criterion is true, false or null (a fact it needs is missing);
"n/a" marks a criterion that does not apply (neutral in the folds).
Run: python3 zen/build_graph.py  (stdlib only; the JSON is checked in next to it)."""
import json, os

def tri_and(items):
    l = "[" + ", ".join(items) + "]"
    return f"some({l}, # == false) ? false : (some({l}, # == null) ? null : true)"

def tri_or(items):
    l = "[" + ", ".join(items) + "]"
    return f"some({l}, # == true) ? true : (some({l}, # == null) ? null : false)"

def cmp(x, op, t):
    return f"({x} == null ? null : {x} {op} {t})"

def ratio_cmp(a, b, op, t):
    # a / b × 100 <op> t, by cross-multiplication; a zero base is undefined and fails.
    return f"({a} == null or {b} == null ? null : ({b} == 0 ? false : {a} * 100 {op} {t} * {b}))"

def flag_is(x, want):
    return f"({x} == null ? null : {x} == {'true' if want else 'false'})"

def expr_node(nid, name, exprs, output_path=None):
    content = {"expressions": [{"id": f"{nid}-{i}", "key": k, "value": v} for i, (k, v) in enumerate(exprs)],
               "passThrough": True, "inputField": None, "outputPath": output_path, "executionMode": "single"}
    return {"id": nid, "name": name, "type": "expressionNode", "content": content}

def table(nid, name, inputs, outputs, rows, output_path):
    ins = [{"id": f"{nid}-i{i}", "name": f, "field": f} for i, f in enumerate(inputs)]
    outs = [{"id": f"{nid}-o{i}", "name": f, "field": f} for i, f in enumerate(outputs)]
    rules = []
    for j, (conds, vals) in enumerate(rows):
        r = {"_id": f"{nid}-r{j}"}
        for i, c in enumerate(conds):
            r[ins[i]["id"]] = c
        for i, v in enumerate(vals):
            r[outs[i]["id"]] = str(v)
        rules.append(r)
    return {"id": nid, "name": name, "type": "decisionTableNode",
            "content": {"hitPolicy": "first", "inputs": ins, "outputs": outs, "rules": rules,
                        "passThrough": True, "inputField": None, "outputPath": output_path,
                        "executionMode": "single"}}

def rev(y): return f"y{y}.operating_revenue"

# ---- 小巨人 2026 (工信部企业〔2026〕2号 附件2; criteria.md §4b) ----
R = "$"  # earlier keys of the same node
lg = [
    ("in_force", 'date(as_of) >= date("2026-04-01")'),
    ("prerequisite", 'some(holds, # == "srdi_sme")'),
    ("niche_years", cmp("y1.niche_years", ">=", 3)),
    ("revenue", cmp(rev(1), ">=", 5000)),
    ("main_share", ratio_cmp("y1.main_business_revenue", rev(1), ">=", 90)),
    # CAGR Y-3 → Y-1 ≥ 5%, exactly: to·100² ≥ from·105²; undefined from a base ≤ 0.
    ("revenue_cagr", f'renewal ? "n/a" : ({rev(3)} == null or {rev(1)} == null ? null : '
                     f'({rev(3)} > 0 and {rev(1)} >= 0 and {rev(1)} * 100 ^ 2 >= {rev(3)} * (100 + 5) ^ 2))'),
    ("debt_ratio", ratio_cmp("y1.total_liabilities", "y1.total_assets", "<=", 75)),
    ("rd_total", "(y2.rd_expense == null or y1.rd_expense == null ? null : y2.rd_expense + y1.rd_expense >= 1200)"),
    ("rd_intensity", tri_and([ratio_cmp(f"y{y}.rd_expense", rev(y), ">=", 3) for y in (2, 1)])),
    # An absent rank is "no rank" (never missing): min rank ≤ 3 ⇔ some present rank ≤ 3.
    ("ip", tri_or([cmp("y1.ip_class1", ">=", 4),
                   "some([y3.st_award_national_rank, y2.st_award_national_rank, y1.st_award_national_rank], # != null and # <= 3)"])),
    ("market", tri_or([cmp("y1.main_product_share", ">=", 10), "(y1.domestic_rank != null and y1.domestic_rank <= 3)"])),
    ("field", tri_or(["y1.six_base", "y1.key_chain"])),
    ("dev_eval_score", f'renewal ? "n/a" : {cmp("y0.dev_eval_score", ">=", 60)}'),
    ("dev_eval_score_renewal", f'not renewal ? "n/a" : ({tri_or([cmp("y1.dev_eval_score", ">=", 60), cmp("y0.dev_eval_score", ">=", 60)])})'),
    ("not_single_champion", 'not some(holds, # == "single_champion")'),
]
lg_ids = [k for k, _ in lg][1:]
lg.append(("all", tri_and([f"$.{k}" for k in lg_ids])))
lg.append(("outcome", 'not $.in_force ? "not_in_force" : $.all == true ? "eligible" : ($.all == false ? "ineligible" : "incomplete")'))
lg.append(("route", '$.in_force and $.all == true ? "standard" : null'))

# ---- 科技型中小企业 (国科发政〔2017〕115号; criteria.md §7) ----
ts = [
    ("in_force", 'date(as_of) >= date("2017-05-03")'),
    ("employees", cmp("y1.employees", "<=", 500)),
    ("sales", cmp(rev(1), "<=", 20000)),
    ("assets", cmp("y1.total_assets", "<=", 20000)),
    ("no_incident", tri_and([flag_is("y1.major_incident", False), flag_is("y0.major_incident", False)])),
    ("not_listed", tri_and([flag_is("y0.abnormal_listed", False), flag_is("y0.dishonest_listed", False)])),
    ("direct_high_tech", "y1.high_tech_enterprise"),
    ("direct_award", "some([y5.st_award_national_rank, y4.st_award_national_rank, y3.st_award_national_rank, "
                     "y2.st_award_national_rank, y1.st_award_national_rank], # != null and # <= 3)"),
    ("direct_rd_institution", cmp("y1.rd_institution_level", ">=", 3)),
    ("direct_standard", tri_or([f"y{y}.standard_led" for y in (5, 4, 3, 2, 1)])),
]
ts.append(("base", tri_and(["$." + k for k in ("employees", "sales", "assets", "no_incident", "not_listed")])))
ts.append(("direct", tri_or(["$." + k for k in ("direct_high_tech", "direct_award", "direct_rd_institution", "direct_standard")])))
# Inputs of the score tables: known = every fact present; pct = the ratio in %, null when undefined.
for key, a, b in (("st", "y1.st_staff", "y1.employees"), ("rds", "y1.rd_expense", rev(1)),
                  ("rdc", "y1.rd_expense", "y1.cost_and_expense")):
    ts.append((f"{key}_known", f"{a} != null and {b} != null"))
    ts.append((f"{key}_pct", f"{a} != null and {b} != null and {b} != 0 ? {a} * 100 / {b} : null"))
ts.append(("ipc1", "y1.ip_class1"))
ts.append(("ipc2", "y1.ip_class2"))

def band_rows(bands, top):
    # bands: [(unary cell, points)] high to low; the last band is open below and also takes an
    # undefined ratio. Missing facts contribute the whole range [0, top].
    rows = [(["false", ""], [0, top])]
    for cell, p in bands:
        rows.append((["", cell], [p, p]))
    rows.append((["", ""], [0, 0]))
    return rows

st_rows = band_rows([(">= 30", 20), ("[25..30)", 16), ("[20..25)", 12), ("[15..20)", 8), ("[10..15)", 4)], 20)
rds_rows = band_rows([(">= 6", 50), ("[5..6)", 40), ("[4..5)", 30), ("[3..4)", 20), ("[2..3)", 10)], 50)
rdc_rows = band_rows([(">= 30", 50), ("[25..30)", 40), ("[20..25)", 30), ("[15..20)", 20), ("[10..15)", 10)], 50)
# IP cases, first match, three-valued: Ⅰ类 ≥ 1 → 30; Ⅱ类 ≥4/3/2/1 → 24/18/12/6; else 0.
ip_rows = [([">= 1", ""], [30, 30])]
for c1, extra in (("< 1", None), ("null", 30)):
    for c2, p in ((">= 4", 24), (">= 3", 18), (">= 2", 12), (">= 1", 6), ("< 1", 0), ("null", None)):
        lo = 0 if p is None else p
        hi = max(24 if p is None else p, extra or 0)
        ip_rows.append(([c1, c2], [lo, hi]))

final = [
    # dimension subtotals capped at their max; 科技人员 subtotal ≥ 1; pass mark 60
    ("st_lo", "min([pts_st.lo, 20])"), ("st_hi", "min([pts_st.hi, 20])"),
    ("rd_lo", "min([max([pts_rds.lo, pts_rdc.lo]), 50])"), ("rd_hi", "min([max([pts_rds.hi, pts_rdc.hi]), 50])"),
    ("ip_lo", "min([pts_ip.lo, 30])"), ("ip_hi", "min([pts_ip.hi, 30])"),
    ("score", "$.st_lo + $.rd_lo + $.ip_lo"),
    ("score_max", "$.st_hi + $.rd_hi + $.ip_hi"),
    ("st_min", "$.st_lo >= 1 ? true : ($.st_hi < 1 ? false : null)"),
    ("pass", "$.score >= 60 ? true : ($.score_max < 60 ? false : null)"),
    ("standard", tri_and(["$.st_min", "$.pass"])),
    ("std_route", tri_and(["ts.base", "$.standard"])),
    ("all", tri_or(["$.std_route", "(" + tri_and(["ts.base", "ts.direct"]) + ")"])),
    ("outcome", 'not ts.in_force ? "not_in_force" : $.all == true ? "eligible" : ($.all == false ? "ineligible" : "incomplete")'),
    ("route", 'not ts.in_force or $.all != true ? null : ($.std_route == true ? "standard" : "direct")'),
]

nodes = [
    {"id": "input", "name": "request", "type": "inputNode", "content": {}},
    expr_node("lg", "little_giant-2026", lg, "lg"),
    expr_node("ts", "tech_sme-2017 conditions", ts, "ts"),
    table("ts_st", "科技人员指标 (20)", ["ts.st_known", "ts.st_pct"], ["lo", "hi"], st_rows, "pts_st"),
    table("ts_rds", "研发投入/销售收入 (50)", ["ts.rds_known", "ts.rds_pct"], ["lo", "hi"], rds_rows, "pts_rds"),
    table("ts_rdc", "研发投入/成本费用 (50)", ["ts.rdc_known", "ts.rdc_pct"], ["lo", "hi"], rdc_rows, "pts_rdc"),
    table("ts_ip", "知识产权 (30)", ["ts.ipc1", "ts.ipc2"], ["lo", "hi"], ip_rows, "pts_ip"),
    expr_node("ts_score", "tech_sme-2017 score and outcome", final, "ts_result"),
    {"id": "output", "name": "response", "type": "outputNode", "content": {}},
]
order = [n["id"] for n in nodes]
edges = [{"id": f"e{i}", "sourceId": a, "targetId": b, "type": "edge"} for i, (a, b) in enumerate(zip(order, order[1:]))]
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "grading.jdm.json"), "w") as f:
    json.dump({"contentType": "application/vnd.gorules.decision", "nodes": nodes, "edges": edges}, f, ensure_ascii=False, indent=1)
print("wrote zen/grading.jdm.json:", len(nodes), "nodes")
