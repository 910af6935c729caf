//! Change Queries over real HTTP: change versions of creates, updates and deletes, the
//! `minChangeVersion`/`maxChangeVersion` window on collections (with offset, totalCount and
//! cursor paging), `/deletes`, `/keyChanges`, `availableChangeVersions`, one counter a database.

use lightbeam_testkit::{Sandbox, Version};
use serde_json::{json, Value};

fn student(id: &str, first: &str) -> Value {
    json!({"studentUniqueId": id, "birthDate": "2009-05-01", "firstName": first, "lastSurname": "Lovelace"})
}

fn id_of(r: &reqwest::blocking::Response) -> String {
    let loc = r.headers()["location"].to_str().unwrap();
    loc.rsplit('/').next().unwrap().to_string()
}

/// GET `url` with the token: status, `Total-Count` and body.
fn get(sb: &Sandbox, t: &str, url: &str) -> (u16, Option<u64>, Value) {
    let r = sb.http.get(url).bearer_auth(t).send().unwrap();
    let status = r.status().as_u16();
    let total = r
        .headers()
        .get("total-count")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, total, r.json().unwrap_or(Value::Null))
}

/// The newest change version of the database at `root` (`""`, `/a`, ...) with `prefix` (`""`,
/// `/2025`).
fn newest(sb: &Sandbox, t: &str, root: &str, prefix: &str) -> u64 {
    let url = sb.url(&format!(
        "{root}/changeQueries/v1{prefix}/availableChangeVersions"
    ));
    let (status, _, body) = get(sb, t, &url);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["oldestChangeVersion"], 0);
    body["newestChangeVersion"].as_u64().unwrap()
}

/// The `studentUniqueId`s of a GET of students.
fn unique_ids(body: &Value) -> Vec<&str> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|s| s["studentUniqueId"].as_str().unwrap())
        .collect()
}

fn put(sb: &Sandbox, t: &str, path: &str, body: &Value) -> reqwest::blocking::Response {
    sb.http
        .put(sb.data(path))
        .bearer_auth(t)
        .json(body)
        .send()
        .unwrap()
}

#[test]
fn change_versions_windows_and_deletes() {
    let sb = Sandbox::start(Version::Ds50, &["--cursor-paging"]);
    let t = sb.token();
    // discovery names the change queries; the versions need a token
    let root = sb.get_json(&sb.url("/"));
    assert_eq!(
        root["urls"]["changeQueries"],
        sb.url("/changeQueries/v1/").as_str()
    );
    let r = sb
        .http
        .get(sb.url("/changeQueries/v1/availableChangeVersions"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    // the seeded school years and descriptors took versions already
    let n0 = newest(&sb, &t, "", "");
    assert!(n0 > 1000, "{n0}");

    // create A then B: one version each
    let r = sb.post(&t, "/ed-fi/students", &student("A", "Ada"));
    assert_eq!(r.status(), 201);
    let (a_id, a_etag) = (id_of(&r), r.headers()["etag"].clone());
    let r = sb.post(&t, "/ed-fi/students", &student("B", "Bea"));
    assert_eq!(r.status(), 201);
    let b_id = id_of(&r);
    assert_eq!(newest(&sb, &t, "", ""), n0 + 2);
    // POST of the same values: 200, nothing written (same etag, no version)
    let r = sb.post(&t, "/ed-fi/students", &student("A", "Ada"));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], a_etag);
    assert_eq!(newest(&sb, &t, "", ""), n0 + 2);
    // a modifying POST and a modifying PUT take a version each; a PUT of the same values none
    let r = sb.post(&t, "/ed-fi/students", &student("A", "Augusta"));
    assert_eq!(r.status(), 200);
    assert_ne!(r.headers()["etag"], a_etag);
    assert_eq!(newest(&sb, &t, "", ""), n0 + 3);
    let path_a = format!("/ed-fi/students/{a_id}");
    assert_eq!(
        put(&sb, &t, &path_a, &student("A", "Augusta")).status(),
        204
    );
    assert_eq!(newest(&sb, &t, "", ""), n0 + 3);
    assert_eq!(put(&sb, &t, &path_a, &student("A", "Ada")).status(), 204);
    let a_version = n0 + 4;
    assert_eq!(newest(&sb, &t, "", ""), a_version);
    // an identity change is refused: no key changes, so /keyChanges stays empty
    assert_eq!(put(&sb, &t, &path_a, &student("Z", "Ada")).status(), 400);
    assert_eq!(newest(&sb, &t, "", ""), a_version);

    // the window: both bounds inclusive, on the current version of each record
    let window = |q: &str| get(&sb, &t, &sb.data(&format!("/ed-fi/students?{q}")));
    let (_, _, body) = window(&format!("minChangeVersion={}", n0 + 1));
    assert_eq!(unique_ids(&body), ["A", "B"]);
    let (_, _, body) = window(&format!("minChangeVersion={a_version}"));
    assert_eq!(unique_ids(&body), ["A"]);
    let (_, _, body) = window(&format!("maxChangeVersion={}", n0 + 3));
    assert_eq!(unique_ids(&body), ["B"]);
    let (_, _, body) = window(&format!(
        "MinChangeVersion={}&MaxChangeVersion={}",
        n0 + 2,
        n0 + 2
    ));
    assert_eq!(unique_ids(&body), ["B"], "names are case-insensitive");
    let (_, _, body) = window(&format!("minChangeVersion={}", a_version + 1));
    assert_eq!(body, json!([]));
    // ... with offset, limit, totalCount and property filters
    let (_, total, body) = window(&format!(
        "minChangeVersion={}&offset=1&limit=1&totalCount=true",
        n0 + 1
    ));
    assert_eq!((total, unique_ids(&body)), (Some(2), vec!["B"]));
    let (_, total, body) = window(&format!(
        "minChangeVersion={}&studentUniqueId=A&totalCount=true",
        n0 + 1
    ));
    assert_eq!((total, unique_ids(&body)), (Some(1), vec!["A"]));
    // the version is not part of an item (as the ODS)
    let item = &body[0];
    assert!(item.get("changeVersion").is_none() && item["_etag"].is_string());
    // descriptors have versions too: all seeded ones are at or below n0
    let descriptors = |q: &str| {
        get(
            &sb,
            &t,
            &sb.data(&format!(
                "/ed-fi/gradeLevelDescriptors?limit=0&totalCount=true{q}"
            )),
        )
        .1
        .unwrap()
    };
    let seeded = descriptors("");
    assert!(seeded > 10);
    assert_eq!(descriptors(&format!("&maxChangeVersion={n0}")), seeded);
    assert_eq!(descriptors(&format!("&minChangeVersion={}", n0 + 1)), 0);
    // cursor paging within the window
    let (_, _, parts) = get(
        &sb,
        &t,
        &sb.data(&format!(
            "/ed-fi/students/partitions?minChangeVersion={a_version}"
        )),
    );
    let token = parts["pageTokens"][0].as_str().unwrap().to_string();
    let (status, _, body) = window(&format!("pageToken={token}&minChangeVersion={a_version}"));
    assert_eq!((status, unique_ids(&body)), (200, vec!["A"]));
    // not integers: the ODS's model binding 400
    for (q, key, message) in [
        (
            "minChangeVersion=abc",
            "$.MinChangeVersion",
            "The value 'abc' is not valid for MinChangeVersion.",
        ),
        (
            "maxChangeVersion=1.5",
            "$.MaxChangeVersion",
            "The value '1.5' is not valid for MaxChangeVersion.",
        ),
    ] {
        let (status, _, body) = window(q);
        assert_eq!(status, 400, "{q}");
        assert_eq!(
            body["type"],
            "urn:ed-fi:api:bad-request:data-validation-failed"
        );
        assert_eq!(body["validationErrors"][key][0], message, "{body}");
    }

    // delete B: a version, and B in /deletes with its key values
    assert_eq!(
        sb.delete(&t, &format!("/ed-fi/students/{b_id}")).status(),
        204
    );
    let b_deleted = a_version + 1;
    assert_eq!(newest(&sb, &t, "", ""), b_deleted);
    let deletes = |q: &str| get(&sb, &t, &sb.data(&format!("/ed-fi/students/deletes{q}")));
    let (status, total, body) = deletes("?totalCount=true");
    assert_eq!((status, total), (200, Some(1)));
    assert_eq!(
        body,
        json!([{"id": b_id, "changeVersion": b_deleted, "keyValues": {"studentUniqueId": "B"}}])
    );
    assert_eq!(deletes(&format!("?minChangeVersion={b_deleted}")).2, body);
    assert_eq!(
        deletes(&format!("?maxChangeVersion={a_version}")).2,
        json!([])
    );
    assert_eq!(
        deletes(&format!("?minChangeVersion={}", b_deleted + 1)).2,
        json!([])
    );
    // a deleted record is not in the window of the collection
    assert_eq!(
        window(&format!("minChangeVersion={b_deleted}")).2,
        json!([])
    );
    // B again: its delete is hidden while it lives; deleted again, both deletes show
    let r = sb.post(&t, "/ed-fi/students", &student("B", "Bea"));
    assert_eq!(r.status(), 201);
    let b2_id = id_of(&r);
    assert_ne!(b2_id, b_id);
    let (_, total, body) = deletes("?totalCount=true");
    assert_eq!((total, body), (Some(0), json!([])));
    assert_eq!(
        sb.delete(&t, &format!("/ed-fi/students/{b2_id}")).status(),
        204
    );
    let (_, total, body) = deletes("?totalCount=true");
    assert_eq!(total, Some(2));
    let seen: Vec<(&str, u64)> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap(),
                d["changeVersion"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [(b_id.as_str(), b_deleted), (b2_id.as_str(), b_deleted + 2)]
    );
    // offset and limit page the deletes
    let (_, total, body) = deletes("?offset=1&limit=1&totalCount=true");
    assert_eq!(
        (total, body[0]["id"].as_str()),
        (Some(2), Some(b2_id.as_str()))
    );
    // a descriptor's key values are its namespace and code value
    let (_, _, countries) = get(&sb, &t, &sb.data("/ed-fi/countryDescriptors?limit=1"));
    let country = &countries[0];
    let path = format!(
        "/ed-fi/countryDescriptors/{}",
        country["id"].as_str().unwrap()
    );
    assert_eq!(sb.delete(&t, &path).status(), 204);
    let (_, _, body) = get(&sb, &t, &sb.data("/ed-fi/countryDescriptors/deletes"));
    assert_eq!(
        body[0]["keyValues"],
        json!({"namespace": country["namespace"], "codeValue": country["codeValue"]})
    );

    // /deletes and /keyChanges check their parameters as the ODS
    for (q, errors) in [
        (
            "limit=501",
            vec!["Limit must be omitted or set to a value between 1 and 500."],
        ),
        (
            "limit=-1&offset=-1",
            vec![
                "Limit must be omitted or set to a value between 1 and 500.",
                "Offset must be greater than or equal to 0.",
            ],
        ),
    ] {
        for route in ["deletes", "keyChanges"] {
            let (status, _, body) = get(&sb, &t, &sb.data(&format!("/ed-fi/students/{route}?{q}")));
            assert_eq!(status, 400, "{route}?{q}");
            assert_eq!(
                body["detail"],
                "Parameters supplied to the request were invalid."
            );
            assert_eq!(body["errors"], json!(errors), "{route}?{q}");
        }
    }
    let (status, _, body) = deletes("?limit=x&minChangeVersion=y");
    assert_eq!(status, 400);
    assert_eq!(
        body["validationErrors"]["$.Limit"][0],
        "The value 'x' is not valid for Limit."
    );
    assert_eq!(
        body["validationErrors"]["$.MinChangeVersion"][0],
        "The value 'y' is not valid for MinChangeVersion."
    );
    let (status, total, body) = get(
        &sb,
        &t,
        &sb.data("/ed-fi/students/keyChanges?totalCount=true&minChangeVersion=0"),
    );
    assert_eq!((status, total, body), (200, Some(0), json!([])));
    // unknown resources are 404
    assert_eq!(get(&sb, &t, &sb.data("/ed-fi/nothings/deletes")).0, 404);
}

#[test]
fn a_composite_key_in_deletes() {
    let sb = Sandbox::start(Version::Ds50, &[]);
    let t = sb.token();
    let posts = [
        (
            "/ed-fi/localEducationAgencies",
            json!({"localEducationAgencyId": 255901, "nameOfInstitution": "Grand Bend ISD",
            "localEducationAgencyCategoryDescriptor": "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent",
            "categories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency"}]}),
        ),
        (
            "/ed-fi/schools",
            json!({"schoolId": 255901001, "nameOfInstitution": "Grand Bend High School",
            "localEducationAgencyReference": {"localEducationAgencyId": 255901},
            "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
            "gradeLevels": [{"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}]}),
        ),
        ("/ed-fi/students", student("604822", "Ada")),
    ];
    for (path, body) in &posts {
        assert_eq!(sb.post(&t, path, body).status(), 201, "{path}");
    }
    let enrollment = json!({"entryDate": "2023-08-23", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
        "schoolReference": {"schoolId": 255901001}, "studentReference": {"studentUniqueId": "604822"}});
    let r = sb.post(&t, "/ed-fi/studentSchoolAssociations", &enrollment);
    assert_eq!(r.status(), 201);
    let id = id_of(&r);
    let deleted_at = newest(&sb, &t, "", "") + 1;
    let path = format!("/ed-fi/studentSchoolAssociations/{id}");
    assert_eq!(sb.delete(&t, &path).status(), 204);
    let (_, _, body) = get(
        &sb,
        &t,
        &sb.data("/ed-fi/studentSchoolAssociations/deletes"),
    );
    assert_eq!(
        body,
        json!([{"id": id, "changeVersion": deleted_at, "keyValues":
            {"entryDate": "2023-08-23", "schoolId": 255901001, "studentUniqueId": "604822"}}])
    );
}

#[test]
fn one_counter_a_database() {
    let sb = Sandbox::start(Version::Ds50, &["--tenants", "a,b"]);
    let token = |tenant: &str| {
        let r = sb
            .http
            .post(sb.url(&format!("/{tenant}/oauth/token")))
            .basic_auth("testkey", Some("testsecret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap();
        r.json::<Value>().unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ta, tb) = (token("a"), token("b"));
    let (a0, b0) = (newest(&sb, &ta, "/a", ""), newest(&sb, &tb, "/b", ""));
    assert_eq!(a0, b0, "each tenant starts from the same seed");
    let r = sb
        .http
        .post(sb.url("/a/data/v3/ed-fi/students"))
        .bearer_auth(&ta)
        .json(&student("1", "Ada"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(newest(&sb, &ta, "/a", ""), a0 + 1);
    assert_eq!(newest(&sb, &tb, "/b", ""), b0);
    // an instance/year prefix is its own database, and so are its versions
    let r = sb
        .http
        .post(sb.url("/a/data/v3/2025/ed-fi/students"))
        .bearer_auth(&ta)
        .json(&student("1", "Ada"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(newest(&sb, &ta, "/a", "/2025"), a0 + 1);
    assert_eq!(newest(&sb, &ta, "/a", ""), a0 + 1);
    // a token of tenant a does not work in b; a root without a tenant is 404
    let (status, _, _) = get(
        &sb,
        &ta,
        &sb.url("/b/changeQueries/v1/availableChangeVersions"),
    );
    assert_eq!(status, 401);
    let (status, _, _) = get(
        &sb,
        &ta,
        &sb.url("/changeQueries/v1/availableChangeVersions"),
    );
    assert_eq!(status, 404);
}

#[test]
fn dms_layout_has_change_queries() {
    let sb = Sandbox::start(Version::Ds50, &["--dms"]);
    let t = sb.token();
    let root = sb.get_json(&sb.url("/"));
    assert_eq!(
        root["urls"]["changeQueries"],
        sb.url("/changeQueries/v1/").as_str()
    );
    let n0 = newest(&sb, &t, "", "");
    let r = sb
        .http
        .post(sb.url("/data/ed-fi/students"))
        .bearer_auth(&t)
        .json(&student("1", "Ada"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = id_of(&r);
    let (_, _, body) = get(
        &sb,
        &t,
        &sb.url(&format!("/data/ed-fi/students?minChangeVersion={}", n0 + 1)),
    );
    assert_eq!(unique_ids(&body), ["1"]);
    let r = sb
        .http
        .delete(sb.url(&format!("/data/ed-fi/students/{id}")))
        .bearer_auth(&t)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, _, body) = get(&sb, &t, &sb.url("/data/ed-fi/students/deletes"));
    assert_eq!(body[0]["changeVersion"], n0 + 2);
    assert_eq!(newest(&sb, &t, "", ""), n0 + 2);
}
