//! The sandbox driven over real HTTP through every behaviour lightbeam touches.

use lightbeam_testkit::{shared, Sandbox, Version};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn lea() -> Value {
    json!({"localEducationAgencyId": 255901, "nameOfInstitution": "Grand Bend ISD",
        "localEducationAgencyCategoryDescriptor": "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent",
        "categories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency"}]})
}

fn school() -> Value {
    json!({"schoolId": 255901001, "nameOfInstitution": "Grand Bend High School",
        "localEducationAgencyReference": {"localEducationAgencyId": 255901},
        "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
        "gradeLevels": [{"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}]})
}

fn student(id: &str) -> Value {
    json!({"studentUniqueId": id, "birthDate": "2009-05-01", "firstName": "Ada", "lastSurname": "Lovelace"})
}

fn enrollment(student: &str) -> Value {
    json!({"entryDate": "2023-08-23", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
        "schoolReference": {"schoolId": 255901001}, "studentReference": {"studentUniqueId": student}})
}

fn id_of(r: &reqwest::blocking::Response) -> String {
    let loc = r.headers()["location"].to_str().unwrap();
    loc.rsplit('/').next().unwrap().to_string()
}

/// A token, and the body of the 409 that a school whose LEA does not exist gets.
fn token_and_school_without_its_lea(sb: &Sandbox) -> (String, Value) {
    let t = sb.token();
    let r = sb.post(&t, "/ed-fi/schools", &school());
    assert_eq!(r.status(), 409);
    (t, r.json().unwrap())
}

/// The Total-Count header of `GET {path}?limit=0&totalCount=true`.
fn total_count(sb: &Sandbox, t: &str, path: &str) -> String {
    sb.get(t, &format!("{path}?limit=0&totalCount=true"))
        .headers()["total-count"]
        .to_str()
        .unwrap()
        .to_string()
}

/// POST each (path, body) with the token `t`: each gets its status.
fn assert_posts(sb: &Sandbox, t: &str, posts: &[(&str, Value, u16)]) {
    for (path, body, status) in posts {
        assert_eq!(sb.post(t, path, body).status(), *status, "{path} {body}");
    }
}

/// POST /oauth/token with a form body, and Basic credentials when given.
fn token_request(
    sb: &Sandbox,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::blocking::Response {
    let mut request = sb.http.post(sb.url("/oauth/token")).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    request.send().unwrap()
}

#[test]
fn discovery_metadata_and_documents() {
    let sb = Sandbox::start(Version::Ds50, &[]);
    let root = sb.get_json(&sb.url("/"));
    for k in [
        "oauth",
        "dependencies",
        "openApiMetadata",
        "dataManagementApi",
    ] {
        assert!(
            root["urls"][k].as_str().unwrap().starts_with(&sb.base),
            "{k}"
        );
    }
    assert!(root["version"].is_string());
    assert!(root["dataModels"][0]["name"] == "Ed-Fi");
    let list = sb.get_json(root["urls"]["openApiMetadata"].as_str().unwrap());
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Resources") && names.contains(&"Descriptors"));
    for e in list.as_array().unwrap() {
        let served = sb
            .http
            .get(e["endpointUri"].as_str().unwrap())
            .send()
            .unwrap()
            .bytes()
            .unwrap();
        let file = if e["name"] == "Resources" {
            "odsapi-7.x_resources_openapi3_ds5.0.json"
        } else {
            "odsapi-7.x_descriptors_openapi3_ds5.0.json"
        };
        let original = std::fs::read(shared().join("openapi").join(file)).unwrap();
        assert!(served == original, "{file} served unchanged");
    }
    let deps = sb
        .http
        .get(root["urls"]["dependencies"].as_str().unwrap())
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    let original =
        std::fs::read(shared().join("dependencies/odsapi-7.x_ds-5.2.0_dependencies.json")).unwrap();
    assert!(deps == original);
}

#[test]
fn oauth_client_credentials() {
    let sb = Sandbox::start(
        Version::Ds50,
        &["--client", "k1:s1", "--client", "k2:s2", "--token-ttl", "1"],
    );
    // Basic auth with a form body
    let t = sb.token_for("k1", "s1");
    assert_eq!(t.len(), 32);
    // credentials in a form body
    let r = token_request(
        &sb,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "k2"),
            ("client_secret", "s2"),
        ],
    );
    assert_eq!(r.status(), 200);
    let body: Value = r.json().unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1);
    // in a JSON body
    let r = sb
        .http
        .post(sb.url("/oauth/token"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": "k1", "client_secret": "s1"}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    // wrong secret
    let r = token_request(
        &sb,
        Some(("k1", "nope")),
        &[("grant_type", "client_credentials")],
    );
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().unwrap()["error"], "invalid_client");
    // both header and body
    let r = token_request(
        &sb,
        Some(("k1", "s1")),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "k1"),
            ("client_secret", "s1"),
        ],
    );
    assert_eq!(r.status(), 400);
    // wrong grant type
    let r = token_request(&sb, Some(("k1", "s1")), &[("grant_type", "password")]);
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().unwrap()["error"],
        "unsupported_grant_type"
    );
    // data calls: no token, bad token, good token, expired token
    let r = sb.http.get(sb.data("/ed-fi/students")).send().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().unwrap()["errors"][0],
        "Authorization header is missing."
    );
    assert_eq!(
        sb.get("0123456789abcdef0123456789abcdef", "/ed-fi/students")
            .status(),
        401
    );
    let t = sb.token_for("k2", "s2");
    assert_eq!(sb.get(&t, "/ed-fi/students").status(), 200);
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(
        sb.get(&t, "/ed-fi/students").status(),
        401,
        "token expired after --token-ttl"
    );
    assert!(sb.stats()["tokens_issued"].as_u64().unwrap() >= 4);
}

#[test]
fn upsert_validation_references_paging_and_delete() {
    let sb = Sandbox::start(Version::Ds50, &[]);
    // reference to a missing LEA: 409
    let (t, body) = token_and_school_without_its_lea(&sb);
    assert_eq!(
        body["type"],
        "urn:ed-fi:api:data-conflict:unresolved-reference"
    );
    assert_eq!(
        body["detail"],
        "The referenced 'LocalEducationAgency' item does not exist."
    );
    // create, then update: 201 then 200, Location and quoted ETag
    let r = sb.post(&t, "/ed-fi/localEducationAgencies", &lea());
    assert_eq!(r.status(), 201, "{:?}", r.text());
    let r = sb.post(&t, "/ed-fi/localEducationAgencies", &lea());
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with(&sb.data("/ed-fi/localEducationAgencies/")));
    assert_eq!(sb.post(&t, "/ed-fi/schools", &school()).status(), 201);
    // schema violation: 400 with validationErrors per JSON path
    let r = sb.post(
        &t,
        "/ed-fi/students",
        &json!({"studentUniqueId": "1", "firstName": "A"}),
    );
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(
        body["validationErrors"]["$.lastSurname"][0],
        "LastSurname is required."
    );
    assert_eq!(
        body["validationErrors"]["$.birthDate"][0],
        "BirthDate is required."
    );
    let r = sb.post(&t, "/ed-fi/students", &json!({"studentUniqueId": "1", "firstName": 5, "lastSurname": "x", "birthDate": "2010-01-01"}));
    assert_eq!(r.status(), 400);
    assert!(r.json::<Value>().unwrap()["validationErrors"]["$.firstName"].is_array());
    // unknown descriptor value: 400; malformed one too
    let mut s = student("604822");
    s["birthCountryDescriptor"] = json!("uri://ed-fi.org/CountryDescriptor#Atlantis");
    let r = sb.post(&t, "/ed-fi/students", &s);
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().unwrap()["validationErrors"]["$.birthCountryDescriptor"][0],
        "CountryDescriptor value 'uri://ed-fi.org/CountryDescriptor#Atlantis' does not exist."
    );
    // id in a POST body: 400
    let mut s = student("604822");
    s["id"] = json!("0123456789abcdef0123456789abcdef");
    assert_eq!(sb.post(&t, "/ed-fi/students", &s).status(), 400);
    // empty body: 400 with errors
    let r = sb
        .http
        .post(sb.data("/ed-fi/students"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().unwrap()["errors"][0],
        "A non-empty request body is required."
    );
    // lenient scalar binding: a numeric string for an integer
    let mut lenient = enrollment("604822");
    lenient["schoolReference"]["schoolId"] = json!("255901001");
    // students
    for i in 0..30 {
        assert_eq!(
            sb.post(&t, "/ed-fi/students", &student(&format!("{}", 1000 + i)))
                .status(),
            201
        );
    }
    let r = sb.post(&t, "/ed-fi/students", &student("604822"));
    let student_id = id_of(&r);
    assert_eq!(
        sb.post(&t, "/ed-fi/studentSchoolAssociations", &lenient)
            .status(),
        201
    );
    // GET: default limit 25, totalCount, offset, limit bounds
    let r = sb.get(&t, "/ed-fi/students?totalCount=true");
    assert_eq!(r.headers()["total-count"], "31");
    let items: Vec<Value> = r.json().unwrap();
    assert_eq!(items.len(), 25);
    for k in ["id", "_etag", "_lastModifiedDate"] {
        assert!(items[0][k].is_string(), "{k}");
    }
    let r = sb.get(&t, "/ed-fi/students?offset=25&limit=500");
    assert!(r.headers().get("total-count").is_none());
    assert_eq!(r.json::<Vec<Value>>().unwrap().len(), 6);
    assert_eq!(
        sb.get(&t, "/ed-fi/students?limit=0&totalCount=true")
            .json::<Vec<Value>>()
            .unwrap()
            .len(),
        0
    );
    for bad in ["501", "-1", "x"] {
        let r = sb.get(&t, &format!("/ed-fi/students?limit={bad}"));
        assert_eq!(r.status(), 400, "limit={bad}");
    }
    // exact-match filters, case-insensitive names, flattened references
    let r = sb.get(&t, "/ed-fi/students?StudentUniqueId=604822");
    let items: Vec<Value> = r.json().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], student_id.as_str());
    let r = sb.get(&t, "/ed-fi/studentSchoolAssociations?schoolId=255901001&studentUniqueId=604822&totalCount=true");
    assert_eq!(r.headers()["total-count"], "1");
    let items: Vec<Value> = r.json().unwrap();
    assert_eq!(items[0]["schoolReference"]["link"]["rel"], "School");
    assert_eq!(
        sb.get(&t, "/ed-fi/studentSchoolAssociations?schoolId=1")
            .json::<Vec<Value>>()
            .unwrap()
            .len(),
        0
    );
    let r = sb.get(&t, "/ed-fi/gradeLevelDescriptors?codeValue=Ninth%20grade&namespace=uri%3A%2F%2Fed-fi.org%2FGradeLevelDescriptor");
    assert_eq!(r.json::<Vec<Value>>().unwrap().len(), 1);
    // GET by id, PUT, DELETE
    let r = sb.get(&t, &format!("/ed-fi/students/{student_id}"));
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("etag"));
    let mut changed = student("604822");
    changed["firstName"] = json!("Augusta");
    let r = sb
        .http
        .put(sb.data(&format!("/ed-fi/students/{student_id}")))
        .bearer_auth(&t)
        .json(&changed)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let got: Value = sb
        .get(&t, &format!("/ed-fi/students/{student_id}"))
        .json()
        .unwrap();
    assert_eq!(got["firstName"], "Augusta");
    // referenced: 409 on delete
    let r = sb.delete(&t, &format!("/ed-fi/students/{student_id}"));
    assert_eq!(r.status(), 409);
    assert_eq!(
        r.json::<Value>().unwrap()["type"],
        "urn:ed-fi:api:data-conflict:dependent-item-exists"
    );
    let ssa: Vec<Value> = sb
        .get(&t, "/ed-fi/studentSchoolAssociations")
        .json()
        .unwrap();
    assert_eq!(
        sb.delete(
            &t,
            &format!(
                "/ed-fi/studentSchoolAssociations/{}",
                ssa[0]["id"].as_str().unwrap()
            )
        )
        .status(),
        204
    );
    assert_eq!(
        sb.delete(&t, &format!("/ed-fi/students/{student_id}"))
            .status(),
        204
    );
    assert_eq!(
        sb.delete(&t, &format!("/ed-fi/students/{student_id}"))
            .status(),
        404
    );
    assert_eq!(
        sb.get(&t, &format!("/ed-fi/students/{student_id}"))
            .status(),
        404
    );
    assert_eq!(sb.get(&t, "/ed-fi/nothings").status(), 404);
    let stats = sb.stats();
    assert_eq!(stats["records"]["ed-fi/students"], 30);
    assert_eq!(stats["records"]["ed-fi/localEducationAgencies"], 1);
    assert!(stats["requests"]["POST"]["201"].as_u64().unwrap() >= 33);
}

#[test]
fn year_and_instance_prefixes_are_separate_databases() {
    let sb = Sandbox::start(Version::Ds50, &[]);
    let t = sb.token();
    let posts = [
        ("/2025/ed-fi/students", student("1"), 201),
        ("/district-a/2025/ed-fi/students", student("1"), 201),
        ("/district-a/2025/ed-fi/students", student("2"), 201),
    ];
    assert_posts(&sb, &t, &posts);
    let count = |p: &str| total_count(&sb, &t, &format!("{p}/ed-fi/students"));
    assert_eq!(count("/2025"), "1");
    assert_eq!(count("/district-a/2025"), "2");
    assert_eq!(count(""), "0");
    // descriptors are seeded in every database
    let seeded = total_count(&sb, &t, "/2024/ed-fi/gradeLevelDescriptors");
    assert!(seeded.parse::<u32>().unwrap() > 10, "{seeded}");
}

#[test]
fn older_error_style() {
    let sb = Sandbox::start(Version::Ds50, &["--error-style", "7.1"]);
    let (t, body) = token_and_school_without_its_lea(&sb);
    assert_eq!(
        body["message"],
        "The value supplied for the related 'LocalEducationAgency' resource does not exist."
    );
    assert!(body.get("type").is_none());
    let r = sb.get(&t, "/ed-fi/students?limit=900");
    assert_eq!(
        r.json::<Value>().unwrap()["message"],
        "Limit must be omitted or set to a value between 0 and 500."
    );
    let r = sb.post(&t, "/ed-fi/students", &json!({"studentUniqueId": "1"}));
    assert_eq!(r.status(), 400);
    let body: Value = r.json().unwrap();
    assert_eq!(body["message"], "The request is invalid.");
    assert!(body["modelState"].is_object());
}

#[test]
fn cors_preflight_before_authentication() {
    let sb = Sandbox::start(Version::Ds50, &[]);
    let r = sb
        .http
        .request(reqwest::Method::OPTIONS, sb.data("/ed-fi/students"))
        .header("Origin", "http://localhost:9999")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers().contains_key("access-control-allow-methods"));
    assert!(r.headers().contains_key("access-control-allow-headers"));
    let r = sb
        .http
        .get(sb.data("/ed-fi/students?totalCount=true"))
        .header("Origin", "http://localhost:9999")
        .bearer_auth(sb.token())
        .send()
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert_eq!(r.headers()["access-control-expose-headers"], "*");
}

#[test]
fn injected_faults_drops_and_latency() {
    let sb = Sandbox::start(
        Version::Ds50,
        &[
            "--fault-rate",
            "1",
            "--fault-statuses",
            "429",
            "--rng-seed",
            "7",
        ],
    );
    let t = sb.token();
    let r = sb.post(&t, "/ed-fi/students", &student("1"));
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert!(
        r.json::<Value>().is_ok(),
        "fault responses carry a JSON body"
    );
    // metadata and token calls are never faulted
    assert_eq!(sb.http.get(sb.url("/")).send().unwrap().status(), 200);
    let stats = sb.stats();
    assert_eq!(stats["faults_injected"]["429"], 1);
    assert_eq!(stats["records"]["ed-fi/students"], 0);

    let sb = Sandbox::start(Version::Ds50, &["--drop-rate", "1"]);
    let t = sb.token();
    let err = sb
        .http
        .post(sb.data("/ed-fi/students"))
        .bearer_auth(&t)
        .json(&student("1"))
        .send();
    assert!(err.is_err(), "connection closed without an answer");
    assert_eq!(sb.stats()["connections_dropped"], 1);

    let sb = Sandbox::start(Version::Ds50, &["--latency-ms", "300"]);
    let t = sb.token();
    let started = Instant::now();
    assert_eq!(sb.post(&t, "/ed-fi/students", &student("1")).status(), 201);
    assert!(started.elapsed() >= Duration::from_millis(300));

    // a share of requests: repeatable with a seed
    let statuses = |seed: &str| {
        let sb = Sandbox::start(
            Version::Ds50,
            &[
                "--fault-rate",
                "0.3",
                "--fault-statuses",
                "500,503",
                "--rng-seed",
                seed,
            ],
        );
        let t = sb.token();
        (0..40)
            .map(|i| {
                sb.post(&t, "/ed-fi/students", &student(&i.to_string()))
                    .status()
                    .as_u16()
            })
            .collect::<Vec<_>>()
    };
    let a = statuses("42");
    assert_eq!(a, statuses("42"));
    let faults = a.iter().filter(|s| **s >= 500).count();
    assert!((3..=25).contains(&faults), "about 30% faults: {faults}");
}

#[test]
fn ds40_openapi3_documents() {
    let sb = Sandbox::start(Version::Ds40, &[]);
    let t = sb.token();
    assert_eq!(
        total_count(&sb, &t, "/ed-fi/schoolTypeDescriptors"),
        "5",
        "as many as the seed file has"
    );
    let posts = [
        ("/ed-fi/students", student("1"), 201),
        ("/ed-fi/students", student("1"), 200),
        ("/ed-fi/studentSchoolAssociations", enrollment("1"), 409),
    ];
    assert_posts(&sb, &t, &posts);
    let r = sb.post(
        &t,
        "/ed-fi/parents",
        &json!({"parentUniqueId": "p1", "firstName": "A"}),
    );
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().unwrap()["validationErrors"]["$.lastSurname"][0],
        "LastSurname is required."
    );
}

#[test]
fn swagger2_documents() {
    let sb = Sandbox::start(Version::Swagger53, &["--error-style", "7.1"]);
    let t = sb.token();
    let seeded = total_count(&sb, &t, "/ed-fi/gradeLevelDescriptors");
    assert!(seeded.parse::<u32>().unwrap() > 10, "{seeded}");
    let posts = [
        ("/ed-fi/localEducationAgencies", lea(), 201),
        ("/ed-fi/schools", school(), 201),
        ("/ed-fi/students", student("1"), 201),
        ("/ed-fi/studentSchoolAssociations", enrollment("1"), 201),
        ("/ed-fi/studentSchoolAssociations", enrollment("2"), 409),
    ];
    assert_posts(&sb, &t, &posts);
    let r = sb.get(&t, "/ed-fi/studentSchoolAssociations?studentUniqueId=1");
    assert_eq!(r.json::<Vec<Value>>().unwrap().len(), 1);
    assert_eq!(total_count(&sb, &t, "/tpdm/candidates"), "0");
}

/// GET `path` with `t`: its status, `Next-Page-Token` and body.
fn get_page(sb: &Sandbox, t: &str, path: &str) -> (u16, Option<String>, Value) {
    let r = sb.get(t, path);
    let status = r.status().as_u16();
    let next = r
        .headers()
        .get("next-page-token")
        .map(|v| v.to_str().unwrap().to_string());
    (status, next, r.json().unwrap_or(Value::Null))
}

#[test]
fn cursor_paging_partitions_and_its_parameter_checks() {
    // 6,000 students seeded: more than one partition of at least 5 x 500
    let dir = std::env::temp_dir().join(format!("sandbox-cursor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lines: Vec<String> = (0..6000)
        .map(|i| student(&format!("c{i}")).to_string())
        .collect();
    std::fs::write(dir.join("students.jsonl"), lines.join("\n")).unwrap();
    let seed = dir.display().to_string();
    let sb = Sandbox::start(Version::Ds50, &["--cursor-paging", "--seed-dir", &seed]);
    let t = sb.token();
    let (status, _, body) = get_page(&sb, &t, "/ed-fi/students/partitions?number=2");
    assert_eq!(status, 200);
    let tokens: Vec<String> = body["pageTokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(tokens.len(), 2, "{body}");
    // each partition paged to its empty end; together every student once
    let mut seen = std::collections::BTreeSet::new();
    for token in tokens {
        let mut token = Some(token);
        let mut in_partition = 0;
        while let Some(tk) = token {
            let (status, next, page) = get_page(
                &sb,
                &t,
                &format!("/ed-fi/students?pageToken={tk}&pageSize=500"),
            );
            assert_eq!(status, 200, "{page}");
            let items = page.as_array().unwrap();
            assert_eq!(
                next.is_some(),
                !items.is_empty(),
                "a token only after items"
            );
            for s in items {
                assert!(seen.insert(s["studentUniqueId"].as_str().unwrap().to_string()));
            }
            in_partition += items.len();
            token = next;
        }
        assert_eq!(in_partition, 3000);
    }
    assert_eq!(seen.len(), 6000);
    // filters apply within a page; few matches make one partition
    let (_, _, body) = get_page(&sb, &t, "/ed-fi/students/partitions?studentUniqueId=c17");
    let only = body["pageTokens"][0].as_str().unwrap().to_string();
    let (_, _, page) = get_page(
        &sb,
        &t,
        &format!("/ed-fi/students?pageToken={only}&studentUniqueId=c17"),
    );
    assert_eq!(page.as_array().unwrap().len(), 1);
    // the ODS's checks, each a 400 with its message
    for (query, message) in [
        (format!("pageToken={only}&offset=5"), "Both offset and pageToken parameters were provided, but they support alternative paging approaches and cannot be used together."),
        (format!("pageToken={only}&limit=5"), "Use pageSize instead of limit when using cursor paging with pageToken."),
        (format!("pageToken={only}&pageSize=501"), "PageSize must be a value between 0 and 500."),
        (format!("pageToken={only}&totalCount=true"), "Total count cannot be determined while using cursor paging (when pageToken is specified)."),
        ("pageSize=5".to_string(), "PageToken is required when pageSize is specified."),
        ("pageToken=bm9wZQ".to_string(), "The page token provided was invalid."),
    ] {
        let (status, _, body) = get_page(&sb, &t, &format!("/ed-fi/students?{query}"));
        assert_eq!(status, 400, "{query}");
        assert!(body.to_string().contains(message), "{query}: {body}");
    }
    let (status, _, body) = get_page(&sb, &t, "/ed-fi/students/partitions?number=201");
    assert_eq!(status, 400);
    assert!(body
        .to_string()
        .contains("Number of partitions must be between 1 and 200."));
    // offset paging still works beside it
    let (status, _, page) = get_page(&sb, &t, "/ed-fi/students?offset=5990&limit=25");
    assert_eq!((status, page.as_array().unwrap().len()), (200, 10));
    // without --cursor-paging there are no partitions
    let plain = Sandbox::start(Version::Ds50, &[]);
    let (status, _, _) = get_page(&plain, &plain.token(), "/ed-fi/students/partitions");
    assert_eq!(status, 404);
    let _ = std::fs::remove_dir_all(&dir);
}
