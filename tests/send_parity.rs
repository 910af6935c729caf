//! Parity with the Python lightbeam 0.1.12: both send the same files, with bad lines, to
//! sandboxes started alike; per-endpoint counts and failures (status, message, file, lines) agree.
//!
//! Deliberate differences (SPEC.md section 5): blank lines are not sent by ours (Python POSTs an
//! empty body and counts a failure), so the files here have none; see README "Differences".

use lightbeam_e2e::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// (status, message, file name, lines) of every failure of an endpoint.
fn failures(r: &Value) -> BTreeSet<(u64, String, String, Vec<u64>)> {
    r["failures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            let name = Path::new(file)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let mut lines: Vec<u64> = f["line_numbers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .collect();
            lines.sort();
            (
                f["status_code"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap().to_string(),
                name,
                lines,
            )
        })
        .collect()
}

#[test]
fn same_files_same_counts_and_failures_as_the_python_tool() {
    let mut runs = Vec::new();
    for tool in Tool::BOTH {
        let dir = tmp_dir(&format!("parity-{}", tool.name()));
        let data = dir.join("data");
        generate(&data, 30, 21);
        append_lines(
            &data.join("students.jsonl"),
            &[
                r#"{"studentUniqueId": "bad-json", "firstName": "A""#,
                r#"{"studentUniqueId": "no-surname", "birthDate": "2010-01-01", "firstName": "A"}"#,
                r#"{"studentUniqueId": "wrong-type", "birthDate": "2010-01-01", "firstName": 7, "lastSurname": "B"}"#,
                r#"{"studentUniqueId": "bad-country", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B", "birthCountryDescriptor": "uri://ed-fi.org/CountryDescriptor#Atlantis"}"#,
                r#"{"studentUniqueId": "no-namespace", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B", "birthCountryDescriptor": "US"}"#,
                r#"[1, 2, 3]"#,
            ],
        );
        append_lines(
            &data.join("studentSchoolAssociations.jsonl"),
            &[
                r#"{"entryDate": "2023-08-23", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "schoolReference": {"schoolId": 255950001}, "studentReference": {"studentUniqueId": "nobody"}}"#,
                r#"{"entryDate": "2023-08-23", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade", "schoolReference": {"schoolId": 1}, "studentReference": {"studentUniqueId": "nobody"}}"#,
            ],
        );
        let sb = Sandbox::start(Version::Ds50, &[]);
        write_config(&dir, &sb.base, "  pool_size: 4\n", "");
        let (_, results) = tool.results(&dir, "send");
        runs.push((results, sb.records()));
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (python, python_counts) = &runs[0];
    let (rust, rust_counts) = &runs[1];
    assert_eq!(
        python_counts, rust_counts,
        "the APIs hold the same records afterwards"
    );
    let endpoints: BTreeSet<&String> = python["resources"].as_object().unwrap().keys().collect();
    assert_eq!(
        endpoints,
        rust["resources"].as_object().unwrap().keys().collect()
    );
    for e in endpoints {
        let (p, r) = (&python["resources"][e], &rust["resources"][e]);
        for k in ["records_processed", "records_skipped", "records_failed"] {
            assert_eq!(p[k], r[k], "{e}.{k}");
        }
        assert_eq!(failures(p), failures(r), "{e}: failures");
    }
    for k in [
        "total_records_processed",
        "total_records_skipped",
        "total_records_failed",
    ] {
        assert_eq!(python[k], rust[k], "{k}");
    }
    // the bad lines really failed, with the API's messages
    let students = failures(&rust["resources"]["students"]);
    assert_eq!(
        students.iter().map(|f| f.3.len()).sum::<usize>(),
        6,
        "{students:?}"
    );
    assert!(
        students
            .iter()
            .any(|f| f.1 == "LastSurname is required. (at $.lastSurname)"),
        "{students:?}"
    );
    let ssa = failures(&rust["resources"]["studentSchoolAssociations"]);
    assert!(ssa.iter().any(|f| f.0 == 409), "{ssa:?}");
}
