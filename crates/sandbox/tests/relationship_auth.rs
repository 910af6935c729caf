//! `--relationship-auth` over real HTTP: a payload naming a student, staff member or contact
//! waits for the association that relates that person (403 with the ODS's body before it), the
//! persons themselves are always allowed, and our `lightbeam` sending generated data in
//! dependency order meets no 403.

use lightbeam_testkit::{
    bin, generate, text, tmp_dir, total_lines, write_lightbeam_config, Sandbox, Version,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The generated payloads of `endpoint` in `dir`.
fn payloads(dir: &Path, endpoint: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("{endpoint}.jsonl")))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// POST a payload: its status and its body (`null` when empty).
fn post(sb: &Sandbox, token: &str, endpoint: &str, body: &Value) -> (u16, Value) {
    let r = sb.post(token, &format!("/ed-fi/{endpoint}"), body);
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// Data of `students` generated into a fresh dir (`name`), a sandbox started with `args`, and
/// a token of it, with which every generated file before `stop` was posted in the generator's
/// (dependency) order, each payload created: (dir, sandbox, token).
fn loaded_until(
    name: &str,
    students: usize,
    args: &[&str],
    stop: &str,
) -> (PathBuf, Sandbox, String) {
    let dir = tmp_dir(name);
    let files = generate(&dir, students, 7);
    let sb = Sandbox::start(Version::Ds50, args);
    let token = sb.token();
    for (endpoint, _) in files.iter().take_while(|(e, _)| e != stop) {
        for p in payloads(&dir, endpoint) {
            let (status, body) = post(&sb, &token, endpoint, &p);
            assert_eq!(status, 201, "{endpoint} {p}: {body}");
        }
    }
    (dir, sb, token)
}

/// `payload` with the value at the JSON pointer `at` replaced.
fn with(mut payload: Value, at: &str, value: &str) -> Value {
    *payload.pointer_mut(at).expect("the pointer exists") = json!(value);
    payload
}

/// The `errors` of a 7.2 403 for the person property `property` (`StudentUniqueId`).
fn no_relationships(property: &str) -> Value {
    json!([format!("No relationships have been established between the caller's education organization id claim (255901) and the resource item's '{property}' value.")])
}

/// A generated grade, and the section association and enrollment of its student.
fn grade_and_its_student(dir: &Path) -> (Value, Value, Value) {
    let grade = payloads(dir, "grades").remove(0);
    let of_grade = &grade["studentSectionAssociationReference"];
    let student = &of_grade["studentUniqueId"];
    let section = payloads(dir, "studentSectionAssociations")
        .into_iter()
        .find(|s| {
            s["studentReference"]["studentUniqueId"] == *student
                && s["sectionReference"]["sectionIdentifier"] == of_grade["sectionIdentifier"]
        })
        .expect("the grade's section association");
    let enrollment = payloads(dir, "studentSchoolAssociations")
        .into_iter()
        .find(|e| e["studentReference"]["studentUniqueId"] == *student)
        .expect("the student's enrollment");
    (grade, section, enrollment)
}

#[test]
fn a_section_association_waits_for_the_enrollment() {
    // students and staff, then everything up to the enrollments: the staff's section
    // associations follow their assignments and school associations
    let (dir, sb, t) = loaded_until(
        "relationship-auth",
        3,
        &["--relationship-auth"],
        "studentSchoolAssociations",
    );
    let (grade, section, enrollment) = grade_and_its_student(&dir);
    let r = sb.post(&t, "/ed-fi/studentSectionAssociations", &section);
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().unwrap();
    assert_eq!(body["type"], "urn:ed-fi:api:security:authorization");
    assert_eq!(body["title"], "Authorization Denied");
    assert_eq!(body["status"], 403);
    assert_eq!(body["detail"], "Access to the requested data could not be authorized. Hint: You may need to create a corresponding 'StudentSchoolAssociation' item.");
    assert_eq!(body["errors"], no_relationships("StudentUniqueId"));
    assert!(body["correlationId"].is_string());
    // a grade names the student in its section association reference
    assert_eq!(post(&sb, &t, "grades", &grade).0, 403);
    // a student that does not exist is not related either: 403, not 409
    let nobody = with(
        section.clone(),
        "/studentReference/studentUniqueId",
        "nobody",
    );
    assert_eq!(post(&sb, &t, "studentSectionAssociations", &nobody).0, 403);
    // the enrollment relates the student; the student resource is always allowed
    assert_eq!(
        post(&sb, &t, "studentSchoolAssociations", &enrollment).0,
        201
    );
    assert_eq!(post(&sb, &t, "studentSectionAssociations", &section).0, 201);
    assert_eq!(post(&sb, &t, "grades", &grade).0, 201);
    assert_eq!(
        post(&sb, &t, "students", &payloads(&dir, "students")[0]).0,
        200
    );
    assert_eq!(sb.stats()["requests"]["POST"]["403"], 3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn staff_and_contacts_wait_for_their_associations() {
    let (dir, sb, t) = loaded_until(
        "relationship-auth-staff",
        2,
        &["--relationship-auth"],
        "staffSectionAssociations",
    );
    // a new staff member: allowed; their section association only after their school association
    let staff = with(payloads(&dir, "staffs").remove(0), "/staffUniqueId", "S-1");
    assert_eq!(post(&sb, &t, "staffs", &staff).0, 201);
    let at = "/staffReference/staffUniqueId";
    let teaches = with(
        payloads(&dir, "staffSectionAssociations").remove(0),
        at,
        "S-1",
    );
    let (status, body) = post(&sb, &t, "staffSectionAssociations", &teaches);
    assert_eq!(status, 403);
    assert_eq!(body["detail"], "Access to the requested data could not be authorized. Hint: You may need to create corresponding 'StaffEducationOrganizationEmploymentAssociation' or 'StaffEducationOrganizationAssignmentAssociation' items.");
    assert_eq!(body["errors"], no_relationships("StaffUniqueId"));
    let works_at = with(
        payloads(&dir, "staffSchoolAssociations").remove(0),
        at,
        "S-1",
    );
    assert_eq!(post(&sb, &t, "staffSchoolAssociations", &works_at).0, 201);
    assert_eq!(post(&sb, &t, "staffSectionAssociations", &teaches).0, 201);
    // a contact: allowed; a survey response naming them only after a student-contact association
    let contact = json!({"contactUniqueId": "C-1", "firstName": "Grace", "lastSurname": "Hopper"});
    assert_eq!(post(&sb, &t, "contacts", &contact).0, 201);
    let response = json!({"surveyResponseIdentifier": "R-1", "responseDate": "2024-01-10",
        "surveyReference": {"namespace": "uri://example.org/survey", "surveyIdentifier": "S"},
        "contactReference": {"contactUniqueId": "C-1"}});
    let (status, body) = post(&sb, &t, "surveyResponses", &response);
    assert_eq!(status, 403);
    assert_eq!(body["errors"], no_relationships("ContactUniqueId"));
    let student = &payloads(&dir, "students")[0]["studentUniqueId"];
    let parent_of = json!({"contactReference": {"contactUniqueId": "C-1"}, "studentReference": {"studentUniqueId": student}});
    assert_eq!(
        post(&sb, &t, "studentContactAssociations", &parent_of).0,
        201
    );
    // authorized now; the survey itself does not exist
    assert_eq!(post(&sb, &t, "surveyResponses", &response).0, 409);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_the_flag_order_does_not_matter() {
    let (dir, sb, t) = loaded_until("relationship-auth-off", 2, &[], "studentSchoolAssociations");
    let (_, section, _) = grade_and_its_student(&dir);
    assert_eq!(post(&sb, &t, "studentSectionAssociations", &section).0, 201);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn older_style_relationship_body() {
    let sb = Sandbox::start(
        Version::Ds50,
        &["--relationship-auth", "--error-style", "7.1"],
    );
    let section = json!({"beginDate": "2023-08-21", "studentReference": {"studentUniqueId": "604822"},
        "sectionReference": {"localCourseCode": "ALG-1", "schoolId": 255901001, "schoolYear": 2024,
            "sectionIdentifier": "ALG-1-1", "sessionName": "2023-2024 Fall Semester"}});
    let r = sb.post(&sb.token(), "/ed-fi/studentSectionAssociations", &section);
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"message": "Authorization denied. No relationships have been established between the caller's education organization id claim (255901) and the resource item's 'StudentUniqueId' value."})
    );
}

#[test]
fn lightbeam_sends_generated_data_in_dependency_order_without_a_403() {
    let dir = tmp_dir("relationship-auth-send");
    let data = dir.join("data");
    let files = generate(&data, 30, 5);
    let sb = Sandbox::start(Version::Ds50, &["--relationship-auth"]);
    write_lightbeam_config(&dir, &data, &sb.base, "  pool_size: 8\n", "");
    let o = Command::new(bin("lightbeam"))
        .args(["send", "-c", "lightbeam.yaml"])
        .current_dir(&dir)
        .output()
        .expect("run lightbeam");
    assert!(o.status.success(), "{}", text(&o));
    let stats = sb.stats();
    assert_eq!(
        stats["requests"]["POST"],
        json!({"201": total_lines(&files)}),
        "{}",
        text(&o)
    );
    for (endpoint, n) in &files {
        assert_eq!(sb.count(endpoint), *n, "{endpoint}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
