//! `mmcl classes [--json]`: the classes the running daemon knows, with the windows learned
//! for each and when it was first enrolled (UTC).

use super::control_client::ClientArgs;
use super::CliError;
use crate::control::api::ClassesReport;
use crate::control::protocol::Request;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub client: ClientArgs,
}

pub fn run(args: Args) -> Result<(), CliError> {
    args.client
        .ask(Request::Classes, |r: ClassesReport| render(&r))
}

fn render(report: &ClassesReport) -> String {
    if report.classes.is_empty() {
        return "no classes yet (teach one with `mmcl enroll LABEL`)".to_string();
    }
    let width = report
        .classes
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut lines = vec![format!(
        "{:>5}  {:<width$}  {:>8}  enrolled",
        "label", "name", "windows"
    )];
    for c in &report.classes {
        lines.push(format!(
            "{:>5}  {:<width$}  {:>8}  {}",
            c.label,
            c.name,
            c.windows,
            utc(c.enrolled_at)
        ));
    }
    lines.join("\n")
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS UTC` (the civil-from-days algorithm of
/// H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"; no time-zone data needed).
fn utc(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rest / 3600, rest / 60 % 60, rest % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_milliseconds_read_as_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        // `date -u -d @951782400` (a leap day) and `@1767225599` (a year's last second).
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_767_225_599_999), "2025-12-31 23:59:59 UTC");
    }
}
