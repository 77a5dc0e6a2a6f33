//! The one CSV writer: every CSV the service produces (the `ladder evaluate` sheet, the rollup,
//! any later export) goes through [`Sheet`], built on the `csv` crate for quoting.
//!
//! A spreadsheet program runs a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
//! return as a formula, so a self-registered enterprise named `=HYPERLINK(…)` would reach an
//! official's desktop as code. Every *text* cell that begins with one of them is written with a
//! leading `'` (API.md "Exports"). Whether a cell is text or a number is decided by its Rust
//! type ([`Cell`]), never by looking at the content: `-1.5` from a `Decimal` stays a number,
//! `-1+1` from a name is neutralised.

use rust_decimal::Decimal;
use std::borrow::Cow;
use std::io::{self, Write};

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_LEAD: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `s` as a text cell a spreadsheet will not evaluate: a leading `'` before a formula lead.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if s.starts_with(FORMULA_LEAD) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// One cell, typed: text is neutralised, numbers are written as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell<'a> {
    Text(Cow<'a, str>),
    /// Only built from numeric types (see the `From` impls), so its text is a number.
    Number(String),
    Empty,
}

impl<'a> Cell<'a> {
    pub fn text(s: impl Into<Cow<'a, str>>) -> Self {
        Cell::Text(s.into())
    }

    /// The bytes this cell contributes to the row (before the csv crate's quoting).
    fn render(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(s) => neutralise(s),
            Cell::Number(n) => Cow::Borrowed(n),
            Cell::Empty => Cow::Borrowed(""),
        }
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Self {
        Cell::Text(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for Cell<'a> {
    fn from(s: &'a String) -> Self {
        Cell::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Cell<'_> {
    fn from(s: String) -> Self {
        Cell::Text(Cow::Owned(s))
    }
}

impl From<chrono::NaiveDate> for Cell<'_> {
    fn from(d: chrono::NaiveDate) -> Self {
        Cell::Text(Cow::Owned(d.to_string()))
    }
}

macro_rules! number_cell {
    ($($t:ty),*) => {$(
        impl From<$t> for Cell<'_> {
            fn from(n: $t) -> Self {
                Cell::Number(n.to_string())
            }
        }
    )*};
}
number_cell!(i32, i64, u32, u64, usize, Decimal);

impl<'a, T: Into<Cell<'a>>> From<Option<T>> for Cell<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A CSV file being written: a UTF-8 byte-order mark (so spreadsheet programs read the Chinese
/// headers as UTF-8), the header row, then typed rows.
pub struct Sheet<W: Write> {
    out: csv::Writer<W>,
}

impl<W: Write> Sheet<W> {
    pub fn new(mut out: W, headers: &[&str]) -> io::Result<Self> {
        out.write_all("\u{feff}".as_bytes())?;
        let mut sheet = Sheet {
            out: csv::WriterBuilder::new().from_writer(out),
        };
        sheet.row(headers.iter().map(|h| Cell::from(*h)))?;
        Ok(sheet)
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = Cell<'a>>) -> io::Result<()> {
        let cells: Vec<Cell<'a>> = cells.into_iter().collect();
        self.out
            .write_record(cells.iter().map(|c| c.render().into_owned()))?;
        Ok(())
    }

    /// Flushes and hands back the destination.
    pub fn finish(self) -> io::Result<W> {
        self.out
            .into_inner()
            .map_err(|e| io::Error::other(e.error().to_string()))
    }
}

impl Sheet<Vec<u8>> {
    pub fn in_memory(headers: &[&str]) -> io::Result<Self> {
        Sheet::new(Vec::new(), headers)
    }

    pub fn into_string(self) -> io::Result<String> {
        String::from_utf8(self.finish()?).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Vec<String>> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        rdr.records()
            .map(|r| {
                r.map(|r| r.iter().map(str::to_string).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn formula_leading_text_gets_a_quote_and_numbers_do_not() {
        let names = [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|' /C calc'!A0",
            "@SUM(1)",
            "-1+1",
            "\tTAB",
            "\r=1",
            "plain, with \"quotes\"\nand a newline",
        ];
        let mut s = Sheet::in_memory(&["name", "n", "d"]).unwrap();
        for n in names {
            s.row([
                Cell::from(n),
                Cell::from(-3i64),
                Cell::from(Decimal::new(-15, 1)),
            ])
            .unwrap();
        }
        let text = s.into_string().unwrap();
        assert!(text.starts_with('\u{feff}'));
        let rows = parse(&text);
        assert_eq!(rows[0], ["name", "n", "d"]);
        let got: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            got,
            [
                "'=HYPERLINK(\"http://x\",\"y\")",
                "'+cmd|' /C calc'!A0",
                "'@SUM(1)",
                "'-1+1",
                "'\tTAB",
                "'\r=1",
                "plain, with \"quotes\"\nand a newline",
            ]
        );
        for r in &rows[1..] {
            assert_eq!(r[1], "-3");
            assert_eq!(r[2], "-1.5");
        }
    }

    #[test]
    fn empty_and_optional_cells() {
        let mut s = Sheet::in_memory(&["a", "b"]).unwrap();
        s.row([Cell::from(None::<i32>), Cell::from(Some("x"))])
            .unwrap();
        let rows = parse(&s.into_string().unwrap());
        assert_eq!(rows[1], ["", "x"]);
    }
}
