use super::*;
use crate::config::{ApiMode, Config, LoadOptions};
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn config(base: &str, mode: ApiMode, year: Option<i32>, instance: Option<&str>) -> Config {
    let mut c = Config::from_yaml(
        &format!("edfi_api:\n  base_url: {base}\n"),
        &LoadOptions {
            current_year: Some(2024),
            ..LoadOptions::default()
        },
    )
    .unwrap();
    c.edfi_api.mode = mode;
    c.edfi_api.year = year;
    c.edfi_api.instance_code = instance.map(str::to_string);
    c
}

fn discovery(data: &str, others: &[&str]) -> Value {
    let mut urls = serde_json::Map::new();
    urls.insert("dataManagementApi".into(), json!(data));
    for (i, o) in others.iter().enumerate() {
        urls.insert(format!("u{i}"), json!(o));
    }
    json!({ "urls": urls })
}

fn url(c: &Config, d: &Value) -> String {
    data_url(c, Some(d)).unwrap().0
}

#[test]
fn ods_data_v3_layouts_give_the_python_tools_urls_whatever_year_discovery_shows() {
    // 6.1 year-specific: discovery names 2025; the config's year decides, as in the Python tool
    let d = discovery(
        "https://localhost/v6.1/WebApi/data/v3/2025",
        &["https://localhost/v6.1/WebApi/oauth/token"],
    );
    for (mode, year, expected) in [
        (
            ApiMode::YearSpecific,
            Some(2024),
            "https://localhost/v6.1/WebApi/data/v3/2024",
        ),
        (
            ApiMode::SharedInstance,
            Some(2024),
            "https://localhost/v6.1/WebApi/data/v3",
        ),
    ] {
        let c = config("https://localhost/v6.1/WebApi", mode, year, None);
        assert_eq!(
            data_url(&c, Some(&d)).unwrap(),
            (expected.to_string(), RouteSource::Mode)
        );
    }
    // behind a proxy: discovery names an internal host and path
    let d = discovery(
        "http://ods-internal:8080/data/v3/",
        &["http://ods-internal:8080/oauth/token"],
    );
    let c = config(
        "https://edfi.example.org/api",
        ApiMode::YearSpecific,
        Some(2025),
        None,
    );
    assert_eq!(url(&c, &d), "https://edfi.example.org/api/data/v3/2025");
}

#[test]
fn context_and_tenant_routes_from_discovery() {
    // ODS/API 7.x with a context route, discovery read at the context's root
    let d = discovery(
        "http://h/api/2025/data/v3/",
        &[
            "http://h/api/2025/oauth/token",
            "http://h/api/2025/metadata/",
        ],
    );
    let c = config("http://h/api", ApiMode::YearSpecific, Some(2025), None);
    assert_eq!(
        data_url(&c, Some(&d)).unwrap(),
        (
            "http://h/api/2025/data/v3".to_string(),
            RouteSource::Discovery("2025/data/v3".into())
        )
    );
    // ... and read at the API's root: the template is filled with edfi_api.year
    let d = discovery(
        "http://h/api/{schoolYearFromRoute}/data/v3/",
        &["http://h/api/{schoolYearFromRoute}/oauth/token"],
    );
    let c = config("http://h/api", ApiMode::SharedInstance, Some(2026), None);
    assert_eq!(url(&c, &d), "http://h/api/2026/data/v3");
    assert_eq!(
        fill_url("http://h/api/{schoolYearFromRoute}/oauth/token", &c).unwrap(),
        "http://h/api/2026/oauth/token"
    );
    // a district context and a year: instance_code and year
    let d = discovery(
        "http://h/{instanceId}/{schoolYearFromRoute:range(2000,2099)}/data/v3/",
        &[],
    );
    let c = config(
        "http://h",
        ApiMode::InstanceYearSpecific,
        Some(2025),
        Some("255901"),
    );
    assert_eq!(url(&c, &d), "http://h/255901/2025/data/v3");
    let c = config("http://h", ApiMode::YearSpecific, Some(2025), None);
    let e = data_url(&c, Some(&d)).unwrap_err().0;
    assert!(
        e.contains("{instanceId}") && e.contains("edfi_api.instance_code"),
        "{e}"
    );
    // multi-tenant, read at the root: the tenant cannot be guessed
    let d = discovery(
        "http://h/{tenantIdentifier}/data/v3/",
        &["http://h/{tenantIdentifier}/oauth/token"],
    );
    let e = data_url(
        &config("http://h", ApiMode::SharedInstance, None, None),
        Some(&d),
    )
    .unwrap_err()
    .0;
    assert!(
        e.contains("multi-tenant") && e.contains("http://h/TENANT"),
        "{e}"
    );
    // ... read at the tenant's root (base_url names the tenant)
    let d = discovery(
        "http://h/tenant1/data/v3/",
        &["http://h/tenant1/oauth/token"],
    );
    let c = config("http://h/tenant1", ApiMode::SharedInstance, None, None);
    assert_eq!(url(&c, &d), "http://h/tenant1/data/v3");
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_real_discovery_documents() {
    use crate::testing::shared_file;
    let read = |f: &str| -> Value { serde_json::from_slice(&shared_file(f)).unwrap() };
    let ods53 = read("metadata/odsapi-5.3_discovery.json");
    let c = config(
        "https://example.com/v5.3/api",
        ApiMode::SharedInstance,
        Some(2024),
        None,
    );
    assert_eq!(url(&c, &ods53), "https://example.com/v5.3/api/data/v3");
    let ods73 = read("metadata/odsapi-7.3_discovery_from-docs.json");
    let c = config(
        "https://api.ed-fi.org/v7.3/api/",
        ApiMode::YearSpecific,
        Some(2024),
        None,
    );
    assert_eq!(
        url(&c, &ods73),
        "https://api.ed-fi.org/v7.3/api/data/v3/2024"
    );
    // the DMS: `data`, no /v3, no year
    let text = String::from_utf8(shared_file("metadata/dms_discovery_examples.json"))
        .unwrap()
        .replace("{BASE_URL}", "http://dms.example.org:8080");
    let dms: Value = serde_json::from_str(&text).unwrap();
    let c = config(
        "http://dms.example.org:8080",
        ApiMode::YearSpecific,
        Some(2024),
        None,
    );
    assert_eq!(
        data_url(&c, Some(&dms["GET /"])).unwrap(),
        (
            "http://dms.example.org:8080/data".to_string(),
            RouteSource::Discovery("data".into())
        )
    );
}

#[test]
fn data_url_overrides_everything_and_no_discovery_means_the_mode() {
    let mut c = config("http://h", ApiMode::YearSpecific, Some(2025), None);
    let d = discovery("http://h/{tenantIdentifier}/data/v3/", &[]);
    c.edfi_api.data_url = "https://elsewhere/x/data/v3/".into();
    assert_eq!(
        data_url(&c, Some(&d)).unwrap(),
        (
            "https://elsewhere/x/data/v3".to_string(),
            RouteSource::Configured
        )
    );
    c.edfi_api.data_url = String::new();
    assert_eq!(
        data_url(&c, None).unwrap(),
        ("http://h/data/v3/2025".to_string(), RouteSource::Mode)
    );
}

#[test]
fn the_first_requests_to_collections_all_404_call_the_data_url_wrong() {
    let data = "http://h/data/v3/2025";
    let f = FirstAnswers::default();
    // a GET by id or another URL does not count
    assert!(f
        .issue(data, "http://h/data/v3/2025/ed-fi/students/abc")
        .is_none());
    assert!(f.issue(data, "http://h/oauth/token").is_none());
    let first: Vec<_> = (0..FIRST_ANSWERS)
        .map(|_| f.issue(data, "http://h/data/v3/2025/ed-fi/students?limit=0"))
        .collect();
    assert!(first.iter().all(Option::is_some));
    assert!(
        f.issue(data, "http://h/data/v3/2025/ed-fi/schools")
            .is_none(),
        "only the first"
    );
    for t in &first[1..] {
        assert!(!f.wrong_url(*t, 404));
    }
    assert!(f.wrong_url(first[0], 404));
    // one of the first requests found: never, however many 404s answer first
    let f = FirstAnswers::default();
    let first: Vec<_> = (0..FIRST_ANSWERS)
        .map(|_| f.issue(data, "http://h/data/v3/2025/ed-fi/schools"))
        .collect();
    for _ in 0..10 {
        let later = f.issue(data, "http://h/data/v3/2025/ed-fi/busRouteDescriptors");
        assert!(!f.wrong_url(later, 404));
    }
    assert!(!f.wrong_url(first[0], 200));
    for t in &first[1..] {
        assert!(!f.wrong_url(*t, 404));
    }
}

#[test]
fn the_hint_names_the_mode_the_year_and_what_discovery_says() {
    let c = config("http://h", ApiMode::YearSpecific, Some(2025), None);
    assert_eq!(
        not_found_hint(&c, Some("Shared Instance")),
        "edfi_api.mode is year_specific (it adds /2025 to the URL): check edfi_api.year, or use \
         shared_instance if the API is not year-specific; the API's discovery document says \
         apiMode: \"Shared Instance\"; or set edfi_api.data_url"
    );
    let c = config("http://h", ApiMode::SharedInstance, None, None);
    assert_eq!(
        not_found_hint(&c, None),
        "edfi_api.mode is shared_instance: if the API is year-specific, set edfi_api.mode: \
         year_specific and edfi_api.year; or set edfi_api.data_url"
    );
}
