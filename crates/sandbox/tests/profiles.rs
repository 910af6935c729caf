//! ODS/API profiles over real HTTP: `--profile NAME:FILE`, clients assigned profiles
//! (`--client ID:SECRET,profile=P`), the profile media types, what readable content types show
//! and writable ones write, and the ODS's errors.

use lightbeam_testkit::{bin, tmp_dir, Sandbox, Version};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;

const PROFILES: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Profiles>
  <!-- reads a few members; writes all but two -->
  <Profile name="Test-Read-IncludeOnly">
    <Resource name="School">
      <ReadContentType memberSelection="IncludeOnly">
        <Property name="NameOfInstitution" />
        <Collection name="SchoolGradeLevels" memberSelection="IncludeAll" />
        <Collection name="EducationOrganizationAddresses" memberSelection="IncludeOnly">
          <Property name="NameOfCounty" />
        </Collection>
      </ReadContentType>
      <WriteContentType memberSelection="ExcludeOnly">
        <Property name="ShortNameOfInstitution" />
        <Property name="WebSite" />
      </WriteContentType>
    </Resource>
  </Profile>
  <Profile name="Test-Read-ExcludeOnly">
    <Resource name="School">
      <ReadContentType memberSelection="ExcludeOnly">
        <Property name="NameOfInstitution" />
        <Property name="LocalEducationAgencyReference" />
        <Property name="SchoolId" /> <!-- identifying: cannot be excluded -->
        <Collection name="EducationOrganizationAddresses" memberSelection="IncludeAll" />
      </ReadContentType>
    </Resource>
  </Profile>
  <Profile name="Test-Write-NonCreatable">
    <Resource name="School">
      <WriteContentType memberSelection="IncludeAll">
        <Property name="NameOfInstitution" />
        <Collection name="EducationOrganizationIdentificationCodes" memberSelection="ExcludeOnly">
          <Property name="IdentificationCode" />
        </Collection>
      </WriteContentType>
    </Resource>
  </Profile>
  <Profile name="Test-Write-Excludes-Required">
    <Resource name="School">
      <WriteContentType memberSelection="ExcludeOnly">
        <Property name="NameOfInstitution" />
      </WriteContentType>
    </Resource>
  </Profile>
  <Profile name="Student-Only">
    <Resource name="Student">
      <ReadContentType memberSelection="IncludeAll" />
      <WriteContentType memberSelection="IncludeAll" />
    </Resource>
  </Profile>
</Profiles>
"#;

const NAMES: [&str; 5] = [
    "Test-Read-IncludeOnly",
    "Test-Read-ExcludeOnly",
    "Test-Write-NonCreatable",
    "Test-Write-Excludes-Required",
    "Student-Only",
];

fn profiles_file(name: &str) -> PathBuf {
    let path = tmp_dir(name).join("Profiles.xml");
    std::fs::write(&path, PROFILES).unwrap();
    path
}

/// A sandbox with the test profiles and clients: `testkey` (none), `one` (Test-Read-IncludeOnly),
/// `two` (both Test-Read profiles), `nc` (Test-Write-NonCreatable), `req`
/// (Test-Write-Excludes-Required).
fn start(name: &str) -> Sandbox {
    let file = profiles_file(name).display().to_string();
    let mut args: Vec<String> = Vec::new();
    for p in NAMES {
        args.extend(["--profile".into(), format!("{p}:{file}")]);
    }
    for c in [
        "testkey:testsecret",
        "one:s,profile=Test-Read-IncludeOnly",
        "two:s,profile=Test-Read-IncludeOnly,profile=Test-Read-ExcludeOnly",
        "nc:s,profile=Test-Write-NonCreatable",
        "req:s,profile=Test-Write-Excludes-Required",
    ] {
        args.extend(["--client".into(), c.into()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Sandbox::start(Version::Ds50, &args)
}

fn school(name: &str) -> Value {
    json!({"schoolId": 255901001, "nameOfInstitution": name, "shortNameOfInstitution": "GBHS",
        "webSite": "https://gbhs.example", "localEducationAgencyReference": {"localEducationAgencyId": 255901},
        "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
        "gradeLevels": [{"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}],
        "addresses": [{"addressTypeDescriptor": "uri://ed-fi.org/AddressTypeDescriptor#Physical",
            "stateAbbreviationDescriptor": "uri://ed-fi.org/StateAbbreviationDescriptor#TX",
            "city": "Grand Bend", "postalCode": "78000", "streetNumberName": "1 Main St",
            "nameOfCounty": "Bend", "latitude": "30.1"}],
        "identificationCodes": [{"educationOrganizationIdentificationSystemDescriptor": "uri://ed-fi.org/EducationOrganizationIdentificationSystemDescriptor#ACT",
            "identificationCode": "A-1"}]})
}

/// Seed the LEA and school with the unprofiled client; the school's id.
fn seed(sb: &Sandbox, t: &str) -> String {
    let lea = json!({"localEducationAgencyId": 255901, "nameOfInstitution": "Grand Bend ISD",
        "localEducationAgencyCategoryDescriptor": "uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent",
        "categories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency"}]});
    assert_eq!(
        sb.post(t, "/ed-fi/localEducationAgencies", &lea).status(),
        201
    );
    let r = sb.post(t, "/ed-fi/schools", &school("Grand Bend High School"));
    assert_eq!(r.status(), 201, "{:?}", r.text());
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    loc.rsplit('/').next().unwrap().to_string()
}

fn readable(resource: &str, profile: &str) -> String {
    format!("application/vnd.ed-fi.{resource}.{profile}.readable+json")
}

fn writable(resource: &str, profile: &str) -> String {
    format!("application/vnd.ed-fi.{resource}.{profile}.writable+json")
}

/// GET with an optional `Accept`: status, `Content-Type`, body.
fn get(sb: &Sandbox, t: &str, path: &str, accept: Option<&str>) -> (u16, String, Value) {
    let mut r = sb.http.get(sb.data(path)).bearer_auth(t);
    if let Some(a) = accept {
        r = r.header("Accept", a);
    }
    let r = r.send().unwrap();
    let status = r.status().as_u16();
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    (status, ct, r.json().unwrap_or(Value::Null))
}

/// POST or PUT a JSON body with a `Content-Type`: status and body.
fn write(
    sb: &Sandbox,
    t: &str,
    method: reqwest::Method,
    path: &str,
    content_type: &str,
    body: &Value,
) -> (u16, Value) {
    let r = sb
        .http
        .request(method, sb.data(path))
        .bearer_auth(t)
        .header("Content-Type", content_type)
        .body(body.to_string())
        .send()
        .unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// The problem details of a profile error: its status, type and one error.
fn assert_problem(got: (u16, Value), status: u16, typ: &str, error: &str) {
    let (s, body) = got;
    assert_eq!(s, status, "{body}");
    assert_eq!(body["type"], typ, "{body}");
    assert_eq!(body["errors"], json!([error]), "{body}");
}

#[test]
fn readable_content_types_and_assigned_profiles() {
    let sb = start("profiles-read");
    let admin = sb.token();
    let id = seed(&sb, &admin);
    let item = format!("/ed-fi/schools/{id}");

    // unprofiled: everything, as application/json
    let (status, ct, full) = get(&sb, &admin, &item, None);
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"), "{ct}");
    assert!(full["webSite"].is_string() && full["addresses"][0]["latitude"].is_string());

    // IncludeOnly: the named members, the identity and the metadata; nested IncludeOnly keeps
    // the items' identity
    let include = readable("school", "test-read-includeonly");
    let (status, ct, body) = get(&sb, &admin, &item, Some(&include));
    assert_eq!((status, ct.as_str()), (200, include.as_str()));
    assert_eq!(
        keys(&body),
        BTreeSet::from([
            "id",
            "schoolId",
            "nameOfInstitution",
            "gradeLevels",
            "addresses",
            "_etag",
            "_lastModifiedDate"
        ])
    );
    assert_eq!(
        keys(&body["addresses"][0]),
        BTreeSet::from([
            "addressTypeDescriptor",
            "stateAbbreviationDescriptor",
            "city",
            "postalCode",
            "streetNumberName",
            "nameOfCounty"
        ])
    );
    assert_eq!(body["gradeLevels"], full["gradeLevels"]);
    // ... the profile name is case-insensitive
    let (status, _, same) = get(
        &sb,
        &admin,
        &item,
        Some(&readable("School", "TEST-READ-INCLUDEONLY")),
    );
    assert_eq!((status, &same), (200, &body));

    // ExcludeOnly: all but the named members; the identifying schoolId stays
    let exclude = readable("school", "test-read-excludeonly");
    let (_, _, body) = get(&sb, &admin, &item, Some(&exclude));
    for gone in [
        "nameOfInstitution",
        "localEducationAgencyReference",
        "addresses",
    ] {
        assert!(body.get(gone).is_none(), "{gone}: {body}");
    }
    for kept in [
        "schoolId",
        "shortNameOfInstitution",
        "webSite",
        "identificationCodes",
        "_etag",
    ] {
        assert!(body.get(kept).is_some(), "{kept}: {body}");
    }
    // collections too, with the profile media type
    let (status, ct, list) = get(&sb, &admin, "/ed-fi/schools", Some(&exclude));
    assert_eq!((status, ct.as_str()), (200, exclude.as_str()));
    assert_eq!(list[0], body);

    // one assigned profile: applied without asking, to item and collection GETs
    let one = sb.token_for("one", "s");
    let (status, ct, body) = get(&sb, &one, &item, None);
    assert_eq!((status, ct.as_str()), (200, include.as_str()));
    assert!(body.get("webSite").is_none());
    let (_, _, list) = get(
        &sb,
        &one,
        "/ed-fi/schools?totalCount=true",
        Some("application/json"),
    );
    assert_eq!(list[0], body);
    // ... another assigned-to-nobody profile is refused to it
    assert_problem(
        {
            let (s, _, b) = get(&sb, &one, &item, Some(&exclude));
            (s, b)
        },
        403,
        "urn:ed-fi:api:security:data-policy:incorrect-usage",
        &format!("Based on profile assignments, the following profile-specific content type is required when requesting this resource: '{include}'"),
    );
    // ... resources its profile does not cover are not shaped
    let (status, ct, _) = get(&sb, &one, "/ed-fi/localEducationAgencies", None);
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"));

    // two assigned profiles: the client must name one
    let two = sb.token_for("two", "s");
    let (status, _, body) = get(&sb, &two, &item, None);
    assert_eq!(status, 403);
    assert_eq!(body["title"], "Data Policy Failure Due to Incorrect Usage");
    assert_eq!(body["detail"], "A data policy failure was encountered. The request was not constructed correctly for the data policy that has been applied to this data for the caller.");
    assert_eq!(
        body["errors"][0],
        format!("Based on profile assignments, one of the following profile-specific content types is required when requesting this resource: '{exclude}', '{include}'")
    );
    let (status, _, body) = get(&sb, &two, &item, Some(&exclude));
    assert_eq!(status, 200);
    assert!(body.get("nameOfInstitution").is_none());
    // ... but for writing only one of them has a content type: applied
    let mut changed = school("Grand Bend HS");
    changed["webSite"] = json!("https://ignored.example");
    let (status, _) = write(
        &sb,
        &two,
        reqwest::Method::POST,
        "/ed-fi/schools",
        "application/json",
        &changed,
    );
    assert_eq!(status, 200);
    let (_, _, stored) = get(&sb, &admin, &item, None);
    assert_eq!(stored["nameOfInstitution"], "Grand Bend HS");
    assert_eq!(
        stored["webSite"], "https://gbhs.example",
        "not writable: kept"
    );
}

#[test]
fn media_type_errors() {
    let sb = start("profiles-errors");
    let t = sb.token();
    let id = seed(&sb, &t);
    let item = format!("/ed-fi/schools/{id}");
    const USAGE: &str = "urn:ed-fi:api:profile:invalid-profile-usage";
    let gets = [
        (readable("school", "nope"), 406, USAGE, "The profile specified by the content type in the 'Accept' header is not supported by this host.".to_string()),
        ("application/vnd.ed-fi.school.readable+json".into(), 400, USAGE, "The format of the profile-based 'Accept' header was invalid.".into()),
        ("application/vnd.ed-fi.school.test-read-includeonly.viewable+json".into(), 400, USAGE, "The profile usage segment in the profile-based 'Accept' header was not recognized.".into()),
        (writable("school", "test-read-includeonly"), 400, USAGE, "A profile-based content type that is writable cannot be used with GET requests.".into()),
        (readable("student", "test-read-includeonly"), 400, USAGE, "The resource specified by the profile-based content type ('student') does not match the requested resource ('School').".into()),
        (readable("school", "test-write-noncreatable"), 405, "urn:ed-fi:api:profile:method-usage", "Resource class 'School' is not readable using API profile 'test-write-noncreatable'.".into()),
    ];
    for (accept, status, typ, error) in gets {
        let (s, _, body) = get(&sb, &t, &item, Some(&accept));
        assert_problem((s, body), status, typ, &error);
    }
    let (s, _, body) = get(
        &sb,
        &t,
        "/ed-fi/students",
        Some(&readable("student", "test-read-includeonly")),
    );
    assert_problem(
        (s, body.clone()),
        400,
        USAGE,
        "Resource 'Student' is not accessible through the 'test-read-includeonly' profile specified by the content type.",
    );
    assert!(body["detail"].as_str().unwrap().ends_with(
        "The resource is not contained by the profile used by (or applied to) the request."
    ));
    let writes = [
        (writable("school", "nope"), 415, "The profile specified by the content type in the 'Content-Type' header is not supported by this host."),
        (readable("school", "test-read-includeonly"), 400, "A profile-based content type that is readable cannot be used with POST requests."),
    ];
    for (ct, status, error) in writes {
        let got = write(
            &sb,
            &t,
            reqwest::Method::POST,
            "/ed-fi/schools",
            &ct,
            &school("x"),
        );
        assert_problem(got, status, USAGE, error);
    }
    // the change queries and DELETE are not shaped, but a bad profile media type is still refused
    let (s, _, _) = get(
        &sb,
        &t,
        "/ed-fi/schools/deletes",
        Some(&readable("school", "test-read-includeonly")),
    );
    assert_eq!(s, 200);
    let (s, _, _) = get(
        &sb,
        &t,
        "/ed-fi/schools/deletes",
        Some(&readable("school", "nope")),
    );
    assert_eq!(s, 406);
    // in the 7.1 style the error is the message
    let old = Sandbox::start(
        Version::Ds50,
        &[
            "--error-style",
            "7.1",
            "--profile",
            &format!("Student-Only:{}", profiles_file("profiles-71").display()),
        ],
    );
    let (s, _, body) = get(
        &old,
        &old.token(),
        "/ed-fi/students",
        Some(&readable("student", "nope")),
    );
    assert_eq!(s, 406);
    assert_eq!(body["message"], "The profile specified by the content type in the 'Accept' header is not supported by this host.");
}

#[test]
fn writable_content_types() {
    let sb = start("profiles-write");
    let admin = sb.token();
    let id = seed(&sb, &admin);
    let item = format!("/ed-fi/schools/{id}");
    let stored = || get(&sb, &admin, &item, None).2;

    // a PUT under an ExcludeOnly content type: the excluded members keep their stored values
    // (a full replacement would drop shortNameOfInstitution), the others are replaced
    let one = sb.token_for("one", "s");
    let mut body = school("Renamed");
    body.as_object_mut()
        .unwrap()
        .remove("shortNameOfInstitution");
    body["webSite"] = json!("https://ignored.example");
    body["addresses"][0]["nameOfCounty"] = json!("Other County");
    let (status, _) = write(
        &sb,
        &one,
        reqwest::Method::PUT,
        &item,
        "application/json",
        &body,
    );
    assert_eq!(status, 204);
    let after = stored();
    assert_eq!(after["nameOfInstitution"], "Renamed");
    assert_eq!(after["shortNameOfInstitution"], "GBHS");
    assert_eq!(after["webSite"], "https://gbhs.example");
    assert_eq!(after["addresses"][0]["nameOfCounty"], "Other County");

    // a profile media type in Content-Type applies its content type to a client without
    // assignments too
    let ct = writable("school", "test-read-includeonly");
    let mut body = school("Renamed Again");
    body["shortNameOfInstitution"] = json!("NOPE");
    let (status, _) = write(
        &sb,
        &admin,
        reqwest::Method::POST,
        "/ed-fi/schools",
        &ct,
        &body,
    );
    assert_eq!(status, 200);
    let after = stored();
    assert_eq!(
        (
            after["nameOfInstitution"].as_str(),
            after["shortNameOfInstitution"].as_str()
        ),
        (Some("Renamed Again"), Some("GBHS"))
    );

    // a content type that leaves out a required member cannot create, but can update
    let req = sb.token_for("req", "s");
    let mut other = school("New School");
    other["schoolId"] = json!(255901002);
    let got = write(
        &sb,
        &req,
        reqwest::Method::POST,
        "/ed-fi/schools",
        "application/json",
        &other,
    );
    assert_problem(
        got,
        400,
        "urn:ed-fi:api:bad-request:data-policy-enforced",
        "The Profile definition for 'Test-Write-Excludes-Required' excludes (or does not include) one or more required data elements needed to create the resource.",
    );
    assert_eq!(sb.count("schools"), 1);
    let mut update = school("Not Written");
    update["webSite"] = json!("https://written.example");
    let (status, _) = write(
        &sb,
        &req,
        reqwest::Method::POST,
        "/ed-fi/schools",
        "application/json",
        &update,
    );
    assert_eq!(status, 200);
    let after = stored();
    assert_eq!(after["nameOfInstitution"], "Renamed Again");
    assert_eq!(after["webSite"], "https://written.example");

    // a collection whose items leave out a required member: existing items keep it, new items
    // cannot be made
    let nc = sb.token_for("nc", "s");
    let mut body = school("Renamed Again");
    body["identificationCodes"][0]["identificationCode"] = json!("CHANGED");
    let (status, _) = write(
        &sb,
        &nc,
        reqwest::Method::POST,
        "/ed-fi/schools",
        "application/json",
        &body,
    );
    assert_eq!(status, 200);
    assert_eq!(
        stored()["identificationCodes"][0]["identificationCode"],
        "A-1"
    );
    body["identificationCodes"].as_array_mut().unwrap().push(json!({
        "educationOrganizationIdentificationSystemDescriptor": "uri://ed-fi.org/EducationOrganizationIdentificationSystemDescriptor#DUNS",
        "identificationCode": "D-1"}));
    let got = write(
        &sb,
        &nc,
        reqwest::Method::POST,
        "/ed-fi/schools",
        "application/json",
        &body,
    );
    assert_problem(
        got,
        400,
        "urn:ed-fi:api:bad-request:data-policy-enforced",
        "The Profile definition for 'Test-Write-NonCreatable' excludes (or does not include) one or more required data elements needed to create a child item of type 'EducationOrganizationIdentificationCode' in the resource.",
    );
    assert_eq!(stored()["identificationCodes"].as_array().unwrap().len(), 1);
    // DELETE is not shaped by profiles
    let r = sb
        .http
        .delete(sb.data(&item))
        .bearer_auth(&nc)
        .send()
        .unwrap();
    assert_eq!(r.status(), 204);
}

#[test]
fn bad_profile_options_stop_the_start() {
    let file = profiles_file("profiles-bad");
    let bad_xml = tmp_dir("profiles-bad-xml").join("bad.xml");
    std::fs::write(&bad_xml, "<Profiles><Profile name=\"P\"><Resource name=\"Nothing\"><ReadContentType memberSelection=\"IncludeAll\"/></Resource></Profile></Profiles>").unwrap();
    let include_missing = tmp_dir("profiles-bad-member").join("bad.xml");
    std::fs::write(&include_missing, "<Profile name=\"P\"><Resource name=\"School\"><ReadContentType memberSelection=\"IncludeOnly\"><Property name=\"Nope\"/></ReadContentType></Resource></Profile>").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--profile".into(), format!("Missing:{}", file.display())],
            "no profile named \"Missing\"",
        ),
        (
            vec!["--profile".into(), format!("P:{}", bad_xml.display())],
            "resource 'Nothing' is not in the API's documents",
        ),
        (
            vec![
                "--profile".into(),
                format!("P:{}", include_missing.display()),
            ],
            "attempted to include member 'Nope' of 'School', but it doesn't exist",
        ),
        (
            vec!["--profile".into(), "no-file".into()],
            "expected NAME:FILE",
        ),
        (
            vec!["--client".into(), "k:s,profile=Unknown".into()],
            "profile \"Unknown\" is not one of --profile",
        ),
        (
            vec!["--client".into(), "k:s,color=blue".into()],
            "unknown option \"color=blue\" (known: tenant=T, profile=P)",
        ),
    ];
    for (extra, says) in cases {
        let out = std::process::Command::new(bin("edfi-sandbox"))
            .arg("serve")
            .args(Version::Ds50.serve_args())
            .args(&extra)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{extra:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{extra:?}: {stderr}");
    }
}
