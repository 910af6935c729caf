//! `-s/--selector` and `-e/--exclude` (endpoints), `-k/--keep-keys` and `-d/--drop-keys`
//! (payload keys for `fetch`): comma lists of names with a `*` wildcard at either end
//! (`student*`, `*Descriptors`, `*Association*`, `*`). Python `util.apply_selections` /
//! `keys_match`, without its quirks (see the module tests).

/// One pattern of a comma list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `*` (or only stars): everything.
    Any,
    Exact(String),
    /// `student*`
    Prefix(String),
    /// `*Descriptors`
    Suffix(String),
    /// `*Association*`
    Contains(String),
}

impl Pattern {
    pub fn parse(text: &str) -> Pattern {
        let t = text.trim();
        let starts = t.starts_with('*');
        let ends = t.ends_with('*');
        let core = t.trim_matches('*');
        if core.is_empty() {
            return if t.is_empty() {
                Pattern::Exact(String::new())
            } else {
                Pattern::Any
            };
        }
        match (starts, ends) {
            (true, true) => Pattern::Contains(core.to_string()),
            (true, false) => Pattern::Suffix(core.to_string()),
            (false, true) => Pattern::Prefix(core.to_string()),
            (false, false) => Pattern::Exact(core.to_string()),
        }
    }

    pub fn matches(&self, key: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(s) => key == s,
            Pattern::Prefix(s) => key.starts_with(s.as_str()),
            Pattern::Suffix(s) => key.ends_with(s.as_str()),
            Pattern::Contains(s) => key.contains(s.as_str()),
        }
    }
}

/// Splits a comma list into its (trimmed, non-empty) items.
pub fn split_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `key` matches the (possibly wildcarded) `pattern` (Python `keys_match`, plus
/// `*x*` meaning "contains").
pub fn keys_match(key: &str, pattern: &str) -> bool {
    Pattern::parse(pattern).matches(key)
}

/// The `keys` (in their order, each once) that match any `keep` pattern and no `drop`
/// pattern. An empty `keep` keeps everything.
pub fn apply_selections<S: AsRef<str>>(
    keys: &[S],
    keep: &[String],
    drop: &[String],
) -> Vec<String> {
    let keep: Vec<Pattern> = keep.iter().map(|p| Pattern::parse(p)).collect();
    let drop: Vec<Pattern> = drop.iter().map(|p| Pattern::parse(p)).collect();
    let mut out: Vec<String> = Vec::new();
    for key in keys {
        let key = key.as_ref();
        let kept = keep.is_empty() || keep.iter().any(|p| p.matches(key));
        let dropped = drop.iter().any(|p| p.matches(key));
        if kept && !dropped && !out.iter().any(|k| k == key) {
            out.push(key.to_string());
        }
    }
    out
}

/// Errors of endpoint selection; messages modelled on the Python tool's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    #[error("no match for selector(s) [{}] to any endpoint in your API; check for typos?{}", .patterns.join(", "), hints(.suggestions))]
    UnmatchedSelector {
        patterns: Vec<String>,
        /// `(pattern, endpoint)` pairs that differ only in letter case.
        suggestions: Vec<(String, String)>,
    },
    #[error("no match for exclude selector(s) [{}] to any endpoint in your API; check for typos?{}", .patterns.join(", "), hints(.suggestions))]
    UnmatchedExclude {
        patterns: Vec<String>,
        suggestions: Vec<(String, String)>,
    },
    #[error("selector filtering left no endpoints to process; check your selector for typos?")]
    NothingSelected,
}

fn hints(suggestions: &[(String, String)]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let list: Vec<String> = suggestions
        .iter()
        .map(|(p, e)| format!("{e} for {p}"))
        .collect();
    format!(" (did you mean {}?)", list.join(", "))
}

fn unmatched<S: AsRef<str>>(
    endpoints: &[S],
    patterns: &[String],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut missing = Vec::new();
    let mut suggestions = Vec::new();
    for p in patterns {
        let pattern = Pattern::parse(p);
        if endpoints.iter().any(|e| pattern.matches(e.as_ref())) {
            continue;
        }
        missing.push(p.clone());
        let lower = Pattern::parse(&p.to_lowercase());
        if let Some(e) = endpoints
            .iter()
            .find(|e| lower.matches(&e.as_ref().to_lowercase()))
        {
            suggestions.push((p.clone(), e.as_ref().to_string()));
        }
    }
    (missing, suggestions)
}

/// Selects endpoints (kept in their dependency order) with `-s` and `-e` comma lists.
/// `selector` empty or `*` selects all. Every selector and exclude item must match at least
/// one endpoint (a typo is an error, not a silent no-op), and something must be left.
/// Apply it to all endpoints of the API, not only those with data.
pub fn select_endpoints<S: AsRef<str>>(
    endpoints: &[S],
    selector: &str,
    exclude: &str,
) -> Result<Vec<String>, SelectorError> {
    let keep = split_list(selector);
    let drop = split_list(exclude);
    let (patterns, suggestions) = unmatched(endpoints, &keep);
    if !patterns.is_empty() {
        return Err(SelectorError::UnmatchedSelector {
            patterns,
            suggestions,
        });
    }
    let (patterns, suggestions) = unmatched(endpoints, &drop);
    if !patterns.is_empty() {
        return Err(SelectorError::UnmatchedExclude {
            patterns,
            suggestions,
        });
    }
    let selected = apply_selections(endpoints, &keep, &drop);
    if selected.is_empty() {
        return Err(SelectorError::NothingSelected);
    }
    Ok(selected)
}

/// `-k/--keep-keys` and `-d/--drop-keys` for `fetch`: which top-level keys of a payload to
/// write (`keep` empty or `*` keeps all; patterns that match nothing are fine here).
pub fn select_keys<S: AsRef<str>>(keys: &[S], keep_keys: &str, drop_keys: &str) -> Vec<String> {
    apply_selections(keys, &split_list(keep_keys), &split_list(drop_keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn endpoints() -> Vec<String> {
        [
            "academicSubjectDescriptors",
            "gradeLevelDescriptors",
            "schools",
            "students",
            "studentSchoolAssociations",
            "studentSectionAssociations",
            "sections",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn patterns() {
        assert!(keys_match("gradeLevelDescriptors", "*Descriptors"));
        assert!(keys_match("students", "student*"));
        assert!(keys_match("students", "students"));
        assert!(!keys_match("students", "student"));
        assert!(keys_match("anything", "*"));
        assert!(keys_match("anything", "**"));
        assert!(keys_match("studentSchoolAssociations", "*School*"));
        assert!(!keys_match("students", "*School*"));
        assert_eq!(
            Pattern::parse(" schools "),
            Pattern::Exact("schools".to_string())
        );
    }

    #[test]
    fn select_all_by_default() {
        assert_eq!(select_endpoints(&endpoints(), "", "").unwrap(), endpoints());
        assert_eq!(
            select_endpoints(&endpoints(), "*", "").unwrap(),
            endpoints()
        );
    }

    #[test]
    fn selection_keeps_dependency_order_and_no_duplicates() {
        let got = select_endpoints(&endpoints(), "sections,students,student*", "").unwrap();
        assert_eq!(
            got,
            vec![
                "students",
                "studentSchoolAssociations",
                "studentSectionAssociations",
                "sections"
            ]
        );
    }

    #[test]
    fn exclusion() {
        let got = select_endpoints(&endpoints(), "*", "*Descriptors, *Associations").unwrap();
        assert_eq!(got, vec!["schools", "students", "sections"]);
        // Python's list.remove() dropped only one copy when two selectors matched; not ours
        let got = select_endpoints(&endpoints(), "students,stud*", "students").unwrap();
        assert!(!got.contains(&"students".to_string()));
    }

    #[test]
    fn unmatched_selector_is_an_error() {
        let err = select_endpoints(&endpoints(), "students,studnets", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no match for selector(s) [studnets] to any endpoint in your API; check for typos?"
        );
        let err = select_endpoints(&endpoints(), "Students", "").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no match for selector(s) [Students] to any endpoint in your API; check for typos? (did you mean students for Students?)"
        );
        let err = select_endpoints(&endpoints(), "*", "stafs").unwrap_err();
        assert!(matches!(err, SelectorError::UnmatchedExclude { .. }));
        let err = select_endpoints(&endpoints(), "schools", "schools").unwrap_err();
        assert_eq!(err, SelectorError::NothingSelected);
        let none: Vec<String> = vec![];
        assert!(select_endpoints(&none, "", "").is_err());
    }

    #[test]
    fn keep_and_drop_keys() {
        let keys = [
            "id",
            "schoolId",
            "nameOfInstitution",
            "_etag",
            "_lastModifiedDate",
        ];
        assert_eq!(select_keys(&keys, "*", ""), keys.to_vec());
        assert_eq!(
            select_keys(&keys, "", "id,_*"),
            vec!["schoolId", "nameOfInstitution"]
        );
        assert_eq!(select_keys(&keys, "*Id,id", ""), vec!["id", "schoolId"]);
        assert_eq!(select_keys(&keys, "nothing", ""), Vec::<String>::new());
    }
}
