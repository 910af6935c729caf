//! End-to-end tests of the generated data: determinism, scale and order, DS 5 schemas, descriptors, references.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use chrono::NaiveDate;
use serde_json::{json, Map, Value};

use super::schedule::CLASS_SIZE;
use super::{generate, GenerateOptions, GenerateSummary, ENDPOINTS};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/edfi")
}

fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = shared().join("openapi/odsapi-7.x_resources_openapi3_ds5.0.json");
        let text = fs::read_to_string(&path).expect("reading the DS 5.0 OpenAPI document");
        serde_json::from_str(&text).expect("parsing the DS 5.0 OpenAPI document")
    })
}

fn schemas() -> &'static Map<String, Value> {
    doc()["components"]["schemas"].as_object().unwrap()
}

/// A scratch folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!(
            "edfi-sandbox-generate-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&path);
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(students: usize, seed: u64, tag: &str) -> (TempDir, GenerateSummary) {
    let dir = TempDir::new(tag);
    let summary = generate(&GenerateOptions {
        out_dir: dir.0.join("out"),
        students,
        rng_seed: seed,
    })
    .expect("generate");
    (dir, summary)
}

impl TempDir {
    fn out(&self) -> PathBuf {
        self.0.join("out")
    }
}

fn file(dir: &TempDir, ep: &str) -> PathBuf {
    dir.out().join(format!("{ep}.jsonl"))
}

fn records(out: &Path, ep: &str) -> Vec<Map<String, Value>> {
    fs::read_to_string(out.join(format!("{ep}.jsonl")))
        .unwrap()
        .lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(o)) => o,
            other => panic!("{ep}: not a JSON object: {other:?}: {l}"),
        })
        .collect()
}

fn singular(ep: &str) -> String {
    match ep.strip_suffix("ies") {
        Some(stem) => format!("{stem}y"),
        None => ep.strip_suffix('s').unwrap().to_string(),
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Calls `f(key, value)` for every member of every object inside `v`.
fn visit(v: &Value, f: &mut impl FnMut(&str, &Value)) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                f(k, x);
                visit(x, f);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| visit(x, f)),
        _ => {}
    }
}

#[test]
fn generate_is_deterministic() {
    let (a, sa) = run(700, 7, "det-a");
    let (b, sb) = run(700, 7, "det-b");
    let (c, sc) = run(700, 8, "det-c");
    assert_eq!(sa, sb);
    assert_eq!(sa.files.len(), ENDPOINTS.len());
    for (ep, _) in &sa.files {
        assert_eq!(
            fs::read(file(&a, ep)).unwrap(),
            fs::read(file(&b, ep)).unwrap(),
            "{ep}.jsonl differs for the same seed"
        );
    }
    assert!(
        sa != sc
            || sa
                .files
                .iter()
                .any(|(ep, _)| fs::read(file(&a, ep)).unwrap() != fs::read(file(&c, ep)).unwrap()),
        "another seed gives the same data"
    );
}

#[test]
fn generate_scales_and_follows_dependency_order() {
    let deps: Value = serde_json::from_str(
        &fs::read_to_string(shared().join("dependencies/odsapi-7.x_ds-5.2.0_dependencies.json"))
            .unwrap(),
    )
    .unwrap();
    let order: HashMap<String, i64> = deps
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["operations"]
                .as_array()
                .unwrap()
                .contains(&json!("Create"))
        })
        .map(|e| {
            let r = e["resource"].as_str().unwrap();
            (
                r.trim_start_matches("/ed-fi/").to_string(),
                e["order"].as_i64().unwrap(),
            )
        })
        .collect();
    let (_dir, summary) = run(1000, 1, "scale");
    let mut last = 0;
    for (ep, n) in &summary.files {
        let o = order[ep.as_str()];
        assert!(o >= last, "{ep} (order {o}) comes after order {last}");
        last = o;
        assert!(*n > 0, "{ep}.jsonl is empty");
    }
    let count = |ep: &str| summary.files.iter().find(|(e, _)| e == ep).unwrap().1;
    assert_eq!(count("localEducationAgencies"), 1);
    assert_eq!(count("schools"), 2);
    assert_eq!(count("students"), 1000);
    assert_eq!(count("studentSchoolAssociations"), 1000);
    assert_eq!(count("studentSectionAssociations"), 10_000);
    let staff = count("staffs");
    assert!(
        (60..=80).contains(&staff),
        "{staff} staff for 1000 students"
    );
    let events = count("studentSchoolAttendanceEvents");
    assert!(
        (3000..=10_000).contains(&events),
        "{events} attendance events"
    );
    assert!(count("grades") > 25_000);
    // a single student still makes a loadable set
    let (_dir, tiny) = run(1, 1, "tiny");
    assert!(tiny.files.iter().all(|(_, n)| *n > 0), "{tiny:?}");
}

#[test]
fn generate_validates_against_ds5_schemas() {
    let (dir, summary) = run(1100, 3, "schema");
    check_schemas(&dir.out(), &summary.files);
}

/// Every line is a JSON object without `id` that validates (draft 4, with
/// formats) against its resource schema of the DS 5.0 document.
fn check_schemas(out: &Path, files: &[(String, u64)]) {
    let components = doc()["components"].clone();
    for (ep, n) in files {
        let name = format!("edFi_{}", singular(ep));
        assert!(schemas().contains_key(&name), "no schema {name}");
        let schema =
            json!({"$ref": format!("#/components/schemas/{name}"), "components": components});
        let validator = jsonschema::draft4::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("compiling the schema");
        let text = fs::read_to_string(out.join(format!("{ep}.jsonl"))).unwrap();
        let mut lines = 0u64;
        for (i, line) in text.lines().enumerate() {
            lines += 1;
            let v: Value = serde_json::from_str(line).unwrap();
            assert!(v.get("id").is_none(), "{ep}:{}: has an id", i + 1);
            let errors: Vec<String> = validator
                .iter_errors(&v)
                .take(5)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{ep}:{}: {errors:?}\n{line}", i + 1);
            visit(&v, &mut |k, x| {
                if let (true, Some(s)) = (k.ends_with("Date"), x.as_str()) {
                    assert!(
                        s.len() == 10 && NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
                        "{ep}:{}: {k} = {s:?}",
                        i + 1
                    );
                }
            });
        }
        assert_eq!(lines, *n, "{ep}: line count");
    }
}

#[test]
fn generate_uses_only_ds52_descriptors() {
    let (dir, summary) = run(1100, 4, "descriptors");
    let used = check_descriptors(&dir.out(), &summary.files);
    assert!(used > 60, "only {used} descriptor values used");
}

/// Every `...Descriptor` value exists in the DS 5.2 descriptor files and is
/// of the property's type; returns how many distinct values are used.
fn check_descriptors(out: &Path, files: &[(String, u64)]) -> usize {
    let mut known: HashMap<String, HashSet<String>> = HashMap::new();
    let mut used = HashSet::new();
    for (ep, _) in files {
        for rec in records(out, ep) {
            visit(&Value::Object(rec), &mut |k, v| {
                let Some(prop) = k.strip_suffix("Descriptor") else {
                    return;
                };
                let s = v.as_str().unwrap_or_else(|| panic!("{ep}: {k} = {v}"));
                let (ns, code) = s.split_once('#').unwrap_or_else(|| panic!("{ep}: {s}"));
                let ty = ns
                    .strip_prefix("uri://ed-fi.org/")
                    .and_then(|t| t.strip_suffix("Descriptor"))
                    .unwrap_or_else(|| panic!("{ep}: {k} = {s}"));
                assert!(
                    prop.to_ascii_lowercase()
                        .ends_with(&ty.to_ascii_lowercase()),
                    "{ep}: {k} holds a {ty}Descriptor"
                );
                let codes = known.entry(ns.to_string()).or_insert_with(|| {
                    let path = shared().join(format!(
                        "descriptors/ds-5.2.0_jsonl/{}Descriptors.jsonl",
                        lower_first(ty)
                    ));
                    let text = fs::read_to_string(&path)
                        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    text.lines()
                        .map(|l| serde_json::from_str::<Value>(l).unwrap())
                        .filter(|d| d["namespace"] == ns)
                        .map(|d| d["codeValue"].as_str().unwrap().to_string())
                        .collect()
                });
                assert!(codes.contains(code), "{ep}: {s} is not a DS 5.2 descriptor");
                used.insert(s.to_string());
            });
        }
    }
    used.len()
}

/// Scalars of a record plus the members of its references, both under
/// their own name and role-prefixed (`gradingPeriodSchoolYear`), the way
/// the API flattens them into query parameters; `None` when two
/// references disagree on a shared name.
type Flat = BTreeMap<String, Option<Value>>;

fn flatten(rec: &Map<String, Value>) -> Flat {
    fn put(flat: &mut Flat, k: String, v: &Value) {
        match flat.get(&k) {
            Some(Some(old)) if old != v => {
                flat.insert(k, None);
            }
            Some(_) => {}
            None => {
                flat.insert(k, Some(v.clone()));
            }
        }
    }
    let mut flat = Flat::new();
    for (k, v) in rec {
        match v {
            Value::Object(r) if k.ends_with("Reference") => {
                let role = &k[..k.len() - "Reference".len()];
                for (f, fv) in r.iter().filter(|(f, _)| *f != "link") {
                    put(&mut flat, f.clone(), fv);
                    put(&mut flat, format!("{role}{}", upper_first(f)), fv);
                }
            }
            Value::Object(_) | Value::Array(_) => {}
            _ => put(&mut flat, k.clone(), v),
        }
    }
    flat
}

fn project(flat: &Flat, fields: &[String], what: &str) -> String {
    let values: Vec<&Value> = fields
        .iter()
        .map(|f| match flat.get(f) {
            Some(Some(v)) => v,
            Some(None) => panic!("{what}: references disagree on {f}: {flat:?}"),
            None => panic!("{what}: no {f} in {flat:?}"),
        })
        .collect();
    serde_json::to_string(&values).unwrap()
}

fn identity_params(ep: &str) -> Vec<String> {
    doc()["paths"][format!("/ed-fi/{ep}")]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["x-Ed-Fi-isIdentity"] == json!(true))
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn schema_ref(v: &Value) -> &str {
    v["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .unwrap_or_else(|| panic!("not a $ref: {v}"))
}

/// Collects `(target resource, reference object)` of every reference in
/// `rec` (also inside collections), checking that every property exists
/// in the schema (the API would silently drop unknown ones).
fn references<'a>(
    rec: &'a Map<String, Value>,
    schema: &str,
    found: &mut Vec<(String, &'a Map<String, Value>)>,
) {
    let props = &schemas()[schema]["properties"];
    for (k, v) in rec {
        let prop = &props[k.as_str()];
        assert!(!prop.is_null(), "{schema} has no property {k}");
        match v {
            Value::Object(r) if k.ends_with("Reference") => {
                let target = schema_ref(prop)
                    .strip_prefix("edFi_")
                    .and_then(|t| t.strip_suffix("Reference"))
                    .unwrap();
                found.push((target.to_string(), r));
            }
            Value::Object(o) => references(o, schema_ref(prop), found),
            Value::Array(items) => {
                let item_schema = schema_ref(&prop["items"]);
                for item in items {
                    references(item.as_object().unwrap(), item_schema, found);
                }
            }
            _ => {}
        }
    }
}

/// Identities are unique per file, every reference resolves (by identity
/// values) to a record of a file loaded earlier, and enrollments, sections
/// and staff fit together.
fn check_references_and_identities(out: &Path, files: &[(String, u64)]) {
    let position: HashMap<String, usize> = files
        .iter()
        .enumerate()
        .map(|(i, (ep, _))| (singular(ep), i))
        .collect();
    let data: Vec<(String, Vec<Map<String, Value>>)> = files
        .iter()
        .map(|(ep, _)| (ep.clone(), records(out, ep)))
        .collect();
    let flats: Vec<Vec<Flat>> = data
        .iter()
        .map(|(_, recs)| recs.iter().map(flatten).collect())
        .collect();

    // identities are unique within each file
    for ((ep, _), flat) in data.iter().zip(&flats) {
        let params = identity_params(ep);
        assert!(!params.is_empty(), "{ep}: no identity");
        let mut seen = HashSet::new();
        for f in flat {
            let key = project(f, &params, ep);
            assert!(seen.insert(key.clone()), "{ep}: duplicate identity {key}");
        }
    }

    // every reference resolves to a record of an earlier file
    let mut edorgs = HashSet::new();
    for (ep, recs) in &data {
        for r in recs {
            for k in ["localEducationAgencyId", "schoolId"] {
                if let (true, Some(id)) =
                    (ep == "localEducationAgencies" || ep == "schools", r.get(k))
                {
                    edorgs.insert(id.as_i64().unwrap());
                }
            }
        }
    }
    let mut indexes: HashMap<(String, Vec<String>), HashSet<String>> = HashMap::new();
    let mut resolved = 0usize;
    for (i, (ep, recs)) in data.iter().enumerate() {
        let schema = format!("edFi_{}", singular(ep));
        for rec in recs {
            let mut refs = Vec::new();
            references(rec, &schema, &mut refs);
            for (target, r) in refs {
                resolved += 1;
                match target.as_str() {
                    "schoolYearType" => {
                        let y = r["schoolYear"].as_i64().unwrap();
                        assert!((1991..=2050).contains(&y), "{ep}: school year {y}");
                    }
                    "educationOrganization" => {
                        let id = r["educationOrganizationId"].as_i64().unwrap();
                        assert!(edorgs.contains(&id), "{ep}: no education organization {id}");
                    }
                    t => {
                        let &j = position
                            .get(t)
                            .unwrap_or_else(|| panic!("{ep}: reference to {t}, not generated"));
                        assert!(j < i, "{ep} references {t}, loaded later");
                        let fields: Vec<String> =
                            r.keys().filter(|k| *k != "link").cloned().collect();
                        let index = indexes
                            .entry((t.to_string(), fields.clone()))
                            .or_insert_with(|| {
                                flats[j].iter().map(|f| project(f, &fields, t)).collect()
                            });
                        let key: Vec<&Value> = fields.iter().map(|f| &r[f]).collect();
                        let key = serde_json::to_string(&key).unwrap();
                        assert!(index.contains(&key), "{ep}: unresolved {t} reference {key}");
                    }
                }
            }
        }
    }
    assert!(resolved > 0);

    // coherence beyond what the API checks
    let recs = |ep: &str| &data.iter().find(|(e, _)| e == ep).unwrap().1;
    let s = |v: &Value| v.as_str().unwrap().to_string();
    let mut enrollment = HashMap::new();
    for r in recs("studentSchoolAssociations") {
        let key = (
            s(&r["studentReference"]["studentUniqueId"]),
            r["schoolReference"]["schoolId"].as_i64().unwrap(),
        );
        let span = (s(&r["entryDate"]), r.get("exitWithdrawDate").map(s));
        assert!(enrollment.insert(key, span).is_none(), "two enrollments");
    }
    assert_eq!(enrollment.len(), recs("students").len());
    let within = |student: &Value, school: &Value, from: &str, to: &str, what: &str| {
        let (entry, exit) = enrollment
            .get(&(s(student), school.as_i64().unwrap()))
            .unwrap_or_else(|| panic!("{what}: {student} not enrolled at {school}"));
        assert!(
            entry.as_str() <= from,
            "{what}: {from} before entry {entry}"
        );
        if let Some(exit) = exit {
            assert!(to <= exit.as_str(), "{what}: {to} after exit {exit}");
        }
    };
    let mut section_sizes: HashMap<String, usize> = HashMap::new();
    for r in recs("studentSectionAssociations") {
        let sec = &r["sectionReference"];
        within(
            &r["studentReference"]["studentUniqueId"],
            &sec["schoolId"],
            r["beginDate"].as_str().unwrap(),
            r["endDate"].as_str().unwrap(),
            "studentSectionAssociation",
        );
        *section_sizes
            .entry(s(&sec["sectionIdentifier"]))
            .or_default() += 1;
    }
    for r in recs("studentSchoolAttendanceEvents") {
        let d = r["eventDate"].as_str().unwrap();
        within(
            &r["studentReference"]["studentUniqueId"],
            &r["schoolReference"]["schoolId"],
            d,
            d,
            "attendance event",
        );
    }
    assert_eq!(
        section_sizes.len(),
        recs("sections").len(),
        "sections without students"
    );
    assert!(section_sizes.values().all(|&n| n <= CLASS_SIZE));
    let staff_schools: HashSet<(String, i64)> = recs("staffSchoolAssociations")
        .iter()
        .map(|r| {
            (
                s(&r["staffReference"]["staffUniqueId"]),
                r["schoolReference"]["schoolId"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut taught = HashSet::new();
    for r in recs("staffSectionAssociations") {
        let sec = &r["sectionReference"];
        let staff = s(&r["staffReference"]["staffUniqueId"]);
        assert!(staff_schools.contains(&(staff, sec["schoolId"].as_i64().unwrap())));
        assert!(
            taught.insert(s(&sec["sectionIdentifier"])),
            "two teachers of record"
        );
    }
    assert_eq!(
        taught.len(),
        recs("sections").len(),
        "sections without a teacher"
    );
    assert_eq!(
        recs("staffEducationOrganizationAssignmentAssociations").len(),
        recs("staffs").len()
    );
}

#[test]
fn generate_references_resolve_and_identities_are_unique() {
    for (students, seed) in [(1100, 5), (1, 6)] {
        let (dir, summary) = run(students, seed, "refs");
        check_references_and_identities(&dir.out(), &summary.files);
    }
}

type Check = fn(&Path, &[(String, u64)]);

/// A broken line: endpoint, line (past the end: appended), change, the check that must fail.
type Case = (&'static str, usize, fn(&mut Value), Check);

fn descriptors_check(out: &Path, files: &[(String, u64)]) {
    check_descriptors(out, files);
}

/// Rewrites line `line` of `ep`'s file with `f` (appends a changed copy of
/// the last line when `line` is past the end); returns the original text.
fn tamper(out: &Path, ep: &str, line: usize, f: fn(&mut Value)) -> String {
    let path = out.join(format!("{ep}.jsonl"));
    let original = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = original.lines().map(String::from).collect();
    let mut v: Value = serde_json::from_str(&lines[line.min(lines.len() - 1)]).unwrap();
    f(&mut v);
    if line < lines.len() {
        lines[line] = v.to_string();
    } else {
        lines.push(v.to_string());
    }
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    original
}

/// The checks above are not vacuous: each one catches a broken line.
#[test]
fn checks_catch_broken_data() {
    let (dir, summary) = run(40, 9, "broken");
    let out = dir.out();
    let files = &summary.files;
    check_schemas(&out, files);
    descriptors_check(&out, files);
    check_references_and_identities(&out, files);

    let cases: [Case; 9] = [
        ("students", 0, |v| v["firstName"] = json!(""), check_schemas),
        (
            "students",
            0,
            |v| v["birthDate"] = json!("2010-13-01"),
            check_schemas,
        ),
        (
            "schools",
            0,
            |v| v["schoolId"] = json!("255950001"),
            check_schemas,
        ),
        (
            "students",
            0,
            |v| drop(v.as_object_mut().unwrap().remove("lastSurname")),
            check_schemas,
        ),
        (
            "studentSchoolAssociations",
            0,
            |v| {
                v["entryGradeLevelDescriptor"] =
                    json!("uri://ed-fi.org/GradeLevelDescriptor#Grade 9")
            },
            descriptors_check,
        ),
        (
            "studentSchoolAssociations",
            0,
            |v| v["entryGradeLevelDescriptor"] = json!("uri://ed-fi.org/SexDescriptor#Male"),
            descriptors_check,
        ),
        (
            "grades",
            0,
            |v| v["studentSectionAssociationReference"]["sectionIdentifier"] = json!("nope"),
            check_references_and_identities,
        ),
        (
            "courseOfferings",
            0,
            |v| v["sessionReference"]["schoolId"] = json!(255950002),
            check_references_and_identities,
        ),
        // a duplicate identity
        (
            "students",
            usize::MAX,
            |_| {},
            check_references_and_identities,
        ),
    ];
    for (ep, line, change, check) in cases {
        let original = tamper(&out, ep, line, change);
        let caught = std::panic::catch_unwind(|| check(&out, files)).is_err();
        fs::write(out.join(format!("{ep}.jsonl")), original).unwrap();
        assert!(caught, "{ep}: a broken line went unnoticed");
    }
}
