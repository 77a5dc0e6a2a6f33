//! Aggregate queries for the rollup. Counting happens in the database: each query returns
//! at most districts × clusters rows, whatever the number of certifications.
//!
//! Raw SQL with numbered placeholders in each backend's spelling (`$n` on PostgreSQL, `?n` on
//! SQLite), so both bind the same values to the same places. Every value is bound — dates,
//! tier codes, the scope — nothing is spliced into the text.

use crate::db::DbConnection;
use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};

/// Which certifications a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Issued in the year up to the day, not revoked by then.
    New,
    /// In force on the day, not revoked by then.
    Active,
}

/// Counts for one district × cluster group at each requested day.
#[derive(Debug, Clone)]
pub struct GroupCounts {
    pub district: String,
    pub cluster: Option<String>,
    pub at: Vec<i64>,
}

#[derive(QueryableByName)]
struct Row13 {
    #[diesel(sql_type = Text)]
    district: String,
    #[diesel(sql_type = Nullable<Text>)]
    cluster: Option<String>,
    #[diesel(sql_type = BigInt)]
    c0: i64,
    #[diesel(sql_type = BigInt)]
    c1: i64,
    #[diesel(sql_type = BigInt)]
    c2: i64,
    #[diesel(sql_type = BigInt)]
    c3: i64,
    #[diesel(sql_type = BigInt)]
    c4: i64,
    #[diesel(sql_type = BigInt)]
    c5: i64,
    #[diesel(sql_type = BigInt)]
    c6: i64,
    #[diesel(sql_type = BigInt)]
    c7: i64,
    #[diesel(sql_type = BigInt)]
    c8: i64,
    #[diesel(sql_type = BigInt)]
    c9: i64,
    #[diesel(sql_type = BigInt)]
    c10: i64,
    #[diesel(sql_type = BigInt)]
    c11: i64,
    #[diesel(sql_type = BigInt)]
    c12: i64,
}

/// Up to 13 days per query: the report date and the month ends before it.
pub const MAX_DAYS: usize = 13;

/// Placeholder `n` (1-based) for the connection's backend.
#[derive(Clone, Copy)]
struct Placeholders {
    postgres: bool,
}

impl Placeholders {
    fn of(conn: &DbConnection) -> Placeholders {
        Placeholders {
            postgres: matches!(conn, DbConnection::Postgres(_)),
        }
    }

    fn at(self, n: usize) -> String {
        if self.postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    }

    /// `count` placeholders from `first` on, comma-separated (an `IN (…)` list).
    fn list(self, first: usize, count: usize) -> String {
        (first..first + count)
            .map(|n| self.at(n))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// ` AND e.district_code = <placeholder n>` when a scope is given.
fn scope_clause(p: Placeholders, scope: Option<&str>, n: usize) -> String {
    match scope {
        Some(_) => format!(" AND e.district_code = {}", p.at(n)),
        None => String::new(),
    }
}

/// The condition "counted on day `n`" for a measure (placeholder 1 is the year's start).
fn counted_on(p: Placeholders, measure: Measure, n: usize) -> String {
    let (start, day) = (p.at(1), p.at(n));
    match measure {
        Measure::New => format!(
            "c.issued_on >= {start} AND c.issued_on <= {day} AND (c.revoked_on IS NULL OR c.revoked_on > {day})"
        ),
        Measure::Active => format!(
            "c.valid_from <= {day} AND c.valid_to >= {day} AND (c.revoked_on IS NULL OR c.revoked_on > {day})"
        ),
    }
}

/// Certifications counted at each of `days` (≤ 13), grouped by district and cluster.
/// `tiers` and `scope` must be validated codes.
pub fn certification_counts(
    conn: &mut DbConnection,
    tiers: &[String],
    scope: Option<&str>,
    measure: Measure,
    year_start: NaiveDate,
    days: &[NaiveDate],
) -> QueryResult<Vec<GroupCounts>> {
    if tiers.is_empty() {
        return Ok(Vec::new());
    }
    let p = Placeholders::of(conn);
    let n = days.len().min(MAX_DAYS);
    let mut sums = Vec::with_capacity(MAX_DAYS);
    for i in 0..MAX_DAYS {
        if i < n {
            sums.push(format!(
                "SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS c{i}",
                counted_on(p, measure, i + 2)
            ));
        } else {
            sums.push(format!("CAST(0 AS BIGINT) AS c{i}"));
        }
    }
    // $1 the year's start, $2..=$(n+1) the days, then the tiers, then the scope.
    let (start, last) = (p.at(1), p.at(n + 1));
    let prefilter = match measure {
        Measure::New => format!("c.issued_on >= {start} AND c.issued_on <= {last}"),
        Measure::Active => format!("c.valid_to >= {start} AND c.valid_from <= {last}"),
    };
    let sql = format!(
        "SELECT e.district_code AS district, e.cluster_code AS cluster, {} \
         FROM certifications c JOIN enterprises e ON e.id = c.enterprise_id \
         WHERE c.tier IN ({}) AND {prefilter}{} \
         GROUP BY e.district_code, e.cluster_code",
        sums.join(", "),
        p.list(n + 2, tiers.len()),
        scope_clause(p, scope, n + 2 + tiers.len())
    );
    let mut q = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Date, _>(year_start);
    for d in &days[..n] {
        q = q.bind::<Date, _>(*d);
    }
    for t in tiers {
        q = q.bind::<Text, _>(t.clone());
    }
    if let Some(s) = scope {
        q = q.bind::<Text, _>(s.to_string());
    }
    let rows: Vec<Row13> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let all = [
                r.c0, r.c1, r.c2, r.c3, r.c4, r.c5, r.c6, r.c7, r.c8, r.c9, r.c10, r.c11, r.c12,
            ];
            GroupCounts {
                district: r.district,
                cluster: r.cluster,
                at: all[..n].to_vec(),
            }
        })
        .collect())
}

/// Which certifications [`count`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Every certification counted on the day: the rollup benchmark's bare aggregate.
    All,
    /// Only those whose approval overrode the pre-screen or a review judgment
    /// (`override_reason` set): the rollup's `overrides`.
    Overrides,
}

/// Certifications counted on `day` (one `COUNT(*)`). `tiers` and `scope` must be validated
/// codes.
pub fn count(
    conn: &mut DbConnection,
    tiers: &[String],
    scope: Option<&str>,
    measure: Measure,
    year_start: NaiveDate,
    day: NaiveDate,
    which: Counted,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    if tiers.is_empty() {
        return Ok(0);
    }
    let p = Placeholders::of(conn);
    let only = match which {
        Counted::All => "",
        Counted::Overrides => "c.override_reason IS NOT NULL AND ",
    };
    // $1 the year's start, $2 the day, then the tiers, then the scope.
    let sql = format!(
        "SELECT COUNT(*) AS n FROM certifications c JOIN enterprises e ON e.id = c.enterprise_id \
         WHERE {only}c.tier IN ({}) AND {}{}",
        p.list(3, tiers.len()),
        counted_on(p, measure, 2),
        scope_clause(p, scope, 3 + tiers.len())
    );
    let mut q = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Date, _>(year_start)
        .bind::<Date, _>(day);
    for t in tiers {
        q = q.bind::<Text, _>(t.clone());
    }
    if let Some(s) = scope {
        q = q.bind::<Text, _>(s.to_string());
    }
    Ok(q.get_result::<N>(conn)?.n)
}

/// Open applications for the tiers and year: (state, pre-screen outcome, count).
pub fn pipeline(
    conn: &mut DbConnection,
    tiers: &[String],
    scope: Option<&str>,
    year: i32,
) -> QueryResult<Vec<(String, Option<String>, i64)>> {
    #[derive(QueryableByName)]
    struct P {
        #[diesel(sql_type = Text)]
        state: String,
        #[diesel(sql_type = Nullable<Text>)]
        prescreen: Option<String>,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    if tiers.is_empty() {
        return Ok(Vec::new());
    }
    let p = Placeholders::of(conn);
    let sql = format!(
        "SELECT a.state AS state, a.prescreen_outcome AS prescreen, COUNT(*) AS n \
         FROM applications a JOIN enterprises e ON e.id = a.enterprise_id \
         WHERE a.tier IN ({}) AND a.year = {} AND a.state IN ('submitted', 'under_review', 'publicized'){} \
         GROUP BY a.state, a.prescreen_outcome",
        p.list(2, tiers.len()),
        p.at(1),
        scope_clause(p, scope, 2 + tiers.len())
    );
    let mut q = diesel::sql_query(sql).into_boxed().bind::<Integer, _>(year);
    for t in tiers {
        q = q.bind::<Text, _>(t.clone());
    }
    if let Some(s) = scope {
        q = q.bind::<Text, _>(s.to_string());
    }
    let rows: Vec<P> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|p| (p.state, p.prescreen, p.n))
        .collect())
}
