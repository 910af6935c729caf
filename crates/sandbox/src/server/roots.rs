//! The route roots of an ODS/API 7.x: a tenant (`--tenants`, multi-tenancy) and a context
//! (`--contexts`, context-based routing for year-specific ODS instances) before every route,
//! `/{tenant}/{context}/data/v3/...`, each tenant and context its own database.
//!
//! As the ODS/API does: once configured, a segment is required on every route (a missing or
//! unknown one is 404), except discovery at the API's root, whose URLs then carry the route
//! templates `{tenantIdentifier}` and `{schoolYearFromRoute}` (Ed-Fi-ODS `VersionController`).

use super::state::{Sandbox, ServeConfig};
use axum::http::{Method, Request, Uri};

/// A request's tenant and context, taken off its path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Root {
    pub tenant: Option<String>,
    pub context: Option<String>,
}

/// The route template of a context segment discovery shows at the API's root.
pub(super) const CONTEXT_TEMPLATE: &str = "{schoolYearFromRoute}";
/// ... as the DMS names it.
pub(super) const DMS_CONTEXT_TEMPLATE: &str = "{schoolYear}";
/// ... and of a tenant segment.
pub(super) const TENANT_TEMPLATE: &str = "{tenantIdentifier}";

impl Root {
    /// The root's path, `/{tenant}/{context}` (templates where this request gave none; empty
    /// without tenants and contexts).
    pub fn path(&self, cfg: &ServeConfig) -> String {
        let mut p = String::new();
        if !cfg.tenants.is_empty() {
            p.push('/');
            p.push_str(self.tenant.as_deref().unwrap_or(TENANT_TEMPLATE));
        }
        if !cfg.contexts.is_empty() {
            p.push('/');
            let template = if cfg.dms {
                DMS_CONTEXT_TEMPLATE
            } else {
                CONTEXT_TEMPLATE
            };
            p.push_str(self.context.as_deref().unwrap_or(template));
        }
        p
    }

    /// The root's URL: the sandbox's base URL, then [`Root::path`].
    pub fn url(&self, sb: &Sandbox) -> String {
        format!("{}{}", sb.base(), self.path(&sb.cfg))
    }

    /// The database of this root (with an instance/year prefix of the data route), as
    /// `/_sandbox/stats` names it: `tenant:a/context:2025`, the prefix after them.
    pub fn store_key(&self, prefix: &str) -> String {
        let tenant = self.tenant.as_ref().map(|t| format!("tenant:{t}"));
        let context = self.context.as_ref().map(|c| format!("context:{c}"));
        [tenant, context, Some(prefix.to_string())]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Takes the root off `req`'s path (the rest of the path stays in its URI). `None`: the path
/// lacks a configured segment or names an unknown one (404).
pub(super) fn take_root<B>(cfg: &ServeConfig, req: &mut Request<B>) -> Option<Root> {
    if cfg.tenants.is_empty() && cfg.contexts.is_empty() {
        return Some(Root::default());
    }
    let path = req.uri().path().to_string();
    // the sandbox's own pages and CORS preflights have no root
    if path.starts_with("/_sandbox/") || req.method() == Method::OPTIONS {
        return Some(Root::default());
    }
    let mut rest = path.as_str();
    let mut root = Root::default();
    for (names, slot) in [
        (&cfg.tenants, &mut root.tenant),
        (&cfg.contexts, &mut root.context),
    ] {
        if names.is_empty() {
            continue;
        }
        let trimmed = rest.trim_start_matches('/');
        let (segment, after) = trimmed.split_at(trimmed.find('/').unwrap_or(trimmed.len()));
        if names.iter().any(|n| n == segment) {
            *slot = Some(segment.to_string());
            rest = after;
        } else if trimmed.is_empty() {
            // discovery at a root that lacks this segment: its URLs show the template
            break;
        } else {
            return None;
        }
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let mut parts = req.uri().clone().into_parts();
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    parts.path_and_query = format!("{rest}{query}").parse().ok();
    *req.uri_mut() = Uri::from_parts(parts).ok()?;
    Some(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(tenants: &[&str], contexts: &[&str]) -> ServeConfig {
        let mut c = ServeConfig::for_tests();
        c.tenants = tenants.iter().map(|s| s.to_string()).collect();
        c.contexts = contexts.iter().map(|s| s.to_string()).collect();
        c
    }

    fn take(cfg: &ServeConfig, path: &str) -> Option<(Root, String)> {
        let mut req = Request::get(path).body(()).unwrap();
        take_root(cfg, &mut req).map(|r| (r, req.uri().to_string()))
    }

    fn root(t: Option<&str>, c: Option<&str>) -> Root {
        Root {
            tenant: t.map(str::to_string),
            context: c.map(str::to_string),
        }
    }

    #[test]
    fn tenants_and_contexts_come_off_the_path_and_are_required() {
        let c = cfg(&["a", "b"], &["2024", "2025"]);
        assert_eq!(
            take(&c, "/b/2025/data/v3/ed-fi/students?limit=1"),
            Some((
                root(Some("b"), Some("2025")),
                "/data/v3/ed-fi/students?limit=1".into()
            ))
        );
        assert_eq!(
            take(&c, "/a/2024/"),
            Some((root(Some("a"), Some("2024")), "/".into()))
        );
        assert_eq!(
            take(&c, "/a/2024"),
            Some((root(Some("a"), Some("2024")), "/".into()))
        );
        // discovery at the API's root and at a tenant's root: templates
        assert_eq!(take(&c, "/"), Some((root(None, None), "/".into())));
        assert_eq!(take(&c, "/a/"), Some((root(Some("a"), None), "/".into())));
        assert_eq!(root(Some("a"), None).path(&c), "/a/{schoolYearFromRoute}");
        // anything else without its segments, or with unknown ones: 404
        for p in [
            "/data/v3/ed-fi/students",
            "/a/data/v3/ed-fi/students",
            "/c/2024/",
            "/a/2023/",
        ] {
            assert_eq!(take(&c, p), None, "{p}");
        }
        assert_eq!(
            take(&c, "/_sandbox/stats"),
            Some((root(None, None), "/_sandbox/stats".into()))
        );
        // contexts only
        let c = cfg(&[], &["2025"]);
        assert_eq!(
            take(&c, "/2025/oauth/token"),
            Some((root(None, Some("2025")), "/oauth/token".into()))
        );
        assert_eq!(root(None, None).path(&c), "/{schoolYearFromRoute}");
        assert_eq!(root(None, Some("2025")).store_key(""), "context:2025");
        assert_eq!(
            root(Some("a"), Some("2025")).store_key("9"),
            "tenant:a/context:2025/9"
        );
        // neither: the path as it is
        let c = cfg(&[], &[]);
        assert_eq!(
            take(&c, "/data/v3/x/y"),
            Some((Root::default(), "/data/v3/x/y".into()))
        );
        assert_eq!(Root::default().store_key("2025"), "2025");
    }
}
