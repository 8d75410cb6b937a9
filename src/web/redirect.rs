//! Where to send someone after they sign in.

/// `next` if it is a path on this site, or an `http(s)` URL on one of `hosts` (the
/// services behind Hearth's sign-in, `FORWARD_AUTH_HOSTS`); otherwise `/dashboard`.
///
/// Only a single leading `/` is local: `//host` and `/\host` are read by browsers as
/// another site, and anything with another scheme (`javascript:`) is refused. A URL
/// is compared by its parsed host and port, and one carrying a user name or
/// password is refused: `https://allowed@evil` is not `allowed`.
pub fn safe_next<'a>(next: Option<&'a str>, hosts: &[String]) -> &'a str {
    match next {
        Some(path) if is_local_path(path) => path,
        Some(url) if is_allowed_url(url, hosts) => url,
        _ => "/dashboard",
    }
}

fn is_allowed_url(next: &str, hosts: &[String]) -> bool {
    let Ok(url) = url::Url::parse(next) else { return false };
    let Some(host) = url.host_str() else { return false };
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    matches!(url.scheme(), "http" | "https")
        && url.username().is_empty()
        && url.password().is_none()
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(&host))
}

fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    fn safe(next: &str) -> &str {
        safe_next(Some(next), &[])
    }

    #[test]
    fn local_paths_are_kept() {
        for path in ["/dashboard", "/chat/general?x=1", "/"] {
            assert_eq!(safe(path), path);
        }
    }

    #[test]
    fn urls_on_the_services_behind_hearth_are_kept_and_no_others() {
        let hosts = ["tools.example.org".to_owned(), "127.0.0.1:8080".to_owned()];
        for url in ["https://tools.example.org/reports?x=1", "http://127.0.0.1:8080/api-of-yours/"]
        {
            assert_eq!(safe_next(Some(url), &hosts), url);
        }
        for url in [
            "https://evil.example/",
            "https://tools.example.org.evil.example/",
            "https://tools.example.org@evil.example/",
            "https://evil.example@tools.example.org/",
            "http://127.0.0.1:8081/",
            "http://127.0.0.1/",
            "javascript://tools.example.org/%0aalert(1)",
            "https://tools.example.org/\t",
        ] {
            assert_eq!(safe_next(Some(url), &hosts), "/dashboard", "{url}");
        }
    }

    #[test]
    fn anything_else_falls_back_to_the_dashboard() {
        for next in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/\tevil",
            "",
        ] {
            assert_eq!(safe(next), "/dashboard", "{next:?}");
        }
        assert_eq!(safe_next(None, &[]), "/dashboard");
    }
}
