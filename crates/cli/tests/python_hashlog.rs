//! The Python tool's state through the CLI: after the Python lightbeam 0.1.12 sent to an API
//! (its `{state_dir}/{endpoint}.dat` hashlogs), `lightbeam send` on the same `state_dir` imports
//! them, sends again none of what the Python tool sent, and resends what it recorded as failed.
//! Needs the Python lightbeam (`LIGHTBEAM_PY`, or the repository's `.venv` made by
//! `scripts/setup.sh`); without either it is skipped, with `LIGHTBEAM_PY` set it must run.

use std::path::Path;
use std::process::{Command, Output};

use lightbeam_testkit::{python_lightbeam, text, tmp_dir, workspace_root, Sandbox, Version};
use rusqlite::Connection;

const STUDENTS: &str = "\
{\"studentUniqueId\":\"s1\",\"birthDate\":\"2010-01-01\",\"firstName\":\"A\",\"lastSurname\":\"B\"}
{\"studentUniqueId\":\"s2\",\"birthDate\":\"2010-01-02\",\"firstName\":\"C\",\"lastSurname\":\"D\"}
{\"studentUniqueId\":\"s3\",\"birthDate\":\"2010-01-03\",\"firstName\":\"E\",\"lastSurname\":\"F\"}
";

/// An enrollment in a school that does not exist yet: 409, which the Python tool records (it
/// leaves 400s out of its hashlog).
const ENROLLMENT: &str = "{\"entryDate\":\"2023-08-23\",\"entryGradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\",\"schoolReference\":{\"schoolId\":1},\"studentReference\":{\"studentUniqueId\":\"s1\"}}\n";

const LEA: &str = "{\"localEducationAgencyId\":1000,\"nameOfInstitution\":\"LEA\",\"localEducationAgencyCategoryDescriptor\":\"uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent\",\"categories\":[{\"educationOrganizationCategoryDescriptor\":\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency\"}]}\n";

const SCHOOL: &str = "{\"schoolId\":1,\"nameOfInstitution\":\"School\",\"localEducationAgencyReference\":{\"localEducationAgencyId\":1000},\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School\"}],\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"}]}\n";

/// Whether the Python lightbeam is at hand (with `LIGHTBEAM_PY` set it must be).
fn python_tool_present() -> bool {
    match std::env::var_os("LIGHTBEAM_PY") {
        Some(_) => true,
        None => workspace_root().join(".venv/bin/lightbeam").exists(),
    }
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

/// Our `lightbeam send -c lightbeam.yaml --results-file {results}` in `dir`.
fn send(dir: &Path, results: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lightbeam"))
        .args(["send", "-c", "lightbeam.yaml", "--results-file", results])
        .current_dir(dir)
        .output()
        .expect("run lightbeam")
}

/// (endpoint, status) of every row of the state database.
fn state_rows(dir: &Path) -> Vec<(String, u16)> {
    let conn = Connection::open(dir.join("state/lightbeam.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT endpoint, status FROM payload_state ORDER BY endpoint, status")
        .unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_send_after_the_python_tool_skips_what_it_sent_and_resends_what_failed() {
    if !python_tool_present() {
        eprintln!("no Python lightbeam (LIGHTBEAM_PY or .venv): skipped");
        return;
    }
    let dir = tmp_dir("cli-python-hashlog");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    write(&data, "students.jsonl", STUDENTS);
    write(&data, "studentSchoolAssociations.jsonl", ENROLLMENT);
    let sb = Sandbox::start(Version::Ds50, &[]);
    let config = format!(
        "state_dir: {state}\ndata_dir: {data}/\nedfi_api:\n  base_url: {base}\n  mode: shared_instance\n  client_id: testkey\n  client_secret: testsecret\nconnection:\n  verify_ssl: true\n  pool_size: 2\n",
        state = dir.join("state").display(),
        data = data.display(),
        base = sb.base,
    );
    write(&dir, "lightbeam.yaml", &config);

    let o = python_lightbeam(&dir, &["send", "-c", "lightbeam.yaml"]);
    assert!(o.status.success(), "the Python tool: {}", text(&o));
    for hashlog in ["students.dat", "studentSchoolAssociations.dat"] {
        assert!(dir.join("state").join(hashlog).is_file(), "{hashlog}");
    }
    assert_eq!(sb.count("students"), 3);
    assert_eq!(sb.count("studentSchoolAssociations"), 0);

    // the school now exists; ours skips the students and resends the 409 enrollment
    write(&data, "localEducationAgencies.jsonl", LEA);
    write(&data, "schools.jsonl", SCHOOL);
    let o = send(&dir, "results.json");
    assert!(o.status.success(), "ours: {}", text(&o));
    assert!(
        text(&o).contains("imported 3 payload outcomes of students from the Python tool's"),
        "the import is reported: {}",
        text(&o)
    );
    let results = std::fs::read_to_string(dir.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert_eq!(
        results["resources"]["students"]["records_skipped"], 3,
        "what the Python tool sent is not sent again: {results}"
    );
    assert_eq!(sb.stats()["updates"], 0, "no student was sent again");
    assert_eq!(
        sb.count("studentSchoolAssociations"),
        1,
        "the 409 was resent"
    );
    assert_eq!(
        state_rows(&dir),
        [
            ("localEducationAgencies".to_string(), 201),
            ("schools".to_string(), 201),
            ("studentSchoolAssociations".to_string(), 201),
            ("students".to_string(), 201),
            ("students".to_string(), 201),
            ("students".to_string(), 201),
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
