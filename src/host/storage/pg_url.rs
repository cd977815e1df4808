//! PostgreSQL URLs as errors show them: the password, in the userinfo or as a `password=`
//! parameter, masked, so a failed connection can name its URL in logs.

/// `url` with any password replaced by `***`.
pub fn redact(url: &str) -> String {
    let (head, query) = url
        .split_once('?')
        .map_or((url, None), |(h, q)| (h, Some(q)));
    let mut out = redact_userinfo(head);
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => p.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// `scheme://user:secret@host/db` -> `scheme://user:***@host/db`. The userinfo ends at the
/// last `@` of the authority (a password's own `@` must be percent-encoded, but a last `@`
/// is also what libpq takes).
fn redact_userinfo(head: &str) -> String {
    let Some((scheme, rest)) = head.split_once("://") else {
        return head.to_string();
    };
    let Some(at) = rest.rfind('@') else {
        return head.to_string();
    };
    let (userinfo, host) = rest.split_at(at);
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{host}"),
        None => head.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_masked_wherever_the_url_puts_them() {
        let cases = [
            (
                "postgres://u:s3cr3t@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgresql://u:a/b@c@h/db", "postgresql://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            (
                "postgres://h/db?user=u&password=x&sslmode=disable",
                "postgres://h/db?user=u&password=***&sslmode=disable",
            ),
            (
                "postgres://u:p@h/db?PASSWORD=y",
                "postgres://u:***@h/db?PASSWORD=***",
            ),
        ];
        for (url, shown) in cases {
            assert_eq!(redact(url), shown, "{url}");
            assert!(!redact(url).contains("s3cr3t"));
        }
    }
}
