//! How times read on pages: "3 minutes ago", "2 December 2026". One wording
//! everywhere, so the dashboard and the administrator's page agree.

/// How long ago `then` was, at `now` (Unix seconds), in the largest whole unit.
pub fn ago(now: i64, then: i64) -> String {
    let secs = (now - then).max(0);
    match secs {
        0..60 => "just now".into(),
        60..3600 => plural(secs / 60, "minute"),
        3600..86_400 => plural(secs / 3600, "hour"),
        _ => plural(secs / 86_400, "day"),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 { format!("1 {unit} ago") } else { format!("{n} {unit}s ago") }
}

/// The calendar date of `unix` (UTC), as "2 December 2026".
pub fn date(unix: i64) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:long] [year]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// `unix` as RFC 3339, for a `<time datetime>`.
pub fn iso(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The date and time of day of `unix` (UTC), as "2 December 2026, 14:05".
pub fn date_and_clock(unix: i64) -> String {
    let format = time::macros::format_description!(
        "[day padding:none] [month repr:long] [year], [hour]:[minute]"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(ago(1000, 1000), "just now");
        assert_eq!(ago(1000, 880), "2 minutes ago");
        assert_eq!(ago(4000, 400), "1 hour ago");
        assert_eq!(ago(7300, 0), "2 hours ago");
        assert_eq!(ago(200_000, 0), "2 days ago");
        assert_eq!(ago(0, 50), "just now", "a clock step back is not the future");
    }

    #[test]
    fn dates_read_as_written() {
        assert_eq!(date(1_796_169_600), "2 December 2026");
    }
}
