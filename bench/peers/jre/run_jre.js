#!/usr/bin/env node
// json-rules-engine runner (run from bench/peers):
//   node jre/run_jre.js check                 grade data/correctness.jsonl → out/jre.jsonl
//   node jre/run_jre.js latency [--samples K] one engine.run per enterprise, timed
//   node jre/run_jre.js batch --n N           N enterprises looped through engine.run
// The rules are jre/rules.json (built by jre/build_rules.js). The engine always returns its
// explanation (every rule's result with each condition's fact value and verdict): there is no
// switch to turn it off.
'use strict'
const fs = require('fs')
const readline = require('readline')
const { Engine } = require('json-rules-engine')

const SCALE = 10000 // numbers are exact in ten-thousandths (the boundary cases use 4 decimals)

// ---- values: undefined = missing, null = undefined quotient / no rank, number (hundredths),
// {n, d} a ratio, {from, to, years} a CAGR ----
function compare (v, t) { // sign of (v − t), exact; t in natural units
  if (typeof v === 'number') return Math.sign(v - t * SCALE)
  if ('n' in v) return Math.sign(v.n * 100 - t * v.d)
  const { from, to, years } = v
  return Math.sign(to * 100 ** years - from * (100 + t) ** years)
}
const known = (v) => v !== undefined
const defined = (v) => v !== undefined && v !== null
const operators = {
  atLeast: (v, t) => defined(v) && compare(v, t) >= 0,
  notAtLeast: (v, t) => known(v) && (v === null || compare(v, t) < 0),
  atMost: (v, t) => defined(v) && compare(v, t) <= 0,
  notAtMost: (v, t) => known(v) && (v === null || compare(v, t) > 0),
  // [from, to) in natural units, either end open (null); an undefined quotient is in the band open below
  inBand: (v, [from, to]) => known(v) && (v === null ? from === null
    : (from === null || compare(v, from) >= 0) && (to === null || compare(v, to) < 0)),
  countIn: (v, [from, to]) => defined(v) && (from === null || v >= from * SCALE) && (to === null || v < to * SCALE),
  isMissing: (v, want) => (v === undefined) === want,
  onOrAfter: (v, day) => typeof v === 'string' && v >= day,
  before: (v, day) => typeof v === 'string' && v < day
}

function makeEngine (doc) {
  const engine = new Engine([], { allowUndefinedFacts: true })
  for (const [name, cb] of Object.entries(operators)) engine.addOperator(name, cb)
  engine.addFact('ratio', async ({ num, den }, almanac) => {
    const [a, b] = await Promise.all([almanac.factValue(num), almanac.factValue(den)])
    if (a === undefined || b === undefined) return undefined
    if (b === 0) return null
    return b < 0 ? { n: -a, d: -b } : { n: a, d: b }
  })
  engine.addFact('sum', async ({ facts }, almanac) => {
    const xs = await Promise.all(facts.map((f) => almanac.factValue(f)))
    return xs.some((x) => x === undefined) ? undefined : xs.reduce((s, x) => s + x, 0)
  })
  engine.addFact('cagr', async ({ from, to, years }, almanac) => {
    const [a, b] = await Promise.all([almanac.factValue(from), almanac.factValue(to)])
    if (a === undefined || b === undefined) return undefined
    return a > 0 && b >= 0 ? { from: a, to: b, years } : null
  })
  engine.addFact('minRank', async ({ facts }, almanac) => { // absent ranks are "no rank", never missing
    const xs = (await Promise.all(facts.map((f) => almanac.factValue(f)))).filter((x) => typeof x === 'number')
    return xs.length ? Math.min(...xs) : null
  })
  engine.addFact('tsScore', async ({ dimension, bound }, almanac) => {
    const acc = await almanac.factValue('tsAcc')
    const dims = {}
    for (const c of Object.values(acc)) {
      const d = (dims[c.dimension] ??= { lo: 0, hi: 0 })
      d.lo += c.lo
      d.hi += c.hi
    }
    let total = 0
    for (const [name, spec] of Object.entries(doc.dimensions)) {
      const d = dims[name] ?? { lo: 0, hi: 0 }
      const v = Math.min(d[bound], spec.max ?? Infinity)
      if (name === dimension) return v
      total += v
    }
    return dimension ? 0 : total
  })
  engine.on('points', async ({ criterion, dimension, lo, hi }, almanac) => {
    const acc = await almanac.factValue('tsAcc')
    const c = acc[criterion]
    acc[criterion] = c ? { dimension, lo: Math.max(c.lo, lo), hi: Math.max(c.hi, hi) } : { dimension, lo, hi }
  })
  for (const [name, c] of Object.entries(doc.conditions)) engine.setCondition(name, c)
  for (const r of doc.rules) engine.addRule(r)
  return engine
}

function toFacts (rec) {
  const y = Number(rec.as_of.slice(0, 4))
  const facts = { as_of: rec.as_of, holds: rec.holds ?? [], renewal: !!rec.renewal }
  for (const [fy, row] of Object.entries(rec.facts ?? {})) {
    const k = y - Number(fy)
    if (k < 0 || k > 5) continue
    for (const [code, v] of Object.entries(row)) {
      if (v === null) continue
      if (typeof v === 'boolean') { facts[`y${k}_${code}`] = v; continue }
      const x = Number(v) * SCALE
      const r = Math.round(x)
      if (Math.abs(x - r) > 1e-6) throw new Error(`${rec.id}: ${v} has more than 4 decimals`)
      facts[`y${k}_${code}`] = r
    }
  }
  return facts
}

async function grade (engine, facts) {
  facts.tsAcc = {}
  const { events, almanac } = await engine.run(facts)
  const out = { little_giant: { outcome: 'incomplete', route: null }, tech_sme: { outcome: 'incomplete', route: null } }
  for (const e of events) if (e.type === 'outcome') out[e.params.tier] = { outcome: e.params.outcome, route: e.params.route }
  const lo = await almanac.factValue('tsScore', { bound: 'lo' })
  const hi = await almanac.factValue('tsScore', { bound: 'hi' })
  const ts = out.tech_sme
  const inForce = ts.outcome !== 'not_in_force'
  return {
    little_giant: { ...out.little_giant, score: null, score_max: null },
    tech_sme: { ...ts, score: inForce ? String(lo) : null, score_max: inForce && hi !== lo ? String(hi) : null }
  }
}

async function * records (path, limit = Infinity) {
  const rl = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity })
  let n = 0
  for await (const line of rl) {
    if (n >= limit) break
    if (!line.trim()) continue
    n++
    yield JSON.parse(line)
  }
  rl.close()
}

const peakRssKb = () => Number((fs.readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+)/) || [0, 0])[1])

async function main () {
  const [cmd, ...rest] = process.argv.slice(2)
  const opt = (k, d) => { const i = rest.indexOf(`--${k}`); return i >= 0 ? rest[i + 1] : d }
  const engine = makeEngine(JSON.parse(fs.readFileSync('jre/rules.json', 'utf8')))
  if (cmd === 'check') {
    fs.mkdirSync('out', { recursive: true })
    const lines = []
    for await (const rec of records('data/correctness.jsonl')) {
      lines.push(JSON.stringify({ id: rec.id, ...(await grade(engine, toFacts(rec))) }))
    }
    fs.writeFileSync('out/jre.jsonl', lines.join('\n') + '\n')
    console.error(`jre: graded ${lines.length} enterprises → out/jre.jsonl`)
  } else if (cmd === 'latency') {
    const samples = Number(opt('samples', 10024))
    const recs = []
    for await (const rec of records('data/correctness.jsonl', samples)) recs.push(rec)
    const ns = []
    for (let pass = 0; pass < 3; pass++) {
      for (const rec of recs) {
        const facts = toFacts(rec)
        const t = process.hrtime.bigint()
        await grade(engine, facts)
        const dt = Number(process.hrtime.bigint() - t)
        if (pass > 0) ns.push(dt)
      }
    }
    ns.sort((a, b) => a - b)
    const at = (q) => ns[Math.round((ns.length - 1) * q)]
    console.log(JSON.stringify({ engine: 'jre', kind: 'latency', trace: 'always', samples: ns.length, median_us: at(0.5) / 1e3, p99_us: at(0.99) / 1e3 }))
  } else if (cmd === 'batch') {
    const n = Number(opt('n', 10000))
    const t0 = process.hrtime.bigint()
    const inputs = []
    for await (const rec of records('data/batch.jsonl', n)) inputs.push(toFacts(rec))
    if (inputs.length < n) throw new Error(`data/batch.jsonl holds fewer than ${n} enterprises`)
    const loadS = Number(process.hrtime.bigint() - t0) / 1e9
    const rssLoaded = peakRssKb()
    const counts = { lg: [0, 0, 0], ts: [0, 0, 0] }
    const idx = { eligible: 0, ineligible: 1 }
    let scoreSum = 0
    const t = process.hrtime.bigint()
    for (let i = 0; i < n; i++) {
      const r = await grade(engine, inputs[i])
      inputs[i] = null
      counts.lg[idx[r.little_giant.outcome] ?? 2]++
      counts.ts[idx[r.tech_sme.outcome] ?? 2]++
      scoreSum += Number(r.tech_sme.score ?? 0)
    }
    const evalS = Number(process.hrtime.bigint() - t) / 1e9
    console.log(JSON.stringify({ engine: 'jre', kind: 'batch', mode: 'materialised', n, eval_s: evalS, per_sec: n / evalS, load_s: loadS, peak_rss_kb: peakRssKb(), rss_after_load_kb: rssLoaded, tally: { lg: counts.lg, ts: counts.ts, ts_score_sum: String(scoreSum) } }))
  } else {
    throw new Error('usage: run_jre.js check|latency|batch')
  }
}

main().catch((e) => { console.error(e); process.exit(1) })
