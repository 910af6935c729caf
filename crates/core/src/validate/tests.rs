//! The whole validation in memory: data files as bytes, no API (local descriptors and local
//! references only), on a small synthetic API (native and wasm32) and on the shared DS 5.0,
//! DS 4.0 and Swagger 2.0 documents (native only: they are read from disk).

use super::*;
use crate::api::openapi::Document;
use crate::config::{ReferenceBehavior, ValidationMethods};
use crate::results::{Failure, FailureKind};
use crate::testing::{block_on, MemFiles, Recorder};
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn lines(items: &[serde_json::Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for i in items {
        out.extend(i.to_string().as_bytes());
        out.push(b'\n');
    }
    out
}

/// Endpoints in dependency order and their files (`{endpoint}.jsonl`).
struct Data {
    files: Vec<(String, Vec<u8>)>,
}

impl Data {
    fn new() -> Data {
        Data { files: Vec::new() }
    }
    fn file(mut self, endpoint: &str, bytes: Vec<u8>) -> Data {
        self.files.push((endpoint.to_string(), bytes));
        self
    }
    /// The plan: each endpoint (in the order given) with its one file.
    fn plan(&self) -> DataPlan {
        let files: Vec<DataFile> = self
            .files
            .iter()
            .map(|(e, _)| data_file(e, &format!("data/{e}.jsonl")))
            .collect();
        DataPlan {
            levels: vec![files
                .iter()
                .map(|f| EndpointPlan {
                    endpoint: f.endpoint.clone(),
                    files: vec![f.clone()],
                })
                .collect()],
            files,
            unmatched: Vec::new(),
        }
    }
    fn source(&self) -> MemFiles {
        self.files.iter().fold(MemFiles::new(), |m, (e, b)| {
            m.with(&format!("data/{e}.jsonl"), b.clone())
        })
    }
}

fn data_file(endpoint: &str, path: &str) -> DataFile {
    DataFile {
        endpoint: endpoint.into(),
        path: path.into(),
        name: path.into(),
    }
}

/// A validation with local data only (no API), reporting to `events`.
fn offline<'a>(
    config: &'a Config,
    model: &'a Model,
    events: &'a Recorder,
    source: &'a MemFiles,
    options: ValidateOptions,
) -> Validation<'a, 'static> {
    Validation {
        config,
        model,
        session: None,
        events,
        source,
        cache: None,
        options,
    }
}

struct Run {
    results: RunResults,
    outcome: Result<(), ValidateError>,
    logs: Vec<String>,
}

fn validate(model: &Model, config: &Config, data: &Data, threads: usize) -> Run {
    let source = data.source();
    let sink = Recorder::default();
    let plan = data.plan();
    let v = offline(
        config,
        model,
        &sink,
        &source,
        ValidateOptions {
            threads,
            batch_lines: 3,
        },
    );
    let mut results = RunResults::default();
    let outcome = block_on(v.run(&plan, &mut results));
    let logs = sink.logs(LogLevel::Debug);
    Run {
        results,
        outcome,
        logs,
    }
}

/// (endpoint, line) of every `references` failure.
fn reference_failures(r: &RunResults) -> Vec<(String, u64)> {
    failures(r)
        .into_iter()
        .filter(|f| f.2 == "references")
        .map(|f| (f.0, f.1))
        .collect()
}

/// (endpoint, line, method, message) of every failure, sorted by endpoint order then line.
fn failures(r: &RunResults) -> Vec<(String, u64, String, String)> {
    let mut out = Vec::new();
    for (endpoint, res) in &r.resources {
        let mut fs: Vec<(u64, String, String)> = Vec::new();
        for Failure {
            kind,
            message,
            line_numbers,
            ..
        } in res.failures()
        {
            let method = match kind {
                FailureKind::Method(m) => m.as_str().to_string(),
                FailureKind::Status(s) => s.to_string(),
            };
            for l in line_numbers {
                fs.push((l, method.clone(), message.clone()));
            }
        }
        fs.sort();
        out.extend(
            fs.into_iter()
                .map(|(l, m, msg)| (endpoint.clone(), l, m, msg)),
        );
    }
    out
}

fn all_methods() -> Config {
    let mut c = Config::default();
    c.validate.methods = ValidationMethods::all();
    c
}

// ---------------------------------------------------------------- a small synthetic API

fn synthetic_model() -> Model {
    let identity = |t: &str| json!({"type": t, "x-Ed-Fi-isIdentity": true});
    let reference = |name: &str, identity: bool| {
        let mut v = json!({"$ref": format!("#/components/schemas/edFi_{name}Reference")});
        if identity {
            v["x-Ed-Fi-isIdentity"] = json!(true);
        }
        v
    };
    let ref_schema = |field: &str, t: &str| {
        json!({"required": [field], "type": "object", "properties": {
            field: {"type": t}, "link": {"$ref": "#/components/schemas/link"}}})
    };
    let resources = json!({
        "openapi": "3.0.1",
        "paths": {
            "/ed-fi/localEducationAgencies": {"get": {}, "post": {}},
            "/ed-fi/schools": {"get": {}, "post": {}},
            "/ed-fi/students": {"get": {}, "post": {}},
            "/ed-fi/studentSchoolAssociations": {"get": {}, "post": {}},
            "/ed-fi/studentEducationOrganizationAssociations": {"get": {}, "post": {}}
        },
        "components": {"schemas": {
            "link": {"type": "object", "properties": {"rel": {"type": "string"}, "href": {"type": "string"}}},
            "edFi_localEducationAgency": {"required": ["localEducationAgencyId", "nameOfInstitution"], "type": "object", "properties": {
                "localEducationAgencyId": identity("integer"),
                "nameOfInstitution": {"type": "string", "maxLength": 75}}},
            "edFi_localEducationAgencyReference": ref_schema("localEducationAgencyId", "integer"),
            "edFi_school": {"required": ["schoolId", "nameOfInstitution", "gradeLevels"], "type": "object", "properties": {
                "schoolId": identity("integer"),
                "nameOfInstitution": {"type": "string", "maxLength": 75},
                "localEducationAgencyReference": reference("localEducationAgency", false),
                "gradeLevels": {"type": "array", "items": {"$ref": "#/components/schemas/edFi_schoolGradeLevel"}}}},
            "edFi_schoolGradeLevel": {"required": ["gradeLevelDescriptor"], "type": "object", "properties": {
                "gradeLevelDescriptor": {"type": "string", "maxLength": 306, "x-Ed-Fi-isIdentity": true}}},
            "edFi_schoolReference": ref_schema("schoolId", "integer"),
            "edFi_student": {"required": ["studentUniqueId", "firstName"], "type": "object", "properties": {
                "studentUniqueId": {"type": "string", "maxLength": 32, "x-Ed-Fi-isIdentity": true},
                "firstName": {"type": "string"},
                "sexDescriptor": {"type": "string"}}},
            "edFi_studentReference": ref_schema("studentUniqueId", "string"),
            "edFi_educationOrganizationReference": ref_schema("educationOrganizationId", "integer"),
            "edFi_studentSchoolAssociation": {"required": ["entryDate", "schoolReference", "studentReference", "entryGradeLevelDescriptor"], "type": "object", "properties": {
                "entryDate": identity("string"),
                "nextYearSchoolReference": reference("school", false),
                "schoolReference": reference("school", true),
                "studentReference": reference("student", true),
                "entryGradeLevelDescriptor": {"type": "string"}}},
            "edFi_studentEducationOrganizationAssociation": {"required": ["educationOrganizationReference", "studentReference"], "type": "object", "properties": {
                "educationOrganizationReference": reference("educationOrganization", true),
                "studentReference": reference("student", true)}}
        }}
    });
    let descriptor = json!({"required": ["codeValue", "namespace", "shortDescription"], "type": "object", "properties": {
        "codeValue": {"type": "string", "maxLength": 50},
        "namespace": {"type": "string", "maxLength": 255},
        "shortDescription": {"type": "string", "maxLength": 75}}});
    let descriptors = json!({
        "openapi": "3.0.1",
        "paths": {
            "/ed-fi/gradeLevelDescriptors": {"get": {}, "post": {}},
            "/ed-fi/sexDescriptors": {"get": {}, "post": {}}
        },
        "components": {"schemas": {
            "edFi_gradeLevelDescriptor": descriptor.clone(),
            "edFi_sexDescriptor": descriptor
        }}
    });
    Model::new(vec![
        Document::new(resources).unwrap(),
        Document::new(descriptors).unwrap(),
    ])
}

const NINTH: &str = "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade";
const FEMALE: &str = "uri://ed-fi.org/SexDescriptor#Female";

fn synthetic_data() -> Data {
    let grade = |code: &str, short: &str| json!({"codeValue": code, "namespace": "uri://ed-fi.org/GradeLevelDescriptor", "shortDescription": short});
    let school = |id: u64, lea: u64, grades: &[&str]| {
        json!({"schoolId": id, "nameOfInstitution": "A", "localEducationAgencyReference": {"localEducationAgencyId": lea},
            "gradeLevels": grades.iter().map(|g| json!({"gradeLevelDescriptor": g})).collect::<Vec<_>>()})
    };
    let ssa = |student: &str, school: u64| {
        json!({"entryDate": "2024-08-20", "schoolReference": {"schoolId": school}, "studentReference": {"studentUniqueId": student},
            "entryGradeLevelDescriptor": NINTH})
    };
    // students: a BOM, CRLF line ends, a blank line, a line that is not UTF-8
    let mut students = b"\xEF\xBB\xBF".to_vec();
    students.extend(
        json!({"studentUniqueId": "s1", "firstName": "A", "sexDescriptor": FEMALE})
            .to_string()
            .as_bytes(),
    );
    students.extend(b"\r\n{\"studentUniqueId\": \"s2\"}\r\n\r\n{\"studentUniqueId\": \"s3\", \"firstName\": \"A\"\r\n");
    students.extend(b"{\"studentUniqueId\": \"s4\", \"firstName\": \"\xff\"}\r\n");
    students.extend(
        json!({"studentUniqueId": "s5", "firstName": "A", "sexDescriptor": "Female"})
            .to_string()
            .as_bytes(),
    );
    students.extend(b"\r\n");
    students.extend(
        json!({"studentUniqueId": "s6", "firstName": "A", "sexDescriptor": NINTH})
            .to_string()
            .as_bytes(),
    );
    Data::new()
        .file(
            "gradeLevelDescriptors",
            lines(&[
                grade("Ninth grade", "9"),
                grade("Tenth grade", "10"),
                grade("Ninth grade", "Ninth"),
            ]),
        )
        .file(
            "sexDescriptors",
            lines(&[json!({"codeValue": "Female", "namespace": "uri://ed-fi.org/SexDescriptor", "shortDescription": "F"})]),
        )
        .file(
            "localEducationAgencies",
            lines(&[json!({"localEducationAgencyId": 1, "nameOfInstitution": "LEA"})]),
        )
        .file(
            "schools",
            lines(&[
                school(10, 1, &[NINTH]),
                school(11, 2, &[NINTH]),
                school(12, 1, &[NINTH, "uri://ed-fi.org/GradeLevelDescriptor#Tenth grade", NINTH]),
                school(13, 1, &[NINTH, FEMALE]),
                school(10, 1, &[]),
                json!([1, 2]),
            ]),
        )
        .file("students", students)
        .file(
            "studentSchoolAssociations",
            lines(&[
                ssa("s1", 10),
                ssa("s9", 10),
                {
                    let mut x = ssa("s1", 12);
                    x["nextYearSchoolReference"] = json!({"schoolId": 99});
                    x
                },
                ssa("s9", 10),
                ssa("s1", 77),
            ]),
        )
        .file(
            "studentEducationOrganizationAssociations",
            lines(&[
                json!({"educationOrganizationReference": {"educationOrganizationId": 1}, "studentReference": {"studentUniqueId": "s1"}}),
                json!({"educationOrganizationReference": {"educationOrganizationId": 10}, "studentReference": {"studentUniqueId": "s1"}}),
                json!({"educationOrganizationReference": {"educationOrganizationId": 5}, "studentReference": {"studentUniqueId": "s1"}}),
            ]),
        )
}

fn row(e: &str, line: u64, method: &str, message: &str) -> (String, u64, String, String) {
    (e.into(), line, method.into(), message.into())
}

#[test]
fn every_method_reports_the_expected_failure_at_each_line() {
    let model = synthetic_model();
    let run = validate(&model, &all_methods(), &synthetic_data(), 1);
    assert!(run.outcome.is_ok());
    let expected = vec![
        row("gradeLevelDescriptors", 3, "uniqueness", r#"duplicate value(s) for identity key(s): : {"namespace": "uri://ed-fi.org/GradeLevelDescriptor", "codeValue": "Ninth grade"} (first at line 1)"#),
        row("schools", 2, "references", r#"payload contains an invalid localEducationAgencyReference : {"localEducationAgencyId": 2}"#),
        row("schools", 3, "uniqueness", r#"duplicate value(s) for identity key(s): (at gradeLevels[2]): {"gradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"}"#),
        row("schools", 4, "descriptors", "uri://ed-fi.org/SexDescriptor#Female is not a valid descriptor value for gradeLevelDescriptor (at gradeLevels[1])"),
        row("schools", 5, "uniqueness", r#"duplicate value(s) for identity key(s): : {"schoolId": 10} (first at line 1)"#),
        row("schools", 6, "schema", "[1, 2] is not of type 'object' "),
        row("students", 2, "schema", "'firstName' is a required property "),
        row("students", 4, "json", "invalid JSON EOF while parsing an object: column 42 (char 41)"),
        row("students", 5, "json", "invalid JSON: the line is not valid UTF-8 (invalid byte at position 41 of the line)"),
        row("students", 6, "descriptors", "Female is not a valid descriptor value for sexDescriptor; format should be like `uri://namespace.org/SomeDescriptor#SomeValue`"),
        row("students", 7, "descriptors", "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade is not a valid descriptor value for sexDescriptor"),
        row("studentSchoolAssociations", 2, "references", r#"payload contains an invalid studentReference : {"studentUniqueId": "s9"}"#),
        row("studentSchoolAssociations", 3, "references", r#"payload contains an invalid nextYearSchoolReference : {"schoolId": 99}"#),
        row("studentSchoolAssociations", 4, "references", r#"payload contains an invalid studentReference : {"studentUniqueId": "s9"}"#),
        row("studentSchoolAssociations", 4, "uniqueness", r#"duplicate value(s) for identity key(s): : {"entryDate": "2024-08-20", "schoolId": 10, "studentUniqueId": "s9"} (first at line 2)"#),
        row("studentSchoolAssociations", 5, "references", r#"payload contains an invalid schoolReference : {"schoolId": 77}"#),
        row("studentEducationOrganizationAssociations", 3, "references", r#"payload contains an invalid educationOrganizationReference : {"educationOrganizationId": 5}"#),
    ];
    assert_eq!(failures(&run.results), expected);
    let counts: Vec<(&str, u64, u64)> = run
        .results
        .resources
        .iter()
        .map(|(e, r)| (e.as_str(), r.records_processed, r.records_failed))
        .collect();
    assert_eq!(
        counts,
        vec![
            ("gradeLevelDescriptors", 3, 1),
            ("sexDescriptors", 1, 0),
            ("localEducationAgencies", 1, 0),
            ("schools", 6, 5),
            // 7 lines, one blank: 6 payloads
            ("students", 6, 5),
            // line 4 fails twice (uniqueness and references) but counts once
            ("studentSchoolAssociations", 5, 4),
            ("studentEducationOrganizationAssociations", 3, 1),
        ]
    );
    assert!(run.logs.iter().any(
        |l| l == "... VALIDATION ERROR (schema at line 2): 'firstName' is a required property "
    ));
    assert!(run
        .logs
        .iter()
        .any(|l| l
            == "... VALIDATION ERRORS on 5 of 6 lines in data/schools.jsonl; see details above."));
    assert!(run.logs.iter().any(|l| l == "... all lines validate ok!"));
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn threads_change_nothing_but_speed() {
    let model = synthetic_model();
    let one = validate(&model, &all_methods(), &synthetic_data(), 1);
    for threads in [2, 3, 8] {
        let many = validate(&model, &all_methods(), &synthetic_data(), threads);
        assert_eq!(failures(&many.results), failures(&one.results));
    }
    // and with batches big enough to be split between threads
    let mut big = Vec::new();
    for i in 0..2000 {
        big.push(json!({"studentUniqueId": format!("s{}", i % 1500), "firstName": if i % 7 == 0 { json!(7) } else { json!("A") }}));
    }
    let data = Data::new().file("students", lines(&big));
    let mut config = all_methods();
    config.validate.methods = ValidationMethods::default();
    let run_with = |threads| {
        let source = data.source();
        let sink = Recorder::default();
        let plan = data.plan();
        let options = ValidateOptions {
            threads,
            batch_lines: 1024,
        };
        let v = offline(&config, &model, &sink, &source, options);
        let mut results = RunResults::default();
        block_on(v.run(&plan, &mut results)).unwrap();
        results
    };
    let a = run_with(1);
    let b = run_with(4);
    assert_eq!(failures(&a), failures(&b));
    assert_eq!(a.totals(), b.totals());
    assert!(a.totals().failed > 500);
}

#[test]
fn only_the_configured_methods_run() {
    let model = synthetic_model();
    let mut config = all_methods();
    config.validate.methods = ValidationMethods(vec![]);
    let run = validate(&model, &config, &synthetic_data(), 1);
    let methods: Vec<String> = failures(&run.results).into_iter().map(|f| f.2).collect();
    // only the payloads that are not JSON objects, or not JSON at all
    assert_eq!(methods, vec!["json", "json", "json"]);
    assert!(run.logs.iter().any(|l| l == "validating by methods []..."));
    config.validate.methods = ValidationMethods::default();
    let run = validate(&model, &config, &synthetic_data(), 1);
    assert!(failures(&run.results).iter().all(|f| f.2 != "references"));
    assert!(run
        .logs
        .iter()
        .any(|l| l == "validating by methods ['schema', 'descriptors', 'uniqueness']..."));
}

#[test]
fn the_reference_selection_includes_or_excludes() {
    let model = synthetic_model();
    let mut config = all_methods();
    config.validate.references.selector = vec!["studentSchoolAssociations.schoolReference".into()];
    config.validate.references.behavior = ReferenceBehavior::Include;
    let run = validate(&model, &config, &synthetic_data(), 1);
    let refs = reference_failures(&run.results);
    assert_eq!(refs, vec![("studentSchoolAssociations".to_string(), 5)]);
    config.validate.references.behavior = ReferenceBehavior::Exclude;
    config.validate.references.selector = vec![
        "studentSchoolAssociations.student*".into(),
        "*.localEducationAgencyReference".into(),
    ];
    let run = validate(&model, &config, &synthetic_data(), 1);
    let refs = reference_failures(&run.results);
    assert_eq!(
        refs,
        vec![
            ("studentSchoolAssociations".to_string(), 3),
            ("studentSchoolAssociations".to_string(), 5),
            ("studentEducationOrganizationAssociations".to_string(), 3),
        ]
    );
}

#[test]
fn max_failures_stops_the_run() {
    let model = synthetic_model();
    let mut config = all_methods();
    config.validate.references.max_failures = Some(3);
    let run = validate(&model, &config, &synthetic_data(), 1);
    let stop = run.outcome.unwrap_err();
    assert!(matches!(
        stop,
        ValidateError::Stopped {
            failures: 3,
            max_failures: 3
        }
    ));
    assert_eq!(
        stop.to_string(),
        "... STOPPING; found 3 >= validate.references.max_failures=3 VALIDATION ERRORS."
    );
    let t = run.results.totals();
    assert_eq!(t.failed, 3);
    // the descriptors (3 lines), the LEA, the schools up to the second failure (line 3)
    assert_eq!(t.processed, 3 + 1 + 1 + 3);
    assert!(!run.results.resources.contains_key("students"));
}

#[test]
fn a_repeat_in_another_file_of_the_endpoint_names_the_first_file() {
    let model = synthetic_model();
    let student = |id: &str| json!({"studentUniqueId": id, "firstName": "A"});
    let source = MemFiles::new()
        .with(
            "data/students/a.jsonl",
            lines(&[student("s1"), student("s2")]),
        )
        .with(
            "data/students/b.jsonl",
            lines(&[student("s3"), student("s1"), student("s3")]),
        );
    let files: Vec<DataFile> = ["data/students/a.jsonl", "data/students/b.jsonl"]
        .iter()
        .map(|n| data_file("students", n))
        .collect();
    let plan = DataPlan {
        levels: vec![vec![EndpointPlan {
            endpoint: "students".into(),
            files: files.clone(),
        }]],
        files,
        unmatched: Vec::new(),
    };
    let sink = Recorder::default();
    let config = all_methods();
    let v = offline(&config, &model, &sink, &source, ValidateOptions::default());
    let mut results = RunResults::default();
    block_on(v.run(&plan, &mut results)).unwrap();
    let got: Vec<(String, Vec<u64>, String)> = results.resources["students"]
        .failures()
        .into_iter()
        .map(|f| (f.file, f.line_numbers, f.message))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "data/students/b.jsonl".to_string(),
                vec![2],
                r#"duplicate value(s) for identity key(s): : {"studentUniqueId": "s1"} (first at line 1 of data/students/a.jsonl)"#.to_string()
            ),
            (
                "data/students/b.jsonl".to_string(),
                vec![3],
                r#"duplicate value(s) for identity key(s): : {"studentUniqueId": "s3"} (first at line 1)"#.to_string()
            ),
        ]
    );
    // max_failures: 0 validates nothing
    let mut config = all_methods();
    config.validate.references.max_failures = Some(0);
    let v = Validation {
        config: &config,
        ..v
    };
    let mut results = RunResults::default();
    let outcome = block_on(v.run(&plan, &mut results));
    assert!(matches!(
        outcome,
        Err(ValidateError::Stopped { failures: 0, .. })
    ));
    assert_eq!(results.totals().processed, 0);
}

// ---------------------------------------------------------------- the shared Ed-Fi documents

#[cfg(not(target_arch = "wasm32"))]
fn shared_model(resources: &str, descriptors: &str) -> Model {
    crate::testing::openapi_model(&[resources, descriptors])
}

/// The same journey on every document kind: a school, students, enrollments, with one failure
/// of each method.
#[cfg(not(target_arch = "wasm32"))]
fn shared_journey(model: &Model, expected_schema_messages: [&str; 2]) {
    let school = json!({"schoolId": 255901001, "nameOfInstitution": "Grand Bend High School",
        "educationOrganizationCategories": [{"educationOrganizationCategoryDescriptor": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School"}],
        "gradeLevels": [{"gradeLevelDescriptor": NINTH}, {"gradeLevelDescriptor": NINTH}]});
    let mut good_school = school.clone();
    good_school["gradeLevels"] = json!([{"gradeLevelDescriptor": NINTH}]);
    good_school["schoolId"] = json!(255901002);
    let student = |id: &str| json!({"studentUniqueId": id, "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B"});
    let ssa = |student: &str, school: u64| {
        json!({"entryDate": "2023-08-23", "entryGradeLevelDescriptor": NINTH,
            "schoolReference": {"schoolId": school}, "studentReference": {"studentUniqueId": student}})
    };
    let data = Data::new()
        .file(
            "gradeLevelDescriptors",
            lines(&[json!({"codeValue": "Ninth grade", "namespace": "uri://ed-fi.org/GradeLevelDescriptor", "shortDescription": "9"})]),
        )
        .file(
            "educationOrganizationCategoryDescriptors",
            lines(&[json!({"codeValue": "School", "namespace": "uri://ed-fi.org/EducationOrganizationCategoryDescriptor", "shortDescription": "School"})]),
        )
        .file("schools", lines(&[school, good_school]))
        .file(
            "students",
            lines(&[
                student("s1"),
                json!({"studentUniqueId": "s2", "birthDate": "2010-01-01", "firstName": 7, "lastSurname": "B"}),
                json!({"studentUniqueId": "s3", "birthDate": "2010-01-01", "firstName": "A"}),
                student("s1"),
            ]),
        )
        .file(
            "studentSchoolAssociations",
            lines(&[
                ssa("s1", 255901002),
                ssa("s1", 255901002),
                ssa("s9", 255901002),
                {
                    let mut x = ssa("s1", 255901001);
                    x["entryGradeLevelDescriptor"] = json!("uri://ed-fi.org/GradeLevelDescriptor#Unknown");
                    x
                },
            ]),
        );
    for threads in [1, 2] {
        let run = validate(model, &all_methods(), &data, threads);
        let got: Vec<(String, u64, String)> = failures(&run.results)
            .into_iter()
            .map(|(e, l, m, _)| (e, l, m))
            .collect();
        let want: Vec<(String, u64, String)> = [
            ("schools", 1, "uniqueness"),
            ("students", 2, "schema"),
            ("students", 3, "schema"),
            ("students", 4, "uniqueness"),
            ("studentSchoolAssociations", 2, "uniqueness"),
            ("studentSchoolAssociations", 3, "references"),
            ("studentSchoolAssociations", 4, "descriptors"),
        ]
        .iter()
        .map(|(e, l, m)| (e.to_string(), *l, m.to_string()))
        .collect();
        assert_eq!(got, want);
        let messages: Vec<String> = failures(&run.results)
            .into_iter()
            .filter(|f| f.2 == "schema")
            .map(|f| f.3)
            .collect();
        assert_eq!(messages, expected_schema_messages);
        let ssa_dup = failures(&run.results)
            .into_iter()
            .find(|f| f.0 == "studentSchoolAssociations" && f.2 == "uniqueness")
            .unwrap();
        assert_eq!(
            ssa_dup.3,
            r#"duplicate value(s) for identity key(s): : {"entryDate": "2023-08-23", "schoolId": 255901002, "studentUniqueId": "s1"} (first at line 1)"#
        );
    }
}

/// [`shared_journey`] on a pair of documents: every kind gives a wrong type and a missing
/// required property.
#[cfg(not(target_arch = "wasm32"))]
fn documents_journey(resources: &str, descriptors: &str) {
    let failures = [
        "7 is not of type 'string'  in firstName",
        "'lastSurname' is a required property ",
    ];
    shared_journey(&shared_model(resources, descriptors), failures);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn ds50_documents() {
    documents_journey(
        "odsapi-7.x_resources_openapi3_ds5.0.json",
        "odsapi-7.x_descriptors_openapi3_ds5.0.json",
    );
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn ds40_documents() {
    documents_journey(
        "odsapi-6.1_resources_openapi3_ds4.0-tpdm.json",
        "odsapi-6.1_descriptors_openapi3_ds4.0-tpdm.json",
    );
}

/// DS 3.3: reference fields are not flagged as identity; the enrollment's identity still
/// includes its school and student (the Python tool would compare entryDate alone).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn swagger2_documents() {
    documents_journey(
        "odsapi-5.3_resources_swagger2_ds3.3.1b-tpdm.json",
        "odsapi-5.3_descriptors_openapi3-converted_ds3.3.json",
    );
}
