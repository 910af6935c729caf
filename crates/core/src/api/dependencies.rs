//! The Ed-Fi dependencies document (`GET {dependencies_url}`): the order in which resources
//! must be loaded. Entries are `{resource, order, operations}`; those with `Create` are kept,
//! sorted by `order` (stable), and the `/{namespace}/` prefix is stripped for every configured
//! namespace. Endpoints with the same `order` form a dependency level: nothing in a level
//! references anything in the same or a later level.

use serde::Deserialize;
use serde_json::Value;

/// One entry of the dependencies document, as served.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DependencyEntry {
    /// `/ed-fi/students`
    pub resource: String,
    pub order: Value,
    /// `["Create", "Update"]`; absent is read as creatable.
    #[serde(default)]
    pub operations: Option<Vec<String>>,
}

/// An endpoint in dependency order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `students`
    pub name: String,
    /// `ed-fi`
    pub namespace: String,
    /// The dependency `order` (level key) from the document.
    pub order: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    #[error("the dependencies document is not valid JSON: {0}")]
    InvalidJson(String),
    #[error(
        "the dependencies document is not a JSON array of {{resource, order, operations}} entries"
    )]
    NotAnArray,
    #[error("dependencies entry {index}: {message}")]
    InvalidEntry { index: usize, message: String },
}

/// Endpoints in dependency order, with their namespaces and levels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dependencies {
    endpoints: Vec<Endpoint>,
    /// Resources with `Create` whose namespace is not configured (not loadable).
    unconfigured: Vec<String>,
}

impl Dependencies {
    /// Parses the document; `namespaces` are `namespace` and the `namespace_overrides` keys
    /// (see `Config::namespaces`).
    pub fn parse<S: AsRef<str>>(json: &[u8], namespaces: &[S]) -> Result<Self, DependencyError> {
        let value: Value = serde_json::from_slice(strip_bom(json))
            .map_err(|e| DependencyError::InvalidJson(e.to_string()))?;
        let Value::Array(items) = value else {
            return Err(DependencyError::NotAnArray);
        };
        let mut entries = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let entry: DependencyEntry =
                serde_json::from_value(item).map_err(|e| DependencyError::InvalidEntry {
                    index,
                    message: e.to_string(),
                })?;
            entries.push(entry);
        }
        Self::from_entries(&entries, namespaces)
    }

    /// Builds the order from already-parsed entries.
    pub fn from_entries<S: AsRef<str>>(
        entries: &[DependencyEntry],
        namespaces: &[S],
    ) -> Result<Self, DependencyError> {
        let mut creatable: Vec<(i64, &DependencyEntry)> = Vec::new();
        for (index, e) in entries.iter().enumerate() {
            let keep = e
                .operations
                .as_ref()
                .is_none_or(|ops| ops.iter().any(|o| o == "Create"));
            if !keep {
                continue;
            }
            let order = order_of(&e.order).ok_or_else(|| DependencyError::InvalidEntry {
                index,
                message: format!("`order` must be a whole number, got {}", e.order),
            })?;
            creatable.push((order, e));
        }
        // stable: entries of one order keep the document's order
        creatable.sort_by_key(|(order, _)| *order);

        let mut deps = Dependencies::default();
        for (order, e) in creatable {
            let found = namespaces.iter().find_map(|ns| {
                let ns = ns.as_ref();
                e.resource
                    .strip_prefix('/')
                    .and_then(|r| r.strip_prefix(ns))
                    .and_then(|r| r.strip_prefix('/'))
                    .map(|name| (ns, name))
            });
            match found {
                Some((ns, name)) if !name.is_empty() => {
                    if deps.endpoints.iter().all(|x| x.name != name) {
                        deps.endpoints.push(Endpoint {
                            name: name.to_string(),
                            namespace: ns.to_string(),
                            order,
                        });
                    }
                }
                _ => deps.unconfigured.push(e.resource.clone()),
            }
        }
        Ok(deps)
    }

    /// Endpoint names in dependency order.
    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.name.clone()).collect()
    }

    /// Endpoints with namespace and order, in dependency order.
    pub fn endpoint_info(&self) -> &[Endpoint] {
        &self.endpoints
    }

    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    pub fn contains(&self, endpoint: &str) -> bool {
        self.get(endpoint).is_some()
    }

    pub fn get(&self, endpoint: &str) -> Option<&Endpoint> {
        self.endpoints.iter().find(|e| e.name == endpoint)
    }

    /// The namespace the dependencies document gives `endpoint`.
    pub fn namespace_of(&self, endpoint: &str) -> Option<&str> {
        self.get(endpoint).map(|e| e.namespace.as_str())
    }

    /// Resources (`/tpdm/candidates`) skipped because their namespace is not configured.
    pub fn unconfigured_resources(&self) -> &[String] {
        &self.unconfigured
    }

    /// All endpoints grouped into dependency levels (same `order`), in order.
    pub fn levels(&self) -> Vec<Vec<String>> {
        self.levels_of(&self.endpoints())
    }

    /// The dependency levels restricted to `selected` endpoints (empty levels dropped),
    /// each level in dependency order. Names not in the document are ignored.
    pub fn levels_of<S: AsRef<str>>(&self, selected: &[S]) -> Vec<Vec<String>> {
        let mut levels: Vec<Vec<String>> = Vec::new();
        let mut current: Option<i64> = None;
        for e in &self.endpoints {
            if !selected.iter().any(|s| s.as_ref() == e.name) {
                continue;
            }
            if current != Some(e.order) {
                levels.push(Vec::new());
                current = Some(e.order);
            }
            if let Some(level) = levels.last_mut() {
                level.push(e.name.clone());
            }
        }
        levels
    }

    /// `selected` sorted into dependency order (unknown names dropped).
    pub fn sort<S: AsRef<str>>(&self, selected: &[S]) -> Vec<String> {
        self.levels_of(selected).into_iter().flatten().collect()
    }
}

fn order_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    // Reads the shared Ed-Fi fixtures from disk (../shared): native only, wasm32 in node has no
    // filesystem; every test using it is `cfg(not(target_arch = "wasm32"))`.
    #[cfg(not(target_arch = "wasm32"))]
    fn read(name: &str) -> Vec<u8> {
        crate::testing::shared_file(&format!("dependencies/{name}"))
    }

    #[cfg(not(target_arch = "wasm32"))]
    fn check_levels(d: &Dependencies) {
        let levels = d.levels();
        let flat: Vec<String> = levels.iter().flatten().cloned().collect();
        assert_eq!(flat, d.endpoints());
        let orders: Vec<i64> = levels.iter().map(|l| d.get(&l[0]).unwrap().order).collect();
        assert!(orders.windows(2).all(|w| w[0] < w[1]), "{orders:?}");
        for level in &levels {
            let o = d.get(&level[0]).unwrap().order;
            assert!(level.iter().all(|e| d.get(e).unwrap().order == o));
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn ods_7x_ds_5_2() {
        let d = Dependencies::parse(&read("odsapi-7.x_ds-5.2.0_dependencies.json"), &["ed-fi"])
            .unwrap();
        let names = d.endpoints();
        assert_eq!(
            names.len(),
            348,
            "351 entries, 3 Update-only person entries"
        );
        assert_eq!(names[0], "absenceEventCategoryDescriptors");
        assert_eq!(names[1], "academicHonorCategoryDescriptors");
        assert_eq!(names[347], "courseTranscripts");
        assert_eq!(names.iter().position(|n| n == "students"), Some(231));
        assert_eq!(
            names.iter().position(|n| n == "studentSchoolAssociations"),
            Some(296)
        );
        assert_eq!(
            d.get("students").unwrap().order,
            3,
            "the Create entry, not Update at 14"
        );
        assert_eq!(d.get("studentSchoolAssociations").unwrap().order, 13);
        assert_eq!(d.namespace_of("students"), Some("ed-fi"));
        let levels = d.levels();
        assert_eq!(levels.len(), 18);
        assert_eq!(levels[0].len(), 211);
        check_levels(&d);
        assert!(d.unconfigured_resources().is_empty());
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn all_real_documents_parse() {
        for (file, count, levels) in [
            ("odsapi-7.x_ds-4.0.0_dependencies.json", 313, None),
            ("odsapi-7.x_ds-6.0.0_dependencies.json", 454, Some(21)),
            (
                "odsapi_ds-5.x_no-tpdm_dependencies_from-metaed.json",
                339,
                None,
            ),
        ] {
            let d = Dependencies::parse(&read(file), &["ed-fi"]).unwrap();
            assert_eq!(d.len(), count, "{file}");
            if let Some(l) = levels {
                assert_eq!(d.levels().len(), l, "{file}");
            }
            check_levels(&d);
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn tpdm_namespace_of_ods_6_1() {
        let doc = read("odsapi-6.1_ds-4.0.0_dependencies.json");
        let edfi_only = Dependencies::parse(&doc, &["ed-fi"]).unwrap();
        assert_eq!(edfi_only.len(), 313);
        assert_eq!(edfi_only.unconfigured_resources().len(), 33);
        let both = Dependencies::parse(&doc, &["ed-fi", "tpdm"]).unwrap();
        assert_eq!(both.len(), 346);
        assert_eq!(
            both.endpoints().iter().position(|n| n == "students"),
            Some(224)
        );
        assert_eq!(both.namespace_of("candidates"), Some("tpdm"));
        assert_eq!(both.namespace_of("students"), Some("ed-fi"));
        assert!(both.unconfigured_resources().is_empty());
        check_levels(&both);
    }

    #[test]
    fn stable_sort_and_filtering() {
        let doc = br#"[
            {"resource": "/ed-fi/b", "order": 2, "operations": ["Create", "Update"]},
            {"resource": "/ed-fi/a", "order": 1, "operations": ["Create"]},
            {"resource": "/ed-fi/z", "order": 2, "operations": ["Create"]},
            {"resource": "/ed-fi/a", "order": 9, "operations": ["Update"]},
            {"resource": "/ed-fi/c", "order": 1},
            {"resource": "/other/x", "order": 1, "operations": ["Create"]},
            {"resource": "/ed-fi/y", "order": 3.0, "operations": ["Create"]}
        ]"#;
        let d = Dependencies::parse(doc, &["ed-fi", "ed-fi"]).unwrap();
        assert_eq!(d.endpoints(), vec!["a", "c", "b", "z", "y"]);
        assert_eq!(d.levels(), vec![vec!["a", "c"], vec!["b", "z"], vec!["y"]]);
        assert_eq!(d.levels_of(&["z", "a", "nope"]), vec![vec!["a"], vec!["z"]]);
        assert_eq!(d.sort(&["y", "b", "a"]), vec!["a", "b", "y"]);
        assert_eq!(d.unconfigured_resources(), &["/other/x".to_string()]);
    }

    #[test]
    fn namespace_prefix_must_be_whole_segment() {
        let doc = br#"[{"resource": "/ed-fix/a", "order": 1, "operations": ["Create"]}]"#;
        let d = Dependencies::parse(doc, &["ed-fi"]).unwrap();
        assert!(d.is_empty());
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Dependencies::parse(b"<html>", &["ed-fi"]),
            Err(DependencyError::InvalidJson(_))
        ));
        assert_eq!(
            Dependencies::parse(b"{}", &["ed-fi"]),
            Err(DependencyError::NotAnArray)
        );
        let e = Dependencies::parse(br#"[{"order": 1}]"#, &["ed-fi"]).unwrap_err();
        assert!(
            matches!(e, DependencyError::InvalidEntry { index: 0, .. }),
            "{e}"
        );
        let e = Dependencies::parse(br#"[{"resource": "/ed-fi/a", "order": "x"}]"#, &["ed-fi"])
            .unwrap_err();
        assert!(e.to_string().contains("order"), "{e}");
        assert!(Dependencies::parse(b"\xEF\xBB\xBF[]", &["ed-fi"])
            .unwrap()
            .is_empty());
    }
}
