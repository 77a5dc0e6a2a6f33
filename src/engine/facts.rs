//! Facts per fiscal year, stored compactly by catalog position so evaluation never hashes a code.

use rust_decimal::Decimal;

use crate::catalog::INDICATORS;

/// A fact value: an exact decimal or a yes/no. Range checks against the catalog happen where
/// facts are uploaded; the engine only needs the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactValue {
    Num(Decimal),
    Bool(bool),
}

/// A fact code that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fact code `{0}`")]
pub struct UnknownCode(pub String);

/// The position of `code` in [`INDICATORS`]; rule sets and fact tables both index by it.
pub fn indicator_index(code: &str) -> Option<usize> {
    INDICATORS.iter().position(|i| i.code == code)
}

/// The most year rows one table holds (first to last year). Sheets hold 1990..=next year.
pub(super) const MAX_SPAN: usize = 200;

/// Catalog positions a year row can hold: the low bits of a row word are its presence bitmap.
const ROW_BITS: u32 = 40;
const ROW_MASK: u64 = (1 << ROW_BITS) - 1;

/// Values are packed in one `u64` each: the top two bits are the tag; an inline number keeps
/// its sign, scale (0–28) and a mantissa below 2⁵⁶; any other decimal goes to a side list.
const TAG_SHIFT: u32 = 62;
const TAG_NUM: u64 = 0;
const TAG_BOOL: u64 = 1;
const TAG_SPILL: u64 = 2;
const SIGN_BIT: u64 = 1 << 61;
const SCALE_SHIFT: u32 = 56;
const MANTISSA_MASK: u64 = (1 << SCALE_SHIFT) - 1;

fn pack(v: FactValue, spill: &mut Vec<Decimal>) -> u64 {
    match v {
        FactValue::Bool(b) => (TAG_BOOL << TAG_SHIFT) | u64::from(b),
        FactValue::Num(d) => {
            let m = d.mantissa().unsigned_abs();
            match u64::try_from(m) {
                Ok(m) if m <= MANTISSA_MASK => {
                    let sign = if d.is_sign_negative() { SIGN_BIT } else { 0 };
                    (TAG_NUM << TAG_SHIFT) | sign | (u64::from(d.scale()) << SCALE_SHIFT) | m
                }
                _ => {
                    spill.push(d);
                    (TAG_SPILL << TAG_SHIFT) | (spill.len() as u64 - 1)
                }
            }
        }
    }
}

/// An inline number's mantissa (below 2⁵⁶), sign and scale.
#[inline]
fn inline_num(p: u64) -> (u64, bool, u32) {
    (
        p & MANTISSA_MASK,
        p & SIGN_BIT != 0,
        ((p >> SCALE_SHIFT) & 0x1f) as u32,
    )
}

#[inline]
fn unpack(p: u64, spill: &[Decimal]) -> Option<FactValue> {
    match p >> TAG_SHIFT {
        TAG_NUM => {
            let (m, negative, scale) = inline_num(p);
            Some(FactValue::Num(Decimal::from_parts(
                m as u32,
                (m >> 32) as u32,
                0,
                negative,
                scale,
            )))
        }
        TAG_BOOL => Some(FactValue::Bool(p & 1 != 0)),
        _ => spill
            .get(usize::try_from(p & u64::from(u32::MAX)).ok()?)
            .copied()
            .map(FactValue::Num),
    }
}

/// The position of value `idx` of a row word in its enterprise's value list, if held.
#[inline]
fn slot(row: u64, idx: usize) -> Option<usize> {
    let bit = 1u64.checked_shl(u32::try_from(idx).ok()?)? & ROW_MASK;
    if row & bit == 0 {
        return None;
    }
    let before = (row & (bit - 1)).count_ones() as usize;
    Some((row >> ROW_BITS) as usize + before)
}

/// An enterprise's facts, for the contiguous years from the first to the last year on file.
///
/// Compact by design (a batch holds millions): one `u64` word per year row (which catalog
/// positions hold a value, and where the row's values start) and one `u64` per value held, so
/// a lookup is a bit test, a popcount and one load. [`FactBatch`] keeps many tables in one
/// allocation each; the engine reads either through a [`Facts`] view.
#[derive(Debug, Clone, Default)]
pub struct FactTable {
    first_year: i32,
    rows: Vec<u64>,
    values: Vec<u64>,
    spill: Vec<Decimal>,
}

/// A borrowed, read-only view of one enterprise's facts: what the engine grades.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    first_year: i32,
    rows: &'a [u64],
    values: &'a [u64],
    spill: &'a [Decimal],
}

/// The row of `year` in rows starting at `first_year`, if there is one.
#[inline]
fn row_index(first_year: i32, rows: usize, year: i32) -> Option<usize> {
    let off = usize::try_from(year.checked_sub(first_year)?).ok()?;
    (off < rows).then_some(off)
}

impl<'a> Facts<'a> {
    /// The packed word of a value, if held.
    #[inline]
    fn word(&self, year: i32, idx: usize) -> Option<u64> {
        let row = row_index(self.first_year, self.rows.len(), year)?;
        self.values.get(slot(self.rows[row], idx)?).copied()
    }

    #[inline]
    pub fn get(&self, year: i32, idx: usize) -> Option<FactValue> {
        unpack(self.word(year, idx)?, self.spill)
    }

    /// A filed number as its exact mantissa and scale, straight from the packed word; `None`
    /// for an absent value, a yes/no, or a number kept aside (read those with `get`).
    #[inline]
    pub(crate) fn num_parts(&self, year: i32, idx: usize) -> Option<(i128, u32)> {
        let p = self.word(year, idx)?;
        if p >> TAG_SHIFT != TAG_NUM {
            return None;
        }
        let (m, negative, scale) = inline_num(p);
        let m = i128::from(m);
        Some((if negative { -m } else { m }, scale))
    }

    /// The fiscal years that hold at least one value, ascending.
    pub fn years(self) -> impl Iterator<Item = i32> + 'a {
        let first = self.first_year;
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| **r & ROW_MASK != 0)
            .map(move |(i, _)| first + i as i32)
    }
}

impl PartialEq for FactTable {
    /// Same values for the same years (however they were written).
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.view(), other.view());
        a.years().eq(b.years())
            && a.years()
                .all(|y| (0..INDICATORS.len()).all(|i| a.get(y, i) == b.get(y, i)))
    }
}

impl FactTable {
    #[cfg(test)]
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub fn view(&self) -> Facts<'_> {
        Facts {
            first_year: self.first_year,
            rows: &self.rows,
            values: &self.values,
            spill: &self.spill,
        }
    }

    /// Sets a value by catalog position. Only [`FactSheet`](super::FactSheet) fills tables
    /// (after checking the value); a position outside the catalog, or a year that would
    /// stretch the table past [`MAX_SPAN`] rows, is refused (`false`).
    pub(super) fn set_idx(&mut self, year: i32, idx: usize, v: FactValue) -> bool {
        if idx >= INDICATORS.len() || idx >= ROW_BITS as usize {
            return false;
        }
        let Some(row) = self.row_for(year) else {
            return false;
        };
        let word = self.rows[row];
        let bit = 1u64 << idx;
        // Where the value is, or goes: its position with the bit set.
        let Some(at) = slot(word | bit, idx) else {
            return false;
        };
        let packed = pack(v, &mut self.spill);
        if word & bit != 0 {
            self.values[at] = packed;
            return true;
        }
        self.rows[row] |= bit;
        self.values.insert(at, packed);
        for r in &mut self.rows[row + 1..] {
            *r += 1 << ROW_BITS;
        }
        true
    }

    /// Removes a value.
    #[cfg(test)]
    pub(super) fn clear(&mut self, year: i32, code: &str) {
        let Some(idx) = indicator_index(code) else {
            return;
        };
        let Some(row) = row_index(self.first_year, self.rows.len(), year) else {
            return;
        };
        let Some(at) = slot(self.rows[row], idx) else {
            return;
        };
        self.rows[row] &= !(1u64 << idx);
        self.values.remove(at);
        for r in &mut self.rows[row + 1..] {
            *r -= 1 << ROW_BITS;
        }
    }

    #[inline]
    pub fn get(&self, year: i32, idx: usize) -> Option<FactValue> {
        self.view().get(year, idx)
    }

    /// The fiscal years that hold at least one value, ascending.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.view().years()
    }

    /// The row of `year`, adding rows as needed; `None` when the table would then span more
    /// than [`MAX_SPAN`] years (rows are dense from the first year to the last, so two far
    /// apart years must never reach here: the sheet bounds years, and this bounds the table).
    fn row_for(&mut self, year: i32) -> Option<usize> {
        if self.rows.is_empty() {
            self.first_year = year;
            self.rows.push(0);
            return Some(0);
        }
        let last = i64::from(self.first_year) + self.rows.len() as i64 - 1;
        let lo = i64::from(year).min(i64::from(self.first_year));
        let hi = i64::from(year).max(last);
        if hi - lo >= MAX_SPAN as i64 {
            return None;
        }
        if year < self.first_year {
            // Rows put in front are empty and start at the first value.
            let extra = usize::try_from(i64::from(self.first_year) - i64::from(year)).ok()?;
            self.rows.splice(0..0, std::iter::repeat_n(0, extra));
            self.first_year = year;
        }
        let row = usize::try_from(i64::from(year) - i64::from(self.first_year)).ok()?;
        if row >= self.rows.len() {
            let end = (self.values.len() as u64) << ROW_BITS;
            self.rows.resize(row + 1, end);
        }
        Some(row)
    }
}

/// Many enterprises' facts in a handful of allocations, for batch grading: about 8 bytes per
/// value held and per year row, plus 12 per enterprise.
#[derive(Debug, Clone)]
pub struct FactBatch {
    first_year: Vec<i32>,
    /// Enterprise `i`'s rows are `rows[row_at[i]..row_at[i + 1]]`; likewise its values.
    row_at: Vec<u32>,
    value_at: Vec<u32>,
    rows: Vec<u64>,
    values: Vec<u64>,
    spill: Vec<Decimal>,
}

impl FactBatch {
    pub fn new() -> Self {
        FactBatch {
            first_year: Vec::new(),
            row_at: vec![0],
            value_at: vec![0],
            rows: Vec::new(),
            values: Vec::new(),
            spill: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.first_year.len()
    }

    pub fn is_empty(&self) -> bool {
        self.first_year.is_empty()
    }

    /// Appends one enterprise's facts; its index is the `len()` before the call.
    pub fn push(&mut self, sheet: &super::FactSheet) {
        let t = &sheet.table;
        let spill_base = self.spill.len() as u64;
        self.first_year.push(t.first_year);
        self.rows.extend_from_slice(&t.rows);
        self.values.extend(t.values.iter().map(|&p| {
            if p >> TAG_SHIFT == TAG_SPILL {
                p + spill_base
            } else {
                p
            }
        }));
        self.spill.extend_from_slice(&t.spill);
        self.row_at.push(self.rows.len() as u32);
        self.value_at.push(self.values.len() as u32);
    }

    /// Enterprise `i`'s facts. Panics when `i >= len()`, like slice indexing.
    pub fn get(&self, i: usize) -> Facts<'_> {
        let (r0, r1) = (self.row_at[i] as usize, self.row_at[i + 1] as usize);
        let (v0, v1) = (self.value_at[i] as usize, self.value_at[i + 1] as usize);
        Facts {
            first_year: self.first_year[i],
            rows: &self.rows[r0..r1],
            values: &self.values[v0..v1],
            spill: &self.spill,
        }
    }

    /// Moves every enterprise of `other` to the end of this batch, in order (batches read on
    /// several threads are joined with it).
    pub fn append(&mut self, other: FactBatch) {
        let (rows, values, spill) = (
            self.rows.len() as u32,
            self.values.len() as u32,
            self.spill.len() as u64,
        );
        self.first_year.extend_from_slice(&other.first_year);
        self.row_at
            .extend(other.row_at.iter().skip(1).map(|r| r + rows));
        self.value_at
            .extend(other.value_at.iter().skip(1).map(|v| v + values));
        self.rows.extend_from_slice(&other.rows);
        self.values.extend(other.values.iter().map(|&p| {
            if p >> TAG_SHIFT == TAG_SPILL {
                p + spill
            } else {
                p
            }
        }));
        self.spill.extend_from_slice(&other.spill);
    }

    /// Drops every enterprise, keeping the allocations (for chunked batches).
    pub fn clear(&mut self) {
        self.first_year.clear();
        self.rows.clear();
        self.values.clear();
        self.spill.clear();
        self.row_at.truncate(1);
        self.value_at.truncate(1);
    }
}

impl Default for FactBatch {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;
    use serde_json::json;

    #[test]
    fn far_apart_years_are_refused_not_allocated() {
        // Issue 11: years 2025 and 2147483647 asked for ~17 GB, i32::MAX and i32::MIN for a
        // capacity overflow panic.
        let rd = indicator_index("rd_expense").unwrap();
        let mut t = FactTable::new();
        assert!(t.set_idx(2025, rd, FactValue::Num(dec!(1))));
        assert!(!t.set_idx(i32::MAX, rd, FactValue::Num(dec!(1))));
        assert!(!t.set_idx(i32::MIN, rd, FactValue::Num(dec!(1))));
        assert!(!t.set_idx(2025 + MAX_SPAN as i32, rd, FactValue::Num(dec!(1))));
        assert!(t.set_idx(2025 + MAX_SPAN as i32 - 1, rd, FactValue::Num(dec!(2))));
        assert!(!t.set_idx(2024, rd, FactValue::Num(dec!(1))));
        assert_eq!(t.rows.len(), MAX_SPAN);
        assert_eq!(t.years().collect::<Vec<_>>(), vec![2025, 2224]);
        let mut u = FactTable::new();
        assert!(u.set_idx(i32::MAX, rd, FactValue::Num(dec!(1))));
        assert!(!u.set_idx(i32::MIN, rd, FactValue::Num(dec!(1))));
        assert_eq!(u.get(i32::MAX, rd), Some(FactValue::Num(dec!(1))));
        assert_eq!(u.view().years().collect::<Vec<_>>(), vec![i32::MAX]);
    }

    #[test]
    fn values_round_trip_inline_and_spilled() {
        let rd = indicator_index("rd_expense").unwrap();
        let hte = indicator_index("high_tech_enterprise").unwrap();
        let values = [
            dec!(0),
            dec!(-0.5),
            dec!(120.189),
            dec!(72057594037927935), // 2^56 − 1: the largest inline mantissa
            dec!(72057594037927936), // 2^56: spilled
            dec!(-7922816251426433759354395033.5), // a 96-bit mantissa, spilled
            dec!(0.0000000000000000000000000001), // scale 28
        ];
        for v in values {
            let mut t = FactTable::new();
            t.set_idx(2025, rd, FactValue::Num(v));
            t.set_idx(2025, hte, FactValue::Bool(false));
            let got = t.get(2025, rd);
            assert_eq!(got, Some(FactValue::Num(v)));
            let Some(FactValue::Num(d)) = got else {
                unreachable!()
            };
            assert_eq!((d.scale(), d.mantissa()), (v.scale(), v.mantissa()), "{v}");
            assert_eq!(t.get(2025, hte), Some(FactValue::Bool(false)));
        }
    }

    #[test]
    fn writes_in_any_order_overwrite_and_clear() {
        let codes = ["employees", "rd_expense", "operating_revenue", "rd_staff"];
        let idx: Vec<usize> = codes.iter().map(|c| indicator_index(c).unwrap()).collect();
        let mut a = FactTable::new();
        let mut b = FactTable::new();
        // a: years ascending, codes in order; b: years descending, codes reversed.
        for y in 2021..=2025 {
            for (k, i) in idx.iter().enumerate() {
                a.set_idx(y, *i, FactValue::Num(Decimal::from(y * 10 + k as i32)));
            }
        }
        for y in (2021..=2025).rev() {
            for (k, i) in idx.iter().enumerate().rev() {
                b.set_idx(y, *i, FactValue::Num(Decimal::from(y * 10 + k as i32)));
            }
        }
        assert_eq!(a, b);
        for y in 2021..=2025 {
            for (k, i) in idx.iter().enumerate() {
                assert_eq!(
                    a.get(y, *i),
                    Some(FactValue::Num(Decimal::from(y * 10 + k as i32)))
                );
            }
        }
        a.set_idx(2023, idx[1], FactValue::Num(dec!(1.5)));
        assert_eq!(a.get(2023, idx[1]), Some(FactValue::Num(dec!(1.5))));
        assert_ne!(a, b);
        a.clear(2023, "rd_expense");
        assert_eq!(a.get(2023, idx[1]), None);
        assert_eq!(a.get(2023, idx[2]), Some(FactValue::Num(dec!(20232))));
        assert_eq!(a.get(2024, idx[0]), Some(FactValue::Num(dec!(20240))));
        a.clear(2023, "rd_expense");
        a.clear(1999, "rd_expense");
        assert_eq!(a.get(2019, idx[0]), None);
        assert_eq!(a.get(2026, idx[0]), None);
        assert_eq!(a.get(2025, INDICATORS.len()), None);
        assert_eq!(a.get(2025, 10_000), None);
    }

    #[test]
    fn a_batch_reads_like_its_tables() {
        let docs = [
            json!({"2025": {"rd_expense": "120.189", "high_tech_enterprise": true}, "2023": {"employees": 10}}),
            json!({}),
            json!({"2024": {"operating_revenue": "79228162514264337593543950335", "employees": 3}}),
            json!({"2020": {"net_profit": "-1"}, "2026": {"rd_expense": "99999999999999999999"}}),
        ];
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let tables: Vec<super::super::FactSheet> = docs
            .iter()
            .map(|d| super::super::FactSheet::parse(d, today).unwrap())
            .collect();
        let mut batch = FactBatch::new();
        for t in &tables {
            batch.push(t);
        }
        assert_eq!(batch.len(), tables.len());
        for (i, t) in tables.iter().enumerate() {
            let v = batch.get(i);
            assert_eq!(v.years().collect::<Vec<_>>(), t.years().collect::<Vec<_>>());
            for y in 2019..=2027 {
                for idx in 0..INDICATORS.len() {
                    assert_eq!(
                        v.get(y, idx),
                        t.view().get(y, idx),
                        "enterprise {i}, {y}, {idx}"
                    );
                }
            }
        }
        // Two halves appended read like the whole (spilled values keep their place).
        let mut a = FactBatch::new();
        let mut b = FactBatch::new();
        a.push(&tables[0]);
        a.push(&tables[2]);
        b.push(&tables[3]);
        b.push(&tables[1]);
        b.push(&tables[2]);
        a.append(b);
        let order = [0, 2, 3, 1, 2];
        assert_eq!(a.len(), order.len());
        for (i, t) in order.iter().enumerate() {
            for y in 2019..=2027 {
                for idx in 0..INDICATORS.len() {
                    assert_eq!(a.get(i).get(y, idx), tables[*t].view().get(y, idx));
                }
            }
        }
        batch.clear();
        assert!(batch.is_empty());
        batch.push(&tables[3]);
        assert_eq!(
            batch
                .get(0)
                .get(2026, indicator_index("rd_expense").unwrap()),
            tables[3].get(2026, "rd_expense")
        );
    }

    #[test]
    fn the_catalog_fits_a_row_word() {
        assert!(INDICATORS.len() <= ROW_BITS as usize);
    }
}
