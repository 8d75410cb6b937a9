//! Where to send someone after they sign in.

/// `next` if it is a path on this site, otherwise `/dashboard`.
///
/// Only a single leading `/` is local: `//host` and `/\host` are read by browsers as
/// another site, and anything with a scheme (`https:`, `javascript:`) is refused.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if is_local_path(path) => path,
        _ => "/dashboard",
    }
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

    #[test]
    fn local_paths_are_kept() {
        for path in ["/dashboard", "/chat/general?x=1", "/"] {
            assert_eq!(safe_next(Some(path)), path);
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
            assert_eq!(safe_next(Some(next)), "/dashboard", "{next:?}");
        }
        assert_eq!(safe_next(None), "/dashboard");
    }
}
