//! The config: every key and default, errors with key and line, expansion and overrides.
use super::*;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

const FULL: &str = r#"
state_dir: ~/.lighbeam/
data_dir: ./data/
namespace: ed-fi
namespace_overrides:
  tpdm:
    - candidates
    - evaluations
edfi_api:
  base_url: https://api.example.com/
  version: 3
  mode: year_specific
  year: 2025
  client_id: ${EDFI_API_CLIENT_ID}
  client_secret: ${EDFI_API_CLIENT_SECRET}
connection:
  pool_size: 16
  timeout: 30
  num_retries: 3
  backoff_factor: 2
  retry_statuses: [429, 500, 502, 503, 504]
  verify_ssl: False
count:
  separator: ","
fetch:
  page_size: 500
validate:
  methods:
    - schema
    - references
  references:
    selector:
      - studentSchoolAssociations.calendarReference
    behavior: include
    remote: no
    max_failures: 10
force_delete: true
log_level: debug
show_stacktrace: yes
"#;

fn env(name: &str) -> Option<String> {
    match name {
        "EDFI_API_CLIENT_ID" => Some("the-id".to_string()),
        "EDFI_API_CLIENT_SECRET" => Some("the-secret".to_string()),
        "YEAR" => Some("2026".to_string()),
        "POOL" => Some("4".to_string()),
        _ => None,
    }
}

fn opts() -> LoadOptions<'static> {
    LoadOptions {
        env: &env,
        current_year: Some(2024),
        ..LoadOptions::default()
    }
}

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_yaml(text, &opts())
}

fn err(text: &str) -> String {
    load(text).unwrap_err().to_string()
}

const MIN: &str = "edfi_api:\n  base_url: http://localhost:54746\n";

#[test]
fn full_config() {
    let mut o = opts();
    o.home_dir = Some("/home/me".to_string());
    let c = Config::from_yaml(FULL, &o).unwrap();
    assert_eq!(c.state_dir.as_deref(), Some("/home/me/.lighbeam/"));
    assert_eq!(c.data_dir, "./data/");
    assert_eq!(
        c.namespace_overrides.as_ref().unwrap()["tpdm"],
        vec!["candidates", "evaluations"]
    );
    assert_eq!(c.edfi_api.year, Some(2025));
    assert_eq!(c.edfi_api.client_id, "the-id");
    assert_eq!(c.edfi_api.client_secret.expose(), "the-secret");
    assert_eq!(c.connection.pool_size, 16);
    assert_eq!(c.connection.timeout, 30.0);
    assert_eq!(c.connection.backoff_factor, 2.0);
    assert_eq!(c.connection.retry_statuses, vec![429, 500, 502, 503, 504]);
    assert!(!c.connection.verify_ssl);
    assert_eq!(c.count.separator, ",");
    assert_eq!(c.fetch.page_size, 500);
    assert_eq!(
        c.validate.methods.0,
        vec![ValidationMethod::Schema, ValidationMethod::References]
    );
    assert_eq!(c.validate.references.behavior, ReferenceBehavior::Include);
    assert!(!c.validate.references.remote);
    assert_eq!(c.validate.references.max_failures, Some(10));
    assert!(c.force_delete);
    assert_eq!(c.log_level, LogLevel::Debug);
    assert!(c.show_stacktrace);
    assert_eq!(c.data_url(), "https://api.example.com/data/v3/2025");
    assert_eq!(c.namespace_for("candidates"), "tpdm");
    assert_eq!(c.namespace_for("students"), "ed-fi");
    assert_eq!(c.namespaces(), vec!["ed-fi", "tpdm"]);
    assert_eq!(c.origin_of("connection.pool_size"), Origin::Line(17));
    assert_eq!(c.origin_of("namespace_overrides.tpdm[1]"), Origin::Line(8));
    assert_eq!(
        c.origin_of("edfi_api.oauth_url"),
        Origin::Line(9),
        "parent section"
    );
}

#[test]
fn defaults_match_python() {
    let c = load(MIN).unwrap();
    assert_eq!(c.state_dir, None);
    assert!(!c.tracks_state());
    assert_eq!(c.data_dir, "./");
    assert_eq!(c.namespace, "ed-fi");
    assert_eq!(c.namespace_overrides, None);
    assert_eq!(c.edfi_api.version, 3);
    assert_eq!(c.edfi_api.mode, ApiMode::YearSpecific);
    assert_eq!(c.edfi_api.year, Some(2024), "current year from the options");
    assert_eq!(c.edfi_api.oauth_url, "");
    assert_eq!(c.connection, Connection::default());
    assert_eq!(c.connection.pool_size, 8);
    assert_eq!(c.connection.timeout, 60.0);
    assert_eq!(c.connection.num_retries, 10);
    assert_eq!(c.connection.backoff_factor, 1.5);
    assert_eq!(c.connection.retry_statuses, vec![429, 500, 501, 503, 504]);
    assert!(c.connection.verify_ssl);
    assert_eq!(c.count.separator, "\t");
    assert_eq!(c.fetch.page_size, 100);
    assert_eq!(c.send.order, SendOrder::Records);
    assert_eq!(c.validate.methods, ValidationMethods::default());
    assert_eq!(c.validate.references, ReferencesConfig::default());
    assert!(!c.force_delete);
    assert_eq!(c.log_level, LogLevel::Info);
    assert!(!c.show_stacktrace);
    assert_eq!(c.data_url(), "http://localhost:54746/data/v3/2024");
}

#[test]
fn wrong_type_names_key_and_line() {
    let text = "edfi_api:\n  base_url: http://x\n\n\n\nconnection:\n  pool_size: eight\n";
    assert_eq!(
            err(text),
            "config error at line 7: connection.pool_size: expected a whole number (0 or more), got \"eight\""
        );
    let e = load(text).unwrap_err();
    assert!(
        matches!(e, ConfigError::Invalid { origin: Origin::Line(7), ref path, .. } if path == "connection.pool_size")
    );
}

#[test]
fn unknown_keys_name_key_and_line() {
    let e = err("edfi_api:\n  base_url: http://x\nconnection:\n  pool_sise: 3\n");
    assert!(
            e.starts_with("config error at line 4: connection.pool_sise: unknown key (did you mean \"pool_size\"?)"),
            "{e}"
        );
    let e = err("colour: blue\nedfi_api:\n  base_url: http://x\n");
    assert!(
        e.starts_with("config error at line 1: colour: unknown key;"),
        "{e}"
    );
    let e = err("edfi_api:\n  base_url: http://x\n  clientid: a\n");
    assert!(
        e.contains("line 3: edfi_api.clientid: unknown key (did you mean \"client_id\"?)"),
        "{e}"
    );
}

#[test]
fn other_type_errors() {
    assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  retry_statuses: [429, x]\n"),
            "config error at line 4: connection.retry_statuses[1]: expected a whole number (0 or more), got \"x\""
        );
    assert_eq!(
        err("edfi_api:\n  base_url: http://x\nconnection:\n  retry_statuses: 429\n"),
        "config error at line 4: connection.retry_statuses: expected a list, got \"429\""
    );
    assert_eq!(
        err("edfi_api:\n  base_url: http://x\nconnection:\n  verify_ssl: maybe\n"),
        "config error at line 4: connection.verify_ssl: expected true or false, got \"maybe\""
    );
    assert_eq!(
            err("edfi_api:\n  base_url: http://x\n  mode: yearly\n"),
            "config error at line 3: edfi_api.mode: expected one of shared_instance, sandbox, district_specific, year_specific, instance_year_specific, got \"yearly\""
        );
    assert_eq!(
        err("edfi_api: http://x\n"),
        "config error at line 1: edfi_api: expected a mapping (key: value pairs), got \"http://x\""
    );
    assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  pool_size: -1\n"),
            "config error at line 4: connection.pool_size: expected a whole number of at least 0, got -1"
        );
    assert_eq!(
            err("edfi_api:\n  base_url: http://x\nlog_level: loud\n"),
            "config error at line 3: log_level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got \"loud\""
        );
    assert!(
        err("edfi_api:\n  base_url: http://x\nvalidate:\n  methods: [schema, spelling]\n")
            .starts_with("config error at line 4: validate.methods[1]: expected one of")
    );
    assert!(
        err("edfi_api:\n  base_url: http://x\nnamespace_overrides:\n  tpdm: candidates\n")
            .starts_with("config error at line 4: namespace_overrides.tpdm: expected a list")
    );
    assert!(
        err("edfi_api:\n  base_url: http://x\nedfi_api:\n  year: 1\n").contains("duplicate key")
    );
    assert!(err("a: [1\nb: 2\n").starts_with("config error at line 2"));
    assert!(err("").contains("empty"));
    assert!(err("- a\n- b\n").contains("must be a YAML mapping"));
    assert_eq!(
            err("edfi_api:\n  base_url: http://x\nconnection:\n  pool_size:\n"),
            "config error at line 4: connection.pool_size: expected a whole number (0 or more), got an empty value"
        );
}

#[test]
fn empty_sections_take_defaults() {
    let c = load("edfi_api:\n  base_url: http://x\nconnection:\nvalidate:\nstate_dir:\n").unwrap();
    assert_eq!(c.connection, Connection::default());
    assert_eq!(c.state_dir, None);
}

#[test]
fn lenient_scalars() {
    let c = load(
            "edfi_api:\n  base_url: http://x\n  year: '2023'\n  client_id: 12345\n  instance_code: 0042\nconnection:\n  verify_ssl: 'off'\n  timeout: 7.5\n",
        )
        .unwrap();
    assert_eq!(c.edfi_api.year, Some(2023));
    assert_eq!(c.edfi_api.client_id, "12345");
    assert_eq!(c.edfi_api.instance_code.as_deref(), Some("0042"));
    assert!(!c.connection.verify_ssl);
    assert_eq!(c.connection.timeout, 7.5);
}

#[test]
fn validation_methods_forms() {
    for (text, expected) in [
        ("'*'", ValidationMethods::all()),
        ("all", ValidationMethods::all()),
        ("ALL", ValidationMethods::all()),
        ("schema", ValidationMethods(vec![ValidationMethod::Schema])),
        ("[]", ValidationMethods(vec![])),
    ] {
        let c = load(&format!("{MIN}validate:\n  methods: {text}\n")).unwrap();
        assert_eq!(c.validate.methods, expected, "{text}");
    }
    let e = err(&format!("{MIN}validate:\n  methods: everything\n"));
    assert!(
        e.starts_with("config error at line 4: validate.methods: expected \"*\""),
        "{e}"
    );
}

#[test]
fn env_vars_and_params() {
    let text = "edfi_api:\n  base_url: http://x\n  year: ${YEAR}\n  client_id: $EDFI_API_CLIENT_ID-x\n  client_secret: ${MISSING}\nconnection:\n  pool_size: ${POOL}\n";
    let c = load(text).unwrap();
    assert_eq!(c.edfi_api.year, Some(2026));
    assert_eq!(c.edfi_api.client_id, "the-id-x");
    assert_eq!(c.edfi_api.client_secret.expose(), "${MISSING}");
    assert_eq!(c.connection.pool_size, 4);

    let mut o = opts();
    o.params = parse_params(r#"{"YEAR": "2030", "MISSING": "found", "POOL": 2}"#).unwrap();
    let c = Config::from_yaml(text, &o).unwrap();
    assert_eq!(c.edfi_api.year, Some(2030), "params override env");
    assert_eq!(c.edfi_api.client_secret.expose(), "found");
    assert_eq!(c.connection.pool_size, 2);

    let e = load("edfi_api:\n  base_url: http://x\nconnection:\n  pool_size: ${MISSING}\n")
        .unwrap_err()
        .to_string();
    assert_eq!(
            e,
            "config error at line 4: connection.pool_size: expected a whole number (0 or more), got \"${MISSING}\""
        );
}

#[test]
fn expand_vars_like_python() {
    let lookup = |n: &str| match n {
        "A" => Some("1".to_string()),
        "B_2" => Some("$A".to_string()),
        _ => None,
    };
    assert_eq!(expand_vars("x${A}y", &lookup), "x1y");
    assert_eq!(expand_vars("$A$A", &lookup), "11");
    assert_eq!(expand_vars("$B_2", &lookup), "$A", "no recursive expansion");
    assert_eq!(expand_vars("$Ab", &lookup), "$Ab", "name is the whole word");
    assert_eq!(expand_vars("${NOPE} $NOPE", &lookup), "${NOPE} $NOPE");
    assert_eq!(expand_vars("a$ b$", &lookup), "a$ b$");
    assert_eq!(expand_vars("${A", &lookup), "${A");
    assert_eq!(expand_vars("${}", &lookup), "${}");
    assert_eq!(expand_vars("ü$A€", &lookup), "ü1€");
}

#[test]
fn autocast_like_python() {
    use AutoValue::*;
    for (input, expected) in [
        ("true", Bool(true)),
        ("Yes", Bool(true)),
        ("ON", Bool(true)),
        ("t", Bool(true)),
        ("y", Bool(true)),
        ("false", Bool(false)),
        ("n", Bool(false)),
        ("OFF", Bool(false)),
        ("1000", Int(1000)),
        ("-5", Int(-5)),
        (" 7 ", Int(7)),
        ("1_000", Int(1000)),
        ("1.5", Float(1.5)),
        ("2.", Float(2.0)),
        ("1.5e3", Float(1500.0)),
        ("0x10", Str("0x10".to_string())),
        ("1.2.3", Str("1.2.3".to_string())),
        ("api.example.com", Str("api.example.com".to_string())),
        ("inf", Str("inf".to_string())),
        ("abc", Str("abc".to_string())),
        ("", Str(String::new())),
    ] {
        assert_eq!(autocast(input), expected, "{input:?}");
    }
}

#[test]
fn set_overrides() {
    let mut o = opts();
    o.overrides = parse_set_args(&[
        "fetch.page_size".to_string(),
        "1000".to_string(),
        "connection.verify_ssl".to_string(),
        "no".to_string(),
        "edfi_api.mode".to_string(),
        "sandbox".to_string(),
        "state_dir".to_string(),
        "/tmp/state".to_string(),
        "edfi_api.client_id".to_string(),
        "y".to_string(),
        "connection.timeout".to_string(),
        "2.5".to_string(),
    ])
    .unwrap();
    let c = Config::from_yaml(MIN, &o).unwrap();
    assert_eq!(c.fetch.page_size, 1000);
    assert!(!c.connection.verify_ssl);
    assert_eq!(c.edfi_api.mode, ApiMode::Sandbox);
    assert_eq!(c.state_dir.as_deref(), Some("/tmp/state"));
    assert_eq!(c.edfi_api.client_id, "y", "strings keep the text as typed");
    assert_eq!(c.connection.timeout, 2.5);
    assert_eq!(c.origin_of("fetch.page_size"), Origin::Override);
    assert_eq!(c.data_url(), "http://localhost:54746/data/v3");

    o.overrides = vec![("connection.pool_size".to_string(), "many".to_string())];
    assert_eq!(
            Config::from_yaml(MIN, &o).unwrap_err().to_string(),
            "config error in --set connection.pool_size: expected a whole number (0 or more), got \"many\""
        );
    o.overrides = vec![("connection.pool_sise".to_string(), "3".to_string())];
    assert!(Config::from_yaml(MIN, &o)
        .unwrap_err()
        .to_string()
        .starts_with("config error in --set connection.pool_sise: unknown key"));
    o.overrides = vec![("edfi_api.base_url.x".to_string(), "3".to_string())];
    assert!(matches!(
        Config::from_yaml(MIN, &o).unwrap_err(),
        ConfigError::Set(_)
    ));
    assert!(parse_set_args(&["a".to_string()]).is_err());
}

#[test]
fn params_parsing() {
    assert!(parse_params("").unwrap().is_empty());
    assert_eq!(
        parse_params(r#"{"A": "x", "B": 1, "C": true}"#)
            .unwrap()
            .len(),
        3
    );
    assert!(matches!(parse_params("[1]"), Err(ConfigError::Params(_))));
    assert!(matches!(parse_params("{bad"), Err(ConfigError::Params(_))));
    assert!(matches!(
        parse_params(r#"{"A": [1]}"#),
        Err(ConfigError::Params(_))
    ));
}

#[test]
fn validation() {
    assert_eq!(
        err("namespace: ed-fi\n"),
        "config error: edfi_api.base_url: is required (the Ed-Fi API's base URL)"
    );
    assert_eq!(
            err("edfi_api:\n  base_url: api.example.com\n"),
            "config error at line 2: edfi_api.base_url: must start with http:// or https://, got \"api.example.com\""
        );
    assert!(err(&format!("{MIN}  version: 2\n")).contains("edfi_api.version: only version 3"));
    assert!(err(&format!("{MIN}  mode: instance_year_specific\n"))
        .contains("edfi_api.instance_code: is required for mode instance_year_specific"));
    assert_eq!(
        err(&format!("{MIN}connection:\n  pool_size: 0\n")),
        "config error at line 4: connection.pool_size: must be at least 1"
    );
    assert!(err(&format!("{MIN}connection:\n  timeout: 0\n")).contains("connection.timeout"));
    assert!(err(&format!("{MIN}connection:\n  retry_statuses: [42]\n"))
        .contains("connection.retry_statuses[0]: expected an HTTP status code"));
    assert!(err(&format!("{MIN}fetch:\n  page_size: 0\n")).contains("fetch.page_size"));
    let order = err(&format!("{MIN}send:\n  order: random\n"));
    assert!(order.contains("line 4: send.order"), "{order}");
    assert!(
        order.contains("records") && order.contains("levels"),
        "{order}"
    );
    assert!(err(&format!(
        "{MIN}validate:\n  references:\n    selector: [studentSchoolAssociations]\n"
    ))
    .contains("line 5: validate.references.selector[0]"));
    let no_year = Config::from_yaml(MIN, &LoadOptions::default()).unwrap_err();
    assert_eq!(
        no_year.to_string(),
        "config error at line 1: edfi_api.year: is required for mode year_specific"
    );
}

#[test]
fn data_urls_per_mode() {
    let mut c = load(MIN).unwrap();
    c.edfi_api.base_url = "https://h/api//".to_string();
    c.edfi_api.year = Some(2025);
    c.edfi_api.instance_code = Some("/district-1/".to_string());
    let cases = [
        (ApiMode::SharedInstance, "https://h/api/data/v3"),
        (ApiMode::Sandbox, "https://h/api/data/v3"),
        (ApiMode::DistrictSpecific, "https://h/api/data/v3"),
        (ApiMode::YearSpecific, "https://h/api/data/v3/2025"),
        (
            ApiMode::InstanceYearSpecific,
            "https://h/api/data/v3/district-1/2025",
        ),
    ];
    for (mode, url) in cases {
        c.edfi_api.mode = mode;
        assert_eq!(c.data_url(), url, "{mode}");
    }
}

#[test]
fn url_join_and_namespaces() {
    assert_eq!(
        url_join(&["http://h/", "/ed-fi/", "students"]),
        "http://h/ed-fi/students"
    );
    let mut overrides = IndexMap::new();
    overrides.insert("tpdm".to_string(), vec!["candidates".to_string()]);
    overrides.insert("other".to_string(), vec!["candidates".to_string()]);
    assert_eq!(
        namespace_for_endpoint("ed-fi", Some(&overrides), "candidates"),
        "tpdm"
    );
    assert_eq!(
        namespace_for_endpoint("ed-fi", Some(&overrides), "schools"),
        "ed-fi"
    );
    assert_eq!(namespace_for_endpoint("ed-fi", None, "schools"), "ed-fi");
}

#[test]
fn expand_user_paths() {
    assert_eq!(expand_user("~", "/home/a"), "/home/a");
    assert_eq!(expand_user("~/x", "/home/a/"), "/home/a/x");
    assert_eq!(expand_user("~bob/x", "/home/a"), "~bob/x");
    assert_eq!(expand_user("./x", "/home/a"), "./x");
}

#[test]
fn secrets_are_redacted() {
    let c = load(FULL).unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("the-secret"), "{debug}");
    let json = serde_json::to_string(&c).unwrap();
    assert!(!json.contains("the-secret"), "{json}");
    assert!(json.contains("\"client_secret\":\"***\""));
}

#[test]
fn yaml_features() {
    let c = load("defaults: &d\n  pool_size: 3\n");
    assert!(c.unwrap_err().to_string().contains("defaults: unknown key"));
    let c = load(
            "edfi_api:\n  base_url: \"http://x\"\n  client_secret: !!str 0123\nconnection: {pool_size: 2, verify_ssl: true}\n",
        )
        .unwrap();
    assert_eq!(c.connection.pool_size, 2);
    assert_eq!(c.edfi_api.client_secret.expose(), "0123");
}

#[test]
fn data_url_must_be_http_when_set() {
    let c = load(&format!("{MIN}  data_url: https://h/2025/data/v3/\n")).unwrap();
    assert_eq!(c.edfi_api.data_url, "https://h/2025/data/v3/");
    assert_eq!(
        err(&format!("{MIN}  data_url: h/data/v3\n")),
        "config error at line 3: edfi_api.data_url: must start with http:// or https://, got \"h/data/v3\""
    );
}

#[test]
fn profiles_by_endpoint_over_the_profile() {
    let c = load(&format!(
        "{MIN}  profile: Sample-Profile\n  profiles:\n    studentSchoolAssociations: Other\n    schools: ''\n"
    ))
    .unwrap();
    let api = &c.edfi_api;
    assert_eq!(api.profile_for("students"), Some("Sample-Profile"));
    assert_eq!(api.profile_for("StudentSchoolAssociations"), Some("Other"));
    assert_eq!(
        api.profile_for("schools"),
        None,
        "an empty name: no profile"
    );
    let none = load(MIN).unwrap();
    assert_eq!(none.edfi_api.profile_for("students"), None);
}
