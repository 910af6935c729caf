//! The Python lightbeam (0.1.12, installed by scripts/setup.sh into .venv) run against the
//! sandbox as against a real ODS/API: count, send generated data, delete it again.

use lightbeam_testkit::{
    generate, python_lightbeam, text, tmp_dir, write_lightbeam_config, Sandbox, Version,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Non-blank lines of every file of `dir`, by file stem (the endpoint).
fn file_lines(dir: &Path) -> BTreeMap<String, u64> {
    let mut lines = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_stem().unwrap().to_str().unwrap().to_string();
        let n = std::fs::read_to_string(&p)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .count();
        lines.insert(name, n as u64);
    }
    lines
}

/// The Python tool in `dir`: its exit code and output.
fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = python_lightbeam(dir, args);
    (o.status.code().unwrap_or(-1), text(&o))
}

/// Records per endpoint of the Ed-Fi namespace.
fn counts(sb: &Sandbox) -> BTreeMap<String, u64> {
    sb.records()
        .into_iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("ed-fi/")?.to_string(), v)))
        .collect()
}

#[test]
fn python_tool_counts_sends_and_deletes_generated_data() {
    let dir = tmp_dir("py");
    let data = dir.join("data");
    generate(&data, 40, 3);
    let lines = file_lines(&data);
    assert!(lines.len() >= 10, "generated files: {lines:?}");
    let sb = Sandbox::start(Version::Ds50, &[]);
    let before = counts(&sb);
    write_lightbeam_config(
        &dir,
        &data,
        &sb.base,
        "  pool_size: 4\n",
        "force_delete: true\nlog_level: INFO\n",
    );

    // count: the Python tool reads Total-Count of every endpoint
    let (code, out) = run(
        &dir,
        &[
            "count",
            "-c",
            "lightbeam.yaml",
            "-s",
            "*Descriptors",
            "--results-file",
            "counts.tsv",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let tsv = std::fs::read_to_string(dir.join("counts.tsv")).unwrap();
    let grade_levels = tsv
        .lines()
        .find(|l| l.ends_with("\tgradeLevelDescriptors"))
        .unwrap_or_else(|| panic!("no gradeLevelDescriptors row in {tsv}"));
    assert_eq!(
        grade_levels.split('\t').next().unwrap(),
        before["gradeLevelDescriptors"].to_string()
    );

    // send: every generated record lands
    let (code, out) = run(
        &dir,
        &[
            "send",
            "-c",
            "lightbeam.yaml",
            "--results-file",
            "send.json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("send.json")).unwrap()).unwrap();
    assert_eq!(results["total_records_failed"], 0, "{results}");
    let after = counts(&sb);
    for (endpoint, n) in &lines {
        assert_eq!(
            after[endpoint],
            before[endpoint] + n,
            "{endpoint}: records in the sandbox after send"
        );
    }

    // delete: the Python tool finds each record by its identity and deletes it. (`-f`: without a
    // resend flag, Python 0.1.12 skips every payload its state has seen, so a plain delete after a
    // send deletes nothing; SPEC.md section 5.)
    let (code, out) = run(
        &dir,
        &[
            "delete",
            "-c",
            "lightbeam.yaml",
            "-f",
            "-e",
            "*Descriptors",
            "--results-file",
            "delete.json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let after_delete = counts(&sb);
    for endpoint in lines.keys() {
        assert_eq!(
            after_delete[endpoint], before[endpoint],
            "{endpoint}: records after delete\n{out}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
