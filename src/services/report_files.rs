//! The rollup as files a person opens: CSV (one tidy table, Chinese headers first), XLSX
//! (a sheet per breakdown) and a terminal table. All from the same `Rollup` value, so the
//! numbers agree to the unit with the JSON.

use crate::csv_export::{Cell, Sheet};
use crate::services::rollup::{QuotaRollup, Rollup};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

fn measure_zh(m: &str) -> &'static str {
    if m == "new" {
        "新增 new"
    } else {
        "在册 active"
    }
}

fn pace_zh(q: &QuotaRollup) -> &'static str {
    if q.on_pace {
        "进度正常 on pace"
    } else {
        "落后 behind"
    }
}

/// One row per quota × (total, district, cluster, month), through the one CSV writer.
pub fn to_csv(r: &Rollup) -> std::io::Result<String> {
    let mut sheet = Sheet::in_memory(&[
        "年度 year",
        "报告日期 as_of",
        "指标编号 quota_id",
        "指标 quota",
        "口径 measure",
        "范围 scope",
        "维度 dimension",
        "代码 code",
        "名称 name",
        "目标 target",
        "完成 achieved",
        "缺口 gap",
        "完成率% percent",
        "应完成 expected_by_now",
        "进度 pace",
        "已提交 submitted",
        "审核中 under_review",
        "预计符合 predicted_eligible",
        "公示中 publicized",
        "破格通过 overrides",
    ])?;
    for q in &r.quotas {
        let label = format!("{} {}", q.label_zh, q.label_en);
        let head = || {
            [
                Cell::from(r.year),
                Cell::from(r.as_of),
                Cell::from(q.id),
                Cell::from(label.as_str()),
                Cell::from(measure_zh(&q.measure)),
                Cell::from(q.scope.as_str()),
            ]
        };
        sheet.row(head().into_iter().chain([
            Cell::from("合计 total"),
            Cell::from(q.scope.as_str()),
            Cell::from("全市/全区 all"),
            Cell::from(q.target),
            Cell::from(q.achieved),
            Cell::from(q.gap),
            Cell::from(q.percent),
            Cell::from(q.expected_by_now),
            Cell::from(pace_zh(q)),
            Cell::from(q.pipeline.submitted),
            Cell::from(q.pipeline.under_review),
            Cell::from(q.pipeline.predicted_eligible),
            Cell::from(q.pipeline.publicized),
            Cell::from(q.overrides),
        ]))?;
        let blanks = || std::iter::repeat_n(Cell::Empty, 9);
        for (dimension, list) in [
            ("区县 district", &q.by_district),
            ("产业集群 cluster", &q.by_cluster),
        ] {
            for b in list {
                sheet.row(
                    head()
                        .into_iter()
                        .chain([
                            Cell::from(dimension),
                            Cell::from(b.code.as_str()),
                            Cell::from(format!("{} {}", b.name, b.name_en)),
                            Cell::Empty,
                            Cell::from(b.achieved),
                        ])
                        .chain(blanks()),
                )?;
            }
        }
        for m in &r.monthly {
            let n = m.cumulative.get(&q.id.to_string()).copied().unwrap_or(0);
            sheet.row(
                head()
                    .into_iter()
                    .chain([
                        Cell::from("月度累计 month"),
                        Cell::from(m.month.as_str()),
                        Cell::from(m.through),
                        Cell::Empty,
                        Cell::from(n),
                    ])
                    .chain(blanks()),
            )?;
        }
    }
    sheet.into_string()
}

/// Sheets: 总览 Summary, 区县 Districts, 产业集群 Clusters, 月度 Monthly.
pub fn to_xlsx(r: &Rollup) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0");
    {
        let ws = wb.add_worksheet();
        ws.set_name("总览 Summary")?;
        let headers = [
            "指标 quota",
            "口径 measure",
            "范围 scope",
            "目标 target",
            "完成 achieved",
            "缺口 gap",
            "完成率% percent",
            "应完成 expected",
            "进度 pace",
            "已提交 submitted",
            "审核中 under review",
            "预计符合 predicted eligible",
            "公示中 publicized",
            "破格通过 overrides",
        ];
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        ws.write_string(0, 15, format!("年度 {} · 报告日期 {}", r.year, r.as_of))?;
        for (i, q) in r.quotas.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write_string(row, 0, format!("{} {}", q.label_zh, q.label_en))?;
            ws.write_string(row, 1, measure_zh(&q.measure))?;
            ws.write_string(row, 2, &q.scope)?;
            ws.write_number(row, 3, q.target as f64)?;
            ws.write_number(row, 4, q.achieved as f64)?;
            ws.write_number(row, 5, q.gap as f64)?;
            ws.write_number_with_format(row, 6, decimal_f64(q.percent), &pct)?;
            ws.write_number_with_format(row, 7, decimal_f64(q.expected_by_now), &pct)?;
            ws.write_string(row, 8, pace_zh(q))?;
            ws.write_number(row, 9, q.pipeline.submitted as f64)?;
            ws.write_number(row, 10, q.pipeline.under_review as f64)?;
            ws.write_number(row, 11, q.pipeline.predicted_eligible as f64)?;
            ws.write_number(row, 12, q.pipeline.publicized as f64)?;
            ws.write_number(row, 13, q.overrides as f64)?;
        }
        ws.set_column_width(0, 42)?;
        ws.set_freeze_panes(1, 1)?;
    }
    for (name, by_district) in [("区县 Districts", true), ("产业集群 Clusters", false)] {
        let ws = wb.add_worksheet();
        ws.set_name(name)?;
        ws.write_string_with_format(0, 0, "代码 code", &bold)?;
        ws.write_string_with_format(0, 1, "名称 name", &bold)?;
        for (j, q) in r.quotas.iter().enumerate() {
            ws.write_string_with_format(
                0,
                j as u16 + 2,
                format!("{} {}", q.label_zh, q.label_en),
                &bold,
            )?;
        }
        let rows = r
            .quotas
            .first()
            .map(|q| {
                if by_district {
                    q.by_district.len()
                } else {
                    q.by_cluster.len()
                }
            })
            .unwrap_or(0);
        for i in 0..rows {
            let row = i as u32 + 1;
            for (j, q) in r.quotas.iter().enumerate() {
                let list = if by_district {
                    &q.by_district
                } else {
                    &q.by_cluster
                };
                if let Some(b) = list.get(i) {
                    if j == 0 {
                        ws.write_string(row, 0, &b.code)?;
                        ws.write_string(row, 1, format!("{} {}", b.name, b.name_en))?;
                    }
                    ws.write_number(row, j as u16 + 2, b.achieved as f64)?;
                }
            }
        }
        let total_row = rows as u32 + 1;
        ws.write_string_with_format(total_row, 1, "合计 total", &bold)?;
        for (j, q) in r.quotas.iter().enumerate() {
            let list = if by_district {
                &q.by_district
            } else {
                &q.by_cluster
            };
            ws.write_number_with_format(
                total_row,
                j as u16 + 2,
                list.iter().map(|b| b.achieved).sum::<i64>() as f64,
                &bold,
            )?;
        }
        ws.set_column_width(1, 30)?;
        ws.set_freeze_panes(1, 2)?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name("月度 Monthly")?;
        ws.write_string_with_format(0, 0, "月份 month", &bold)?;
        for (j, q) in r.quotas.iter().enumerate() {
            ws.write_string_with_format(
                0,
                j as u16 + 1,
                format!("{} {}", q.label_zh, q.label_en),
                &bold,
            )?;
        }
        for (i, m) in r.monthly.iter().enumerate() {
            let row = i as u32 + 1;
            ws.write_string(row, 0, &m.month)?;
            for (j, q) in r.quotas.iter().enumerate() {
                ws.write_number(
                    row,
                    j as u16 + 1,
                    m.cumulative.get(&q.id.to_string()).copied().unwrap_or(0) as f64,
                )?;
            }
        }
        ws.set_freeze_panes(1, 1)?;
    }
    wb.save_to_buffer()
}

/// Spreadsheet cells are binary floats by nature; only display values (one decimal) go there.
fn decimal_f64(d: rust_decimal::Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// Pads `text` to `width` terminal columns, counted by display width (a Chinese character
/// takes two columns), cutting it at a character boundary when it is wider.
fn cell(text: &str, width: usize, right: bool) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut fitted = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = ch.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        used += w;
        fitted.push(ch);
    }
    let pad = " ".repeat(width - used);
    if right { pad + &fitted } else { fitted + &pad }
}

/// A plain-text table for `ladder report`; columns line up in a terminal whatever the script
/// of the labels.
pub fn to_table(r: &Rollup) -> String {
    const COLUMNS: [(usize, bool); 14] = [
        (4, false),
        (34, false),
        (7, false),
        (8, true),
        (8, true),
        (8, true),
        (7, true),
        (9, true),
        (7, false),
        (5, true),
        (5, true),
        (5, true),
        (5, true),
        (5, true),
    ];
    let row = |cells: [String; 14]| -> String {
        let mut line: Vec<String> = cells
            .iter()
            .zip(COLUMNS)
            .map(|(text, (width, right))| cell(text, width, right))
            .collect();
        line.push(String::new());
        line.join(" ").trim_end().to_string() + "\n"
    };
    let mut out = format!("ladder rollup · 年度 {} · 报告日期 {}\n", r.year, r.as_of);
    out.push_str(&row([
        "id", "quota", "measure", "target", "achieved", "gap", "%", "expected", "pace", "sub",
        "rev", "pred", "pub", "ovr",
    ]
    .map(str::to_string)));
    for q in &r.quotas {
        out.push_str(&row([
            q.id.to_string(),
            q.label_zh.clone(),
            q.measure.to_string(),
            q.target.to_string(),
            q.achieved.to_string(),
            q.gap.to_string(),
            q.percent.to_string(),
            q.expected_by_now.to_string(),
            (if q.on_pace { "ok" } else { "behind" }).to_string(),
            q.pipeline.submitted.to_string(),
            q.pipeline.under_review.to_string(),
            q.pipeline.predicted_eligible.to_string(),
            q.pipeline.publicized.to_string(),
            q.overrides.to_string(),
        ]));
    }
    out
}

/// One table as an XLSX workbook of one sheet: numbers as number cells, text as text (a text
/// that looks like a formula stays a string cell).
pub fn table_xlsx(
    name: &str,
    headers: &[&str],
    rows: Vec<Vec<Cell<'_>>>,
) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(name)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, s.as_ref())?;
                }
                Cell::Number(n) => match n.parse::<f64>() {
                    Ok(v) => {
                        ws.write_number(r, c, v)?;
                    }
                    Err(_) => {
                        ws.write_string(r, c, n.as_str())?;
                    }
                },
                Cell::Empty => {}
            }
        }
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::cell;
    use unicode_width::UnicodeWidthStr;

    /// Issue 11 item 12: columns after a Chinese label start at the same terminal column as
    /// after an ASCII one (padding by `char` count put them 1 column right per character).
    #[test]
    fn cells_are_padded_by_display_width() {
        let zh = cell("沈阳专精特新", 16, false) + "|";
        let en = cell("srdi", 16, false) + "|";
        assert_eq!(zh.width(), 17);
        assert_eq!(en.width(), 17);
        assert_eq!(zh.find('|').map(|i| zh[..i].width()), Some(16));
        // Too wide: cut at a whole character, padded to the width.
        assert_eq!(cell("一二三四五", 5, false), "一二 ");
        assert_eq!(cell("7", 3, true), "  7");
    }
}
