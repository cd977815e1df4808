//! Byte counts written with a unit: `"512KiB"`, `"2 MiB"`, `"1GB"`, `"4096"`.
//!
//! Binary units (KiB, MiB, GiB) are powers of 1024 and decimal ones (kB, MB, GB)
//! powers of 1000, spelled exactly so: a budget is a promise about memory, and
//! guessing whether "KB" meant 1000 or 1024 would break it silently.

/// The units accepted after the number, with their size in bytes.
const UNITS: [(&str, u64); 7] = [
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
    ("kB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
];

/// Parses a whole number of units; the error says what was expected.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let unit = unit.trim();
    let count: u64 = digits.parse().map_err(|_| {
        format!(
            "expected a whole number followed by a unit ({})",
            unit_names()
        )
    })?;
    let scale = if unit.is_empty() {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| *name == unit)
            .map(|(_, scale)| *scale)
            .ok_or_else(|| format!("unknown unit {unit:?}: use one of {}", unit_names()))?
    };
    count
        .checked_mul(scale)
        .ok_or_else(|| "too large for a 64-bit byte count".to_string())
}

fn unit_names() -> String {
    UNITS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_scale_as_named() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_bytes("2 MiB"), Ok(2 << 20));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert_eq!(parse_bytes("3kB"), Ok(3000));
        assert_eq!(parse_bytes("7MB"), Ok(7_000_000));
        assert_eq!(parse_bytes("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("10B"), Ok(10));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(parse_bytes("KiB").unwrap_err().contains("whole number"));
        assert!(parse_bytes("1.5MiB")
            .unwrap_err()
            .contains("unknown unit \".5MiB\""));
        assert!(parse_bytes("2KB")
            .unwrap_err()
            .contains("unknown unit \"KB\""));
        assert!(parse_bytes("-1").is_err());
        assert!(parse_bytes("99999999999GiB")
            .unwrap_err()
            .contains("too large"));
    }
}
