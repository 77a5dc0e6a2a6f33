#!/usr/bin/env node
// Writes jre/rules.json: the 小巨人 2026 rule set and the 科技型中小企业 (115号) scoring for
// json-rules-engine. Run: node jre/build_rules.js (the JSON is checked in next to it).
//
// Facts (flattened by the runner): `y<k>_<code>` = fact of year Y-k (numbers in ten-thousandths,
// flags as booleans, absent = missing), `holds`, `renewal`, `as_of`.
// Three-valued logic in a two-valued engine: every criterion X has two named conditions,
// X.T (surely passes) and X.F (surely fails); a missing fact makes both false (unknown).
// In force and neither eligible nor ineligible = incomplete (the runner's default outcome).
// Custom operators (run_jre.js) treat an undefined fact as "neither"; derived values come from
// parameterised facts (ratio, sum, cagr, minRank).
'use strict'
const fs = require('fs')
const path = require('path')

const conditions = {}
const rules = []
const def = (name, T, F) => { conditions[`${name}.T`] = T; conditions[`${name}.F`] = F }
const ref = (name, side) => ({ condition: `${name}.${side}` })
const all = (xs) => ({ all: xs })
const any = (xs) => ({ any: xs })
// a comparison against threshold t (natural units): op in atLeast | atMost
const neg = { atLeast: 'notAtLeast', atMost: 'notAtMost' }
const cmpT = (fact, op, t, params) => ({ fact, ...(params ? { params } : {}), operator: op, value: t })
const cmpF = (fact, op, t, params) => ({ fact, ...(params ? { params } : {}), operator: neg[op], value: t })
const cmpDef = (name, fact, op, t, params) => def(name, all([cmpT(fact, op, t, params)]), all([cmpF(fact, op, t, params)]))
const flagDef = (name, fact, want) => def(name,
  all([{ fact, operator: 'equal', value: want }]), all([{ fact, operator: 'equal', value: !want }]))
const andDef = (name, parts) => def(name, all(parts.map((p) => ref(p, 'T'))), any(parts.map((p) => ref(p, 'F'))))
const orDef = (name, parts) => def(name, any(parts.map((p) => ref(p, 'T'))), all(parts.map((p) => ref(p, 'F'))))
const neutralWhen = (name, inner, renewal) => def(name, // a criterion that applies only on (not) renewal
  any([{ fact: 'renewal', operator: 'equal', value: renewal }, ref(inner, 'T')]),
  all([{ fact: 'renewal', operator: 'equal', value: !renewal }, ref(inner, 'F')]))
const ratio = (num, den) => ({ num, den })
const outcomeRules = (tier, prefix, inForceFrom, extra = []) => {
  const inForce = { fact: 'as_of', operator: 'onOrAfter', value: inForceFrom }
  rules.push({ name: `${prefix}.not_in_force`, priority: 1, conditions: all([{ fact: 'as_of', operator: 'before', value: inForceFrom }]),
    event: { type: 'outcome', params: { tier, outcome: 'not_in_force', route: null } } })
  rules.push(...extra.map((r) => ({ ...r, conditions: all([inForce, r.conditions]) })))
}

// ---- 小巨人 2026 (工信部企业〔2026〕2号 附件2; criteria.md §4b) ----
def('lg.prerequisite', all([{ fact: 'holds', operator: 'contains', value: 'srdi_sme' }]),
  all([{ fact: 'holds', operator: 'doesNotContain', value: 'srdi_sme' }]))
cmpDef('lg.niche_years', 'y1_niche_years', 'atLeast', 3)
cmpDef('lg.revenue', 'y1_operating_revenue', 'atLeast', 5000)
cmpDef('lg.main_share', 'ratio', 'atLeast', 90, ratio('y1_main_business_revenue', 'y1_operating_revenue'))
cmpDef('lg.revenue_cagr.test', 'cagr', 'atLeast', 5, { from: 'y3_operating_revenue', to: 'y1_operating_revenue', years: 2 })
neutralWhen('lg.revenue_cagr', 'lg.revenue_cagr.test', true)
cmpDef('lg.debt_ratio', 'ratio', 'atMost', 75, ratio('y1_total_liabilities', 'y1_total_assets'))
cmpDef('lg.rd_total', 'sum', 'atLeast', 1200, { facts: ['y2_rd_expense', 'y1_rd_expense'] })
cmpDef('lg.rd_intensity.y2', 'ratio', 'atLeast', 3, ratio('y2_rd_expense', 'y2_operating_revenue'))
cmpDef('lg.rd_intensity.y1', 'ratio', 'atLeast', 3, ratio('y1_rd_expense', 'y1_operating_revenue'))
andDef('lg.rd_intensity', ['lg.rd_intensity.y2', 'lg.rd_intensity.y1'])
cmpDef('lg.ip.class1', 'y1_ip_class1', 'atLeast', 4)
cmpDef('lg.ip.award', 'minRank', 'atMost', 3, { facts: ['y3_st_award_national_rank', 'y2_st_award_national_rank', 'y1_st_award_national_rank'] })
orDef('lg.ip', ['lg.ip.class1', 'lg.ip.award'])
cmpDef('lg.market.share', 'y1_main_product_share', 'atLeast', 10)
cmpDef('lg.market.rank', 'minRank', 'atMost', 3, { facts: ['y1_domestic_rank'] })
orDef('lg.market', ['lg.market.share', 'lg.market.rank'])
flagDef('lg.field.six_base', 'y1_six_base', true)
flagDef('lg.field.key_chain', 'y1_key_chain', true)
orDef('lg.field', ['lg.field.six_base', 'lg.field.key_chain'])
cmpDef('lg.dev_eval_score.test', 'y0_dev_eval_score', 'atLeast', 60)
neutralWhen('lg.dev_eval_score', 'lg.dev_eval_score.test', true)
cmpDef('lg.dev_eval_score_renewal.y1', 'y1_dev_eval_score', 'atLeast', 60)
orDef('lg.dev_eval_score_renewal.test', ['lg.dev_eval_score_renewal.y1', 'lg.dev_eval_score.test'])
neutralWhen('lg.dev_eval_score_renewal', 'lg.dev_eval_score_renewal.test', false)
def('lg.not_single_champion', all([{ fact: 'holds', operator: 'doesNotContain', value: 'single_champion' }]),
  all([{ fact: 'holds', operator: 'contains', value: 'single_champion' }]))
andDef('lg.all', ['lg.prerequisite', 'lg.niche_years', 'lg.revenue', 'lg.main_share', 'lg.revenue_cagr', 'lg.debt_ratio',
  'lg.rd_total', 'lg.rd_intensity', 'lg.ip', 'lg.market', 'lg.field', 'lg.dev_eval_score', 'lg.dev_eval_score_renewal',
  'lg.not_single_champion'])
outcomeRules('little_giant', 'lg', '2026-04-01', [
  { name: 'lg.eligible', priority: 1, conditions: ref('lg.all', 'T'), event: { type: 'outcome', params: { tier: 'little_giant', outcome: 'eligible', route: 'standard' } } },
  { name: 'lg.ineligible', priority: 1, conditions: ref('lg.all', 'F'), event: { type: 'outcome', params: { tier: 'little_giant', outcome: 'ineligible', route: null } } },
])

// ---- 科技型中小企业 (国科发政〔2017〕115号; criteria.md §7) ----
cmpDef('ts.employees', 'y1_employees', 'atMost', 500)
cmpDef('ts.sales', 'y1_operating_revenue', 'atMost', 20000)
cmpDef('ts.assets', 'y1_total_assets', 'atMost', 20000)
flagDef('ts.no_incident.y1', 'y1_major_incident', false)
flagDef('ts.no_incident.y0', 'y0_major_incident', false)
andDef('ts.no_incident', ['ts.no_incident.y1', 'ts.no_incident.y0'])
flagDef('ts.not_listed.abnormal', 'y0_abnormal_listed', false)
flagDef('ts.not_listed.dishonest', 'y0_dishonest_listed', false)
andDef('ts.not_listed', ['ts.not_listed.abnormal', 'ts.not_listed.dishonest'])
andDef('ts.base', ['ts.employees', 'ts.sales', 'ts.assets', 'ts.no_incident', 'ts.not_listed'])
flagDef('ts.direct_high_tech', 'y1_high_tech_enterprise', true)
cmpDef('ts.direct_award', 'minRank', 'atMost', 3, { facts: [5, 4, 3, 2, 1].map((k) => `y${k}_st_award_national_rank`) })
cmpDef('ts.direct_rd_institution', 'y1_rd_institution_level', 'atLeast', 3)
for (const k of [5, 4, 3, 2, 1]) flagDef(`ts.direct_standard.y${k}`, `y${k}_standard_led`, true)
orDef('ts.direct_standard', [5, 4, 3, 2, 1].map((k) => `ts.direct_standard.y${k}`))
orDef('ts.direct', ['ts.direct_high_tech', 'ts.direct_award', 'ts.direct_rd_institution', 'ts.direct_standard'])

// Points (priority 10, before the outcome): each matching rule emits {criterion, dimension, lo, hi};
// the runner keeps the best of a criterion's rules (best_of) and sums capped dimensions.
const points = (criterion, dimension, name, conds, lo, hi = lo) => rules.push({ name: `ts.points.${name}`, priority: 10,
  conditions: all(conds), event: { type: 'points', params: { criterion, dimension, lo, hi } } })
const bands = (criterion, dimension, basis, r, table) => { // table: [[from, to, points]] high → low; the last is open below
  const max = Math.max(...table.map((b) => b[2]))
  const min = Math.min(...table.map((b) => b[2]))
  points(criterion, dimension, `${basis}.missing`, [{ fact: 'ratio', params: r, operator: 'isMissing', value: true }], min, max)
  for (const [from, to, p] of table) {
    points(criterion, dimension, `${basis}[${from ?? ''},${to ?? ''})`, [{ fact: 'ratio', params: r, operator: 'inBand', value: [from, to] }], p)
  }
}
bands('st_staff', 'st_staff', 'st_staff', ratio('y1_st_staff', 'y1_employees'),
  [[30, null, 20], [25, 30, 16], [20, 25, 12], [15, 20, 8], [10, 15, 4], [null, 10, 0]])
bands('rd', 'rd', 'rd_sales', ratio('y1_rd_expense', 'y1_operating_revenue'),
  [[6, null, 50], [5, 6, 40], [4, 5, 30], [3, 4, 20], [2, 3, 10], [null, 2, 0]])
bands('rd', 'rd', 'rd_cost', ratio('y1_rd_expense', 'y1_cost_and_expense'),
  [[30, null, 50], [25, 30, 40], [20, 25, 30], [15, 20, 20], [10, 15, 10], [null, 10, 0]])
// IP: first match of Ⅰ类 ≥ 1 → 30; Ⅱ类 ≥ 4/3/2/1 → 24/18/12/6; else 0, as a decision table over
// (Ⅰ类 known ≥1 / known <1 / missing) × (Ⅱ类 band or missing).
const ip2 = [[4, null, 24], [3, 4, 18], [2, 3, 12], [1, 2, 6], [null, 1, 0]]
const inCount = (fact, from, to) => ({ fact, operator: 'countIn', value: [from, to] })
points('ip', 'ip', 'class1', [cmpT('y1_ip_class1', 'atLeast', 1)], 30)
for (const [c1, c1name, extra] of [[cmpF('y1_ip_class1', 'atLeast', 1), 'no_class1', 0], [{ fact: 'y1_ip_class1', operator: 'isMissing', value: true }, 'class1_missing', 30]]) {
  for (const [from, to, p] of ip2) points('ip', 'ip', `${c1name}.class2[${from ?? ''},${to ?? ''})`, [c1, inCount('y1_ip_class2', from, to)], p, Math.max(p, extra))
  points('ip', 'ip', `${c1name}.class2_missing`, [c1, { fact: 'y1_ip_class2', operator: 'isMissing', value: true }], 0, Math.max(24, extra))
}
const dimensions = { st_staff: { max: 20, min: 1 }, rd: { max: 50 }, ip: { max: 30 } }
const passMark = 60
def('ts.st_min', all([{ fact: 'tsScore', params: { dimension: 'st_staff', bound: 'lo' }, operator: 'greaterThanInclusive', value: 1 }]),
  all([{ fact: 'tsScore', params: { dimension: 'st_staff', bound: 'hi' }, operator: 'lessThan', value: 1 }]))
def('ts.pass', all([{ fact: 'tsScore', params: { bound: 'lo' }, operator: 'greaterThanInclusive', value: passMark }]),
  all([{ fact: 'tsScore', params: { bound: 'hi' }, operator: 'lessThan', value: passMark }]))
andDef('ts.standard_route', ['ts.base', 'ts.st_min', 'ts.pass'])
andDef('ts.direct_route', ['ts.base', 'ts.direct'])
const tsEvent = (outcome, route) => ({ type: 'outcome', params: { tier: 'tech_sme', outcome, route } })
outcomeRules('tech_sme', 'ts', '2017-05-03', [
  { name: 'ts.eligible.standard', priority: 1, conditions: ref('ts.standard_route', 'T'), event: tsEvent('eligible', 'standard') },
  { name: 'ts.eligible.direct', priority: 1, conditions: all([{ not: ref('ts.standard_route', 'T') }, ref('ts.direct_route', 'T')]), event: tsEvent('eligible', 'direct') },
  { name: 'ts.ineligible', priority: 1, conditions: all([ref('ts.standard_route', 'F'), ref('ts.direct_route', 'F')]), event: tsEvent('ineligible', null) },
])

const out = { conditions, rules, dimensions }
fs.writeFileSync(path.join(__dirname, 'rules.json'), JSON.stringify(out, null, 1))
console.log(`wrote jre/rules.json: ${Object.keys(conditions).length} named conditions, ${rules.length} rules`)
