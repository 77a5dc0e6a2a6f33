//! Aggregate queries for the rollup. Counting happens in the database: each query returns
//! at most districts × clusters rows, whatever the number of certifications.
//!
//! Raw SQL, written once with PostgreSQL's numbered `$n` placeholders; on SQLite they become
//! `?n`, its numbered form, so both bind the same values to the same places. Tier codes and
//! the scope are checked against the reference tables before they are spliced in.

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

/// The SQL text for the connection's backend (see the module note on placeholders).
fn for_backend(conn: &DbConnection, sql: String) -> String {
    match conn {
        DbConnection::Postgres(_) => sql,
        DbConnection::Sqlite(_) => sql.replace('$', "?"),
    }
}

fn in_list(tiers: &[String]) -> String {
    tiers
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn scope_clause(scope: Option<&str>) -> String {
    match scope {
        Some(s) => format!(" AND e.district_code = '{}'", s.replace('\'', "")),
        None => String::new(),
    }
}

/// The condition "counted on day $n" for a measure.
fn counted_on(measure: Measure, n: usize) -> String {
    match measure {
        Measure::New => format!(
            "c.issued_on >= $1 AND c.issued_on <= ${n} AND (c.revoked_on IS NULL OR c.revoked_on > ${n})"
        ),
        Measure::Active => {
            format!(
                "c.valid_from <= ${n} AND c.valid_to >= ${n} AND (c.revoked_on IS NULL OR c.revoked_on > ${n})"
            )
        }
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
    let n = days.len().min(MAX_DAYS);
    let mut sums = Vec::with_capacity(MAX_DAYS);
    for i in 0..MAX_DAYS {
        if i < n {
            sums.push(format!(
                "SUM(CASE WHEN {} THEN 1 ELSE 0 END) AS c{i}",
                counted_on(measure, i + 2)
            ));
        } else {
            sums.push(format!("CAST(0 AS BIGINT) AS c{i}"));
        }
    }
    let last = n + 1;
    let prefilter = match measure {
        Measure::New => format!("c.issued_on >= $1 AND c.issued_on <= ${last}"),
        Measure::Active => format!("c.valid_to >= $1 AND c.valid_from <= ${last}"),
    };
    let sql = format!(
        "SELECT e.district_code AS district, e.cluster_code AS cluster, {} \
         FROM certifications c JOIN enterprises e ON e.id = c.enterprise_id \
         WHERE c.tier IN ({}) AND {prefilter}{} \
         GROUP BY e.district_code, e.cluster_code",
        sums.join(", "),
        in_list(tiers),
        scope_clause(scope)
    );
    let mut q = diesel::sql_query(for_backend(conn, sql))
        .into_boxed()
        .bind::<Date, _>(year_start);
    for d in &days[..n] {
        q = q.bind::<Date, _>(*d);
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

/// The bare aggregate: certifications counted on one day. The benchmark's baseline.
pub fn bare_count(
    conn: &mut DbConnection,
    tiers: &[String],
    scope: Option<&str>,
    measure: Measure,
    year_start: NaiveDate,
    day: NaiveDate,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let sql = format!(
        "SELECT COUNT(*) AS n FROM certifications c JOIN enterprises e ON e.id = c.enterprise_id \
         WHERE c.tier IN ({}) AND {}{}",
        in_list(tiers),
        counted_on(measure, 2),
        scope_clause(scope)
    );
    let r: N = diesel::sql_query(for_backend(conn, sql))
        .bind::<Date, _>(year_start)
        .bind::<Date, _>(day)
        .get_result(conn)?;
    Ok(r.n)
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
    let sql = format!(
        "SELECT a.state AS state, a.prescreen_outcome AS prescreen, COUNT(*) AS n \
         FROM applications a JOIN enterprises e ON e.id = a.enterprise_id \
         WHERE a.tier IN ({}) AND a.year = $1 AND a.state IN ('submitted', 'under_review'){} \
         GROUP BY a.state, a.prescreen_outcome",
        in_list(tiers),
        scope_clause(scope)
    );
    let rows: Vec<P> = diesel::sql_query(for_backend(conn, sql))
        .bind::<Integer, _>(year)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|p| (p.state, p.prescreen, p.n))
        .collect())
}
