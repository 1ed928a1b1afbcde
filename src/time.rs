//! Times and durations as the rules read them (`RULES.md` §2.3).
//!
//! Every time in trailbook is a UTC [`Timestamp`]. Input times must be RFC 3339 with an explicit
//! offset; they are normalised to UTC with their sub-second precision kept. Durations are
//! `"<integer> <unit>"`: seconds, minutes, hours, days and weeks are fixed lengths; months and years
//! are calendar arithmetic in UTC with end-of-month clamping.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use regex::Regex;

static RFC3339: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$")
        .expect("static regex")
});

/// Parses an RFC 3339 time with an explicit offset (`Z` or `±HH:MM`), normalised to UTC.
pub fn parse_rfc3339(s: &str) -> Result<Timestamp, String> {
    if !RFC3339.is_match(s) {
        return Err(format!(
            "`{}` is not an RFC 3339 time (expected e.g. 2026-01-10T09:00:00Z)",
            clip(s, 60)
        ));
    }
    // jiff wants an upper-case `T`; RFC 3339 also allows `t` and a space.
    let normal: String = s
        .char_indices()
        .map(|(i, c)| if i == 10 { 'T' } else { c.to_ascii_uppercase() })
        .collect();
    Timestamp::from_str(&normal).map_err(|e| format!("`{}` is not a valid time: {e}", clip(s, 60)))
}

/// Parses `YYYY-MM-DD` (meaning 00:00:00Z that day) or an RFC 3339 time.
pub fn parse_date_or_time(s: &str) -> Result<Timestamp, String> {
    if s.len() == 10 && s.as_bytes()[4] == b'-' {
        return parse_rfc3339(&format!("{s}T00:00:00Z"));
    }
    parse_rfc3339(s)
}

/// RFC 3339 in UTC with the sub-second digits the time has (none when zero).
pub fn fmt(ts: Timestamp) -> String {
    ts.to_string()
}

/// A time as written in discriminators: `YYYY-MM-DDTHH:MM:SSZ`, truncated to the second.
pub fn fmt_second(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The UTC day of a time: `YYYY-MM-DD`.
pub fn utc_day(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%d").to_string()
}

/// A duration of `RULES.md` §2.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duration {
    /// A fixed number of seconds (s, min, h, d, w).
    Seconds(i64),
    /// Calendar months (months, years × 12), end-of-month clamped.
    Months(i64),
}

impl Duration {
    /// Adds the duration to a time (calendar arithmetic in UTC for months and years).
    pub fn after(self, ts: Timestamp) -> Timestamp {
        match self {
            Duration::Seconds(s) => ts
                .checked_add(Span::new().seconds(s))
                .unwrap_or(Timestamp::MAX),
            Duration::Months(m) => ts
                .to_zoned_datetime(TimeZone::UTC)
                .checked_add(Span::new().months(m))
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MAX),
        }
    }

    /// Subtracts the duration from a time.
    pub fn before(self, ts: Timestamp) -> Timestamp {
        match self {
            Duration::Seconds(s) => ts
                .checked_sub(Span::new().seconds(s))
                .unwrap_or(Timestamp::MIN),
            Duration::Months(m) => ts
                .to_zoned_datetime(TimeZone::UTC)
                .checked_sub(Span::new().months(m))
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::MIN),
        }
    }
}

impl FromStr for Duration {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let bad = || {
            format!(
                "`{s}` is not a duration: write `<integer> <unit>` with a unit of s, min, h, d, w, months or years (e.g. \"6 months\")"
            )
        };
        let n: i64 = num.parse().map_err(|_| bad())?;
        let unit = unit.trim();
        let secs = |k: i64| n.checked_mul(k).map(Duration::Seconds).ok_or_else(bad);
        match unit {
            "s" | "sec" | "second" | "seconds" => secs(1),
            "min" | "minute" | "minutes" => secs(60),
            "h" | "hour" | "hours" => secs(3600),
            "d" | "day" | "days" => secs(86_400),
            "w" | "week" | "weeks" => secs(7 * 86_400),
            "month" | "months" => Ok(Duration::Months(n)),
            "y" | "year" | "years" => n.checked_mul(12).map(Duration::Months).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Duration::Seconds(s) if s % 86_400 == 0 && s != 0 => write!(f, "{} d", s / 86_400),
            Duration::Seconds(s) if s % 3600 == 0 && s != 0 => write!(f, "{} h", s / 3600),
            Duration::Seconds(s) if s % 60 == 0 && s != 0 => write!(f, "{} min", s / 60),
            Duration::Seconds(s) => write!(f, "{s} s"),
            Duration::Months(12) => write!(f, "1 year"),
            Duration::Months(m) if m % 12 == 0 && m != 0 => write!(f, "{} years", m / 12),
            Duration::Months(1) => write!(f, "1 month"),
            Duration::Months(m) => write!(f, "{m} months"),
        }
    }
}

/// A human-readable length of a span between two times, e.g. `3 h 20 min`.
pub fn fmt_span(from: Timestamp, to: Timestamp) -> String {
    let secs = to.as_second() - from.as_second();
    let (sign, secs) = if secs < 0 { ("-", -secs) } else { ("", secs) };
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(format!("{d} d"));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 && d == 0 {
        parts.push(format!("{m} min"));
    }
    if parts.is_empty() {
        parts.push(format!("{s} s"));
    }
    format!("{sign}{}", parts.join(" "))
}

/// Shortens a string for a message, on a character boundary.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        parse_rfc3339(s).unwrap()
    }

    #[test]
    fn rfc3339_offsets_normalise_to_utc_and_keep_fractions() {
        assert_eq!(fmt(t("2026-01-10T10:00:00+01:00")), "2026-01-10T09:00:00Z");
        assert_eq!(
            fmt(t("2026-01-10T09:00:00.123456789Z")),
            "2026-01-10T09:00:00.123456789Z"
        );
        assert_eq!(fmt(t("2026-01-10 09:00:00z")), "2026-01-10T09:00:00Z");
        assert_eq!(
            fmt_second(t("2026-01-10T09:00:00.9Z")),
            "2026-01-10T09:00:00Z"
        );
    }

    #[test]
    fn rejects_non_rfc3339() {
        for bad in [
            "yesterday",
            "2026-01-10",
            "2026-01-10T09:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-10T09:00:00",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_follow_rules_2_3() {
        let d: Duration = "1 month".parse().unwrap();
        assert_eq!(
            fmt(d.after(t("2026-01-31T00:00:00Z"))),
            "2026-02-28T00:00:00Z"
        );
        let d: Duration = "6months".parse().unwrap();
        assert_eq!(d, Duration::Months(6));
        assert_eq!("5 min".parse::<Duration>().unwrap(), Duration::Seconds(300));
        assert_eq!(
            "2 w".parse::<Duration>().unwrap(),
            Duration::Seconds(14 * 86_400)
        );
        assert_eq!("3 years".parse::<Duration>().unwrap(), Duration::Months(36));
        assert!("soon".parse::<Duration>().is_err());
        assert!("5 fortnights".parse::<Duration>().is_err());
        assert!("".parse::<Duration>().is_err());
    }
}
