//! `lightbeam validate` and `validate+send` against edfi-sandbox processes: a corpus of bad
//! lines with the exact failure expected at each line (`validate_corpus/*/expected.tsv`),
//! parity with the Python lightbeam 0.1.12 on the same files and sandbox, the
//! `validate.references` settings, the descriptor cache, exit codes, and sending only what
//! validated.
//!
//! The sandbox is seeded with `validate_corpus/remote/` (records that exist only in the API).

use lightbeam_e2e::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("validate_corpus")
        .join(name)
}

fn seeded_sandbox() -> Sandbox {
    let remote = corpus("remote").display().to_string();
    Sandbox::start(Version::Ds50, &["--seed-dir", &remote])
}

/// A work dir whose `data/` is a copy of a corpus folder (or of several).
fn work_dir(name: &str, corpora: &[&str]) -> PathBuf {
    let dir = tmp_dir(name);
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    for c in corpora {
        for entry in std::fs::read_dir(corpus(c)).expect("corpus dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "jsonl") {
                std::fs::copy(&path, data.join(path.file_name().unwrap())).expect("copy");
            }
        }
    }
    dir
}

const ALL_METHODS: &str = "validate:\n  methods: \"*\"\n";

/// (file name, line, method, message) of every failure of a results file.
type Row = (String, u64, String, String);

fn rows(results: &Value) -> BTreeSet<Row> {
    let mut out = BTreeSet::new();
    for (_, r) in results["resources"].as_object().expect("resources") {
        for f in r["failures"].as_array().into_iter().flatten() {
            let file = Path::new(f["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            for l in f["line_numbers"].as_array().unwrap() {
                out.insert((
                    file.clone(),
                    l.as_u64().unwrap(),
                    f["method"].as_str().unwrap_or_default().to_string(),
                    f["message"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    out
}

/// The expected failures and (endpoint, records_processed, records_failed) of a corpus.
fn expected(name: &str) -> (BTreeSet<Row>, Vec<(String, u64, u64)>) {
    let text = std::fs::read_to_string(corpus(name).join("expected.tsv")).expect("expected.tsv");
    let mut failures = BTreeSet::new();
    let mut counts = Vec::new();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("#= ") {
            let p: Vec<&str> = c.split('\t').collect();
            counts.push((
                p[0].to_string(),
                p[1].parse().unwrap(),
                p[2].parse().unwrap(),
            ));
        } else if !line.starts_with('#') && !line.is_empty() {
            let p: Vec<&str> = line.splitn(4, '\t').collect();
            failures.insert((
                p[0].to_string(),
                p[1].parse().unwrap(),
                p[2].to_string(),
                p[3].to_string(),
            ));
        }
    }
    (failures, counts)
}

fn counts(results: &Value) -> Vec<(String, u64, u64)> {
    results["resources"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(e, r)| {
            (
                e.clone(),
                r["records_processed"].as_u64().unwrap(),
                r["records_failed"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn validate(dir: &Path, command: &str) -> (std::process::Output, Value) {
    run_with_results(dir, command, "results.json", &[])
}

#[test]
fn every_corpus_line_fails_exactly_as_expected() {
    let sb = seeded_sandbox();
    for name in ["parity", "differences", "encoding"] {
        let dir = work_dir(&format!("corpus-{name}"), &[name]);
        write_config(&dir, &sb.base, "  pool_size: 4\n", ALL_METHODS);
        let (o, results) = validate(&dir, "validate");
        assert_eq!(o.status.code(), Some(0), "{name}: {}", text(&o));
        let (want, want_counts) = expected(name);
        let got = rows(&results);
        let missing: Vec<&Row> = want.difference(&got).collect();
        let extra: Vec<&Row> = got.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: missing {missing:#?}\nunexpected {extra:#?}"
        );
        assert_eq!(counts(&results), want_counts, "{name}");
        assert_eq!(results["command"], "validate");
        // the first failures are shown as they are found, the Python tool's way
        let out = text(&o);
        if !want.is_empty() {
            assert!(out.contains("... VALIDATION ERROR ("), "{out}");
            assert!(out.contains("see details above."), "{out}");
        }
        // nothing was written to the API
        assert_eq!(sb.posts(), 0);
    }
}

#[test]
fn the_same_lines_fail_for_the_same_method_as_with_the_python_tool() {
    let sb = seeded_sandbox();
    let mut runs = Vec::new();
    for tool in Tool::BOTH {
        let dir = work_dir(&format!("vparity-{}", tool.name()), &["parity"]);
        write_config(&dir, &sb.base, "  pool_size: 4\n", ALL_METHODS);
        runs.push(tool.results(&dir, "validate").1);
    }
    let (py, rs) = (&runs[0], &runs[1]);
    let lines = |r: &Value| -> BTreeSet<(String, u64, String)> {
        rows(r).into_iter().map(|(f, l, m, _)| (f, l, m)).collect()
    };
    assert_eq!(lines(py), lines(rs));
    assert!(lines(rs).len() >= 25);
    for method in ["json", "schema", "descriptors", "uniqueness", "references"] {
        assert!(lines(rs).iter().any(|r| r.2 == method), "{method}");
    }
    // messages are the Python tool's, but for the JSON parser's wording and the first
    // occurrence ours adds to a duplicate
    let messages = |r: &Value| -> BTreeSet<Row> {
        rows(r)
            .into_iter()
            .filter(|row| row.2 != "json")
            .map(|(f, l, m, msg)| {
                let msg = match msg.rfind(" (first at line ") {
                    Some(i) if m == "uniqueness" => msg[..i].to_string(),
                    _ => msg,
                };
                (f, l, m, msg)
            })
            .collect()
    };
    assert_eq!(messages(py), messages(rs));
    // Python counts a line failing two methods twice
    for ((e, p, pf), (e2, r, rf)) in counts(py).into_iter().zip(counts(rs)) {
        assert_eq!((&e, p), (&e2, r));
        if e == "studentSchoolAssociations" {
            assert_eq!((pf, rf), (9, 8));
        } else {
            assert_eq!(pf, rf, "{e}");
        }
    }
}

#[test]
fn generated_data_validates_clean_as_with_the_python_tool() {
    let sb = Sandbox::start(Version::Ds50, &[]);
    let mut totals = Vec::new();
    for tool in Tool::BOTH {
        let who = tool.name();
        let dir = tmp_dir(&format!("vgen-{who}"));
        let files = generate(&dir.join("data"), 40, 3);
        write_config(&dir, &sb.base, "  pool_size: 4\n", "");
        let (o, r) = tool.results(&dir, "validate");
        assert_eq!(
            r["total_records_processed"].as_u64(),
            Some(total_lines(&files))
        );
        assert_eq!(r["total_records_failed"], 0, "{who}: {}", text(&o));
        totals.push(counts(&r));
        if tool == Tool::Rust {
            // every method, references included (the Python tool cannot index these targets)
            write_config(&dir, &sb.base, "  pool_size: 4\n", ALL_METHODS);
            let (o, r) = validate(&dir, "validate");
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            assert_eq!(r["total_records_failed"], 0, "{}", text(&o));
        }
    }
    assert_eq!(totals[0], totals[1]);
}

#[test]
fn references_settings_remote_selector_and_max_failures() {
    let sb = seeded_sandbox();
    let dir = work_dir("vrefs", &["parity"]);
    let refs = |r: &Value| -> BTreeSet<(String, u64)> {
        rows(r)
            .into_iter()
            .filter(|row| row.2 == "references")
            .map(|(f, l, _, _)| (f, l))
            .collect()
    };
    let set = |items: &[(&str, u64)]| -> BTreeSet<(String, u64)> {
        items.iter().map(|(f, l)| (f.to_string(), *l)).collect()
    };
    let base = set(&[
        ("schools.jsonl", 4),
        ("studentSchoolAssociations.jsonl", 2),
        ("studentSchoolAssociations.jsonl", 3),
        ("studentSchoolAssociations.jsonl", 8),
        ("studentSchoolAssociations.jsonl", 9),
    ]);
    write_config(&dir, &sb.base, "  pool_size: 4\n", ALL_METHODS);
    let (_, r) = validate(&dir, "validate");
    assert_eq!(refs(&r), base);

    // local data only: what exists only in the API fails too
    write_config(
        &dir,
        &sb.base,
        "  pool_size: 4\n",
        "validate:\n  methods: \"*\"\n  references:\n    remote: false\n",
    );
    let gets_before = sb.stats()["requests"]["GET"]["200"].as_u64().unwrap_or(0);
    let (o, r) = validate(&dir, "validate");
    assert!(text(&o).contains("references will only be validated against local data"));
    let mut local_only = base.clone();
    local_only.extend(set(&[
        ("schools.jsonl", 5),
        ("studentSchoolAssociations.jsonl", 1),
        ("studentSchoolAssociations.jsonl", 4),
        ("studentSchoolAssociations.jsonl", 5),
        ("studentSchoolAssociations.jsonl", 10),
    ]));
    assert_eq!(refs(&r), local_only);
    // descriptor values come from the cache; references were not asked for
    let gets_after = sb.stats()["requests"]["GET"]["200"].as_u64().unwrap_or(0);
    assert!(
        gets_after - gets_before < 10,
        "{gets_before} -> {gets_after}"
    );

    // only the selected references
    write_config(
        &dir,
        &sb.base,
        "  pool_size: 4\n",
        "validate:\n  methods: \"*\"\n  references:\n    selector: [studentSchoolAssociations.studentReference]\n    behavior: include\n",
    );
    let (_, r) = validate(&dir, "validate");
    assert_eq!(
        refs(&r),
        set(&[
            ("studentSchoolAssociations.jsonl", 2),
            ("studentSchoolAssociations.jsonl", 9)
        ])
    );
    // all but the excluded ones (wildcards allowed)
    write_config(
        &dir,
        &sb.base,
        "  pool_size: 4\n",
        "validate:\n  methods: \"*\"\n  references:\n    selector: [\"*.localEducationAgencyReference\", studentSchoolAssociations.schoolYearTypeReference]\n",
    );
    let (_, r) = validate(&dir, "validate");
    assert_eq!(
        refs(&r),
        set(&[
            ("studentSchoolAssociations.jsonl", 2),
            ("studentSchoolAssociations.jsonl", 3),
            ("studentSchoolAssociations.jsonl", 9)
        ])
    );

    // stop after 4 failures, still write the results file
    write_config(
        &dir,
        &sb.base,
        "  pool_size: 4\n",
        "validate:\n  methods: \"*\"\n  references:\n    max_failures: 4\n",
    );
    let (o, r) = validate(&dir, "validate");
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("STOPPING; found 4 >= validate.references.max_failures=4"),
        "{}",
        text(&o)
    );
    assert_eq!(r["total_records_failed"], 4);
    assert_eq!(rows(&r).len(), 4);
    assert_eq!(sb.posts(), 0);
}

#[test]
fn descriptor_values_are_fetched_once_and_cached_until_wiped() {
    let sb = seeded_sandbox();
    let dir = work_dir("vcache", &["parity"]);
    write_config(
        &dir,
        &sb.base,
        "  pool_size: 4\n",
        "validate:\n  methods: [descriptors]\n",
    );
    let gets = || sb.requests("GET");
    let g0 = gets();
    let (o, r) = validate(&dir, "validate");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let g1 = gets();
    // one page per descriptor endpoint (fetch.page_size 100; some have more)
    assert!(g1 - g0 > 150, "{g0} -> {g1}");
    let descriptors: Vec<u64> = rows(&r)
        .into_iter()
        .filter(|row| row.2 == "descriptors")
        .map(|row| row.1)
        .collect();
    assert_eq!(descriptors, vec![3, 7, 5, 6]);
    let cached: Vec<String> = std::fs::read_dir(dir.join("state/cache"))
        .expect("cache dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        cached.iter().any(|f| f.starts_with("descriptor-values-")),
        "{cached:?}"
    );
    let (o, _) = validate(&dir, "validate");
    assert_eq!(o.status.code(), Some(0));
    let g2 = gets();
    assert!(g2 - g1 < 5, "{g1} -> {g2}: the cache was not used");
    ok(&run(&dir, "validate", &["-w"]));
    assert!(gets() - g2 > 150, "-w did not refetch");
}

#[test]
fn exit_code_is_1_when_every_line_fails() {
    let sb = seeded_sandbox();
    let dir = tmp_dir("vallfail");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("data/students.jsonl"),
        "{\"studentUniqueId\": 1}\nnot json\n\n[]\n",
    )
    .unwrap();
    write_config(&dir, &sb.base, "", "");
    let (o, r) = validate(&dir, "validate");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(r["total_records_processed"], 3);
    assert_eq!(r["total_records_failed"], 3);
    // validate+send sends nothing either, and says why
    let (o, r) = validate(&dir, "validate+send");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(r["command"], "send");
    assert_eq!(sb.posts(), 0);
}

#[test]
fn validate_send_sends_only_what_validated() {
    let (dir, files, sb) = journey("vsend", 20, 9, &[], "  pool_size: 8\n", ALL_METHODS);
    let total = total_lines(&files);
    // one bad line: nothing is sent
    let students = dir.join("data/students.jsonl");
    let good = std::fs::read_to_string(&students).unwrap();
    append_lines(&students, &[r#"{"studentUniqueId": "x", "firstName": 5}"#]);
    let (o, r) = validate(&dir, "validate+send");
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("nothing was sent"), "{}", text(&o));
    assert_eq!(sb.posts(), 0);
    assert_eq!(r["command"], "send");
    assert_eq!(r["total_records_failed"], 1);
    assert_eq!(
        r["resources"]["students"]["failures"][0]["method"],
        "schema"
    );

    // all valid: validated, then sent in dependency order
    std::fs::write(&students, good).unwrap();
    let (o, r) = validate(&dir, "validate+send");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("validate ok; sending"), "{}", text(&o));
    assert_eq!(r["command"], "send");
    assert_eq!(r["total_records_processed"].as_u64(), Some(total));
    assert_eq!(r["total_records_failed"], 0);
    assert_landed(&sb, &files, "records in the API = lines");
    assert!(r["resources"]["students"]["successes"].is_array());

    // validate.send_on_failure: true sends anyway (as the Python tool did); the API refuses the bad line
    append_lines(&students, &[r#"{"studentUniqueId": "y", "firstName": 5}"#]);
    let (o, r) = run_with_results(
        &dir,
        "validate+send",
        "anyway.json",
        &["--set", "validate.send_on_failure", "true"],
    );
    ok(&o);
    assert!(text(&o).contains("sending anyway"), "{}", text(&o));
    let f = &r["resources"]["students"]["failures"][0];
    assert_eq!(f["status_code"], 400, "{f}");
    assert_eq!(r["total_records_failed"], 1);
}
