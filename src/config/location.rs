//! Turning a TOML parser error into `line:column` and, where the line shows it,
//! the dotted key it is about (`window.colour`), so a refusal of an unknown key
//! or a wrong type names both the key and where it is written.

/// 1-based line and column of byte `offset` in `text` (column counts characters).
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The dotted key written on `line` (1-based): the last `[table]` header above it
/// joined with the `key =` on that line, or the header itself when the line is
/// one. `None` when the line shows no plain key (inside a multi-line array, say):
/// a guess would mislead more than no key at all.
pub(crate) fn dotted_key_at(text: &str, line: usize) -> Option<String> {
    let mut table: Option<String> = None;
    for (i, raw_line) in text.lines().enumerate() {
        let trimmed = raw_line.trim();
        let header = table_header(trimmed);
        if i + 1 == line {
            return match header {
                Some(h) => Some(h),
                None => plain_key(trimmed).map(|k| match &table {
                    Some(t) => format!("{t}.{k}"),
                    None => k,
                }),
            };
        }
        if header.is_some() {
            table = header;
        }
    }
    None
}

/// `[a.b]` or `[[a.b]]` → `a.b`, if the line is a well-formed header.
fn table_header(line: &str) -> Option<String> {
    let inner = line.strip_prefix('[')?;
    let inner = inner.strip_prefix('[').unwrap_or(inner);
    let end = inner.find(']')?;
    let name = inner[..end].trim();
    is_plain_key(name).then(|| name.to_string())
}

/// `key = value` → `key` (bare or dotted keys only).
fn plain_key(line: &str) -> Option<String> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    is_plain_key(key).then(|| key.to_string())
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "profile = \"p\"\n\n[window]\nseconds = 5\n  colour = 3\n[sources.imu]\npath = [\n  1,\n]\n";

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_column(TEXT, 0), (1, 1));
        let at = TEXT.find("colour").unwrap();
        assert_eq!(line_column(TEXT, at), (5, 3));
        assert_eq!(line_column("é = 1", 3), (1, 3));
    }

    #[test]
    fn key_is_joined_with_its_table() {
        assert_eq!(dotted_key_at(TEXT, 1).as_deref(), Some("profile"));
        assert_eq!(dotted_key_at(TEXT, 5).as_deref(), Some("window.colour"));
        assert_eq!(dotted_key_at(TEXT, 6).as_deref(), Some("sources.imu"));
        assert_eq!(dotted_key_at(TEXT, 7).as_deref(), Some("sources.imu.path"));
    }

    #[test]
    fn no_key_where_the_line_shows_none() {
        assert_eq!(dotted_key_at(TEXT, 2), None);
        assert_eq!(dotted_key_at(TEXT, 8), None);
        assert_eq!(dotted_key_at(TEXT, 99), None);
    }
}
