//! The one clock. Every "today" the service uses — default `as_of`, submission, decision,
//! certificate and revocation dates, the certificate number's year, the founded-in-the-future
//! check — is the business date in the programme's time zone (Asia/Shanghai, `LADDER_TZ` to
//! change), and every stored instant comes from the same clock. Nothing else in the code reads
//! the system time for business purposes (`Instant` for durations and the JWT library's own
//! expiry check aside).
//!
//! The clock is installed once per process from the configuration, like the audit key
//! ([`install`], called by `Application::prepare`). `LADDER_CLOCK_START` starts it at a given
//! instant and lets it run on from there: rehearsals and tests use it to be at 00:30 on
//! 1 April in Shenyang (2026-03-31T16:30:00Z) without touching the machine's time.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use std::sync::RwLock;

/// The programme's default time zone.
pub const DEFAULT_TZ: Tz = chrono_tz::Asia::Shanghai;

/// A time zone and a fixed shift from the system time (zero unless started at an instant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    tz: Tz,
    shift: TimeDelta,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system(DEFAULT_TZ)
    }
}

impl Clock {
    /// The system time, read in `tz`.
    pub fn system(tz: Tz) -> Clock {
        Clock {
            tz,
            shift: TimeDelta::zero(),
        }
    }

    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: DateTime<Utc>, tz: Tz) -> Clock {
        Clock {
            tz,
            shift: start - Utc::now(),
        }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The current instant.
    pub fn now_utc(&self) -> DateTime<Utc> {
        Utc::now() + self.shift
    }

    /// The current instant as stored (UTC, truncated to microseconds so SQLite and PostgreSQL
    /// store the same value).
    pub fn now(&self) -> NaiveDateTime {
        let t = self.now_utc();
        DateTime::from_timestamp_micros(t.timestamp_micros())
            .map(|d| d.naive_utc())
            .unwrap_or_else(|| t.naive_utc())
    }

    /// The business date now.
    pub fn today(&self) -> NaiveDate {
        self.date_of(self.now_utc())
    }

    /// The business year now.
    pub fn year(&self) -> i32 {
        self.today().year()
    }

    /// The business date of an instant.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }
}

static CLOCK: RwLock<Option<Clock>> = RwLock::new(None);

/// Makes `clock` the process's clock.
pub fn install(clock: Clock) {
    let mut slot = CLOCK.write().unwrap_or_else(|e| e.into_inner());
    *slot = Some(clock);
}

/// The process's clock (the system time in Asia/Shanghai until one is installed).
pub fn get() -> Clock {
    CLOCK
        .read()
        .map(|c| *c)
        .unwrap_or_else(|e| *e.into_inner())
        .unwrap_or_default()
}

/// The business date now, on the process's clock.
pub fn today() -> NaiveDate {
    get().today()
}

/// The current instant as stored, on the process's clock.
pub fn now() -> NaiveDateTime {
    get().now()
}

/// The business year now, on the process's clock.
pub fn year() -> i32 {
    get().year()
}

/// Parses a time-zone name (`Asia/Shanghai`).
/// The date a yearly run or report is taken at when none is given: today while `year` is
/// the current year, else that year's 31 December (a past year is seen whole; a year not yet
/// begun is planned as of its end).
pub fn default_as_of(year: i32) -> NaiveDate {
    let today = today();
    if chrono::Datelike::year(&today) == year {
        today
    } else {
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today)
    }
}

pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| format!("unknown time zone {name:?} (an IANA name such as Asia/Shanghai)"))
}

/// Parses an RFC 3339 instant (`2026-03-31T16:30:00Z`).
pub fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is not an RFC 3339 instant (2026-03-31T16:30:00Z): {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        parse_instant(s).unwrap()
    }

    #[test]
    fn half_past_midnight_on_1_april_in_shenyang_is_1_april() {
        let c = Clock::system(DEFAULT_TZ);
        let t = at("2026-03-31T16:30:00Z");
        assert_eq!(c.date_of(t), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        // The same instant in UTC is still 31 March: the bug this clock fixes.
        assert_eq!(
            t.date_naive(),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
        // One minute before Shenyang's midnight.
        assert_eq!(
            c.date_of(at("2026-03-31T15:59:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
    }

    #[test]
    fn new_years_morning_in_shenyang_is_the_new_year() {
        let c = Clock::system(DEFAULT_TZ);
        assert_eq!(c.date_of(at("2025-12-31T17:00:00Z")).year(), 2026);
    }

    #[test]
    fn a_started_clock_reads_its_start_and_runs_on() {
        let c = Clock::starting_at(at("2026-03-31T16:30:00Z"), DEFAULT_TZ);
        let now = c.now_utc();
        let drift = now - at("2026-03-31T16:30:00Z");
        assert!(
            drift >= TimeDelta::zero() && drift < TimeDelta::seconds(60),
            "{drift}"
        );
        assert_eq!(c.today(), NaiveDate::from_ymd_opt(2026, 4, 1).unwrap());
        assert_eq!(c.year(), 2026);
    }

    #[test]
    fn another_zone_gives_another_date() {
        let c = Clock::system(parse_tz("UTC").unwrap());
        assert_eq!(
            c.date_of(at("2026-03-31T16:30:00Z")),
            NaiveDate::from_ymd_opt(2026, 3, 31).unwrap()
        );
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
