//! `count`, `fetch`, `delete`, `truncate` and `create` against edfi-sandbox processes over real
//! HTTP: the journey of the Python tool's own test suite (count, fetch, send, count, delete,
//! count, fetch, truncate, count, send the fetched files back, count), a fetched file sent to a
//! second API, descriptors and payloads not in the API, fetch queries, confirmation rules,
//! `create` against golden files, and parity of `count` with the Python tool.

use lightbeam_e2e::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `Records<TAB>Endpoint` rows of a count table.
fn count_rows(table: &str) -> BTreeMap<String, String> {
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("Records\tEndpoint"), "{table}");
    lines
        .map(|l| {
            let (n, e) = l.split_once('\t').expect("a tab-separated row");
            (e.to_string(), n.to_string())
        })
        .collect()
}

/// Our `count` of `endpoints` (comma list), read from the console table (zeros left out).
fn counts(dir: &Path, endpoints: &str) -> BTreeMap<String, u64> {
    let o = run(dir, "count", &["-s", endpoints]);
    ok(&o);
    count_rows(&String::from_utf8_lossy(&o.stdout))
        .into_iter()
        .map(|(e, n)| (e, n.parse().expect("a number of records")))
        .collect()
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn selector(files: &[(String, u64)]) -> String {
    files
        .iter()
        .map(|(e, _)| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn state_count(dir: &Path) -> u64 {
    state_statuses(dir).len() as u64
}

#[test]
fn the_python_suite_journey_count_fetch_send_delete_truncate_and_back() {
    let (dir, files, _running) = journey(
        "journey",
        25,
        3,
        &[],
        "  pool_size: 6\n",
        "fetch:\n  page_size: 17\n",
    );
    let total = total_lines(&files);
    let sel = selector(&files);

    // count: nothing of ours yet, the seeded descriptors are there
    let before = counts(&dir, &sel);
    assert!(before.is_empty(), "{before:?}");
    assert!(counts(&dir, "gradeLevelDescriptors")["gradeLevelDescriptors"] > 0);

    // send; count shows the new records
    ok(&run(&dir, "send", &[]));
    let after = counts(&dir, &sel);
    for (e, n) in &files {
        assert_eq!(after.get(e), Some(n), "{e}");
    }

    // fetch (pages of 17, 6 in flight): counts match, identity fields present, API order kept
    let (fetched, fetched_dir) = new_data_dir(&dir, "fetched");
    let fetch = |data_dir: &str, more: &[&str]| {
        let mut args = vec![
            "-s",
            sel.as_str(),
            "-d",
            "id,_etag,_lastModifiedDate",
            "--set",
            "data_dir",
            data_dir,
        ];
        args.extend_from_slice(more);
        ok(&run(&dir, "fetch", &args));
    };
    fetch(&fetched_dir, &["--results-file", "fetch.json"]);
    for (e, n) in &files {
        let records = jsonl(&fetched.join(format!("{e}.jsonl")));
        assert_eq!(records.len() as u64, *n, "{e}");
        assert!(records
            .iter()
            .all(|r| r.get("id").is_none() && r.get("_etag").is_none()));
    }
    // pages written in the API's order: the same files as one page per endpoint
    let (one_page, one_page_dir) = new_data_dir(&dir, "one-page");
    fetch(&one_page_dir, &["--set", "fetch.page_size", "500"]);
    for (e, _) in &files {
        let name = format!("{e}.jsonl");
        assert_eq!(
            std::fs::read(fetched.join(&name)).unwrap(),
            std::fs::read(one_page.join(&name)).unwrap(),
            "{e}: pages in order"
        );
    }
    for r in jsonl(&fetched.join("studentSchoolAssociations.jsonl")) {
        assert!(r["entryDate"].is_string(), "{r}");
        assert!(r["schoolReference"]["schoolId"].is_number(), "{r}");
        assert!(r["studentReference"]["studentUniqueId"].is_string(), "{r}");
        // references keep the `link` the API adds, as the Python tool's fetch does
        assert!(r["schoolReference"]["link"]["href"].is_string(), "{r}");
    }
    let fr = read_json(&dir.join("fetch.json"));
    assert_eq!(fr["command"], "fetch");
    assert_eq!(fr["total_records_processed"], total);
    assert_eq!(fr["total_records_failed"], 0);

    // a fetched file can be sent to another API unchanged: counts equal
    let other = dir.join("other");
    std::fs::create_dir_all(other.join("data")).unwrap();
    for (e, _) in &files {
        std::fs::copy(
            fetched.join(format!("{e}.jsonl")),
            other.join(format!("data/{e}.jsonl")),
        )
        .unwrap();
    }
    let sb2 = Sandbox::start(Version::Ds50, &[]);
    write_config(&other, &sb2.base, "", "");
    let (o, r) = run_with_results(&other, "send", "r.json", &[]);
    ok(&o);
    assert_eq!(r["total_records_failed"], 0);
    assert_landed(&sb2, &files, "in the second API");
    drop(sb2);

    // delete: every payload found and deleted, counts back to before, state emptied
    assert_eq!(state_count(&dir), total);
    let (o, dr) = run_with_results(&dir, "delete", "delete.json", &["--yes"]);
    ok(&o);
    assert_eq!(dr["command"], "delete");
    assert_eq!(dr["total_records_processed"], total);
    assert_eq!(dr["total_records_failed"], 0, "{dr}");
    assert_eq!(
        dr["resources"]["students"]["successes"][0]["status_code"],
        204
    );
    assert!(counts(&dir, &sel).is_empty());
    assert_eq!(state_count(&dir), 0, "deleted payloads leave the state");
    // nothing left to delete: every payload skipped as not found, exit 99
    let o = run(&dir, "delete", &["--yes"]);
    assert_exit(&o, 99);
    assert!(text(&o).contains("(reason: [payload not found in API]; instances: "));

    // a later send sends everything again (none skipped)
    let (o, again) = run_with_results(&dir, "send", "again.json", &[]);
    ok(&o);
    assert_eq!(again["total_records_skipped"], 0);

    // truncate: count is zero, state cleared
    let (o, tr) = run_with_results(&dir, "truncate", "truncate.json", &["-s", &sel, "--yes"]);
    ok(&o);
    assert_eq!(tr["total_records_processed"], total);
    assert!(counts(&dir, &sel).is_empty());
    assert_eq!(state_count(&dir), 0);

    // send the fetched files back: counts restored
    ok(&run(&dir, "send", &["--set", "data_dir", &fetched_dir]));
    assert_eq!(counts(&dir, &sel), after);
    let _ = std::fs::remove_dir_all(&dir);
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn delete_descriptors_and_payloads_not_in_the_api() {
    let dir = tmp_dir("delete-descriptors");
    let sb = Sandbox::start(Version::Ds50, &[]);
    write_config(&dir, &sb.base, "", "");
    let desc = |code: &str| {
        format!(
            r#"{{"codeValue": "{code}", "namespace": "uri://example.org/GradeLevelDescriptor", "shortDescription": "{code}"}}"#
        )
    };
    let student = |id: &str| {
        format!(
            r#"{{"studentUniqueId": "{id}", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B"}}"#
        )
    };
    write_lines(
        &dir.join("data/gradeLevelDescriptors.jsonl"),
        &[desc("Grade A"), desc("Grade B")],
    );
    write_lines(
        &dir.join("data/students.jsonl"),
        &[student("900001"), student("900002")],
    );
    ok(&run(&dir, "send", &[]));
    let seeded = sb.count("gradeLevelDescriptors");
    assert_eq!(sb.count("students"), 2);

    // the files now also hold payloads that are not in the API, one bad line and one without
    // its identity
    write_lines(
        &dir.join("data/gradeLevelDescriptors.jsonl"),
        &[desc("Grade A"), desc("Grade B"), desc("Grade Z")],
    );
    write_lines(
        &dir.join("data/students.jsonl"),
        &[
            student("900001"),
            student("900002"),
            student("900003"),
            "{not json".to_string(),
            r#"{"firstName": "no id"}"#.to_string(),
        ],
    );

    // no terminal and not forced: an error, nothing deleted
    let o = run(&dir, "delete", &[]);
    assert_exit(&o, 255);
    assert!(
        text(&o).contains("refusing to delete without confirmation"),
        "{}",
        text(&o)
    );
    assert_eq!(sb.count("students"), 2);

    // with a resend flag, only payloads of the state it selects are deleted (none here: every
    // payload was sent before that time); the others are searched for as usual
    let o = run(&dir, "delete", &["--yes", "-n", "2999-01-01"]);
    ok(&o);
    assert!(
        text(&o).contains("(reason: [previously processed and not selected by the -f, -o, -n or -r criteria]; instances: 2)"),
        "{}",
        text(&o)
    );
    assert_eq!(sb.count("students"), 2);
    assert_eq!(sb.count("gradeLevelDescriptors"), seeded);

    // force_delete: true confirms
    let (o, r) = run_with_results(&dir, "delete", "r.json", &["--set", "force_delete", "true"]);
    ok(&o);
    let out = text(&o);
    assert!(
        out.contains("(reason: [payload not found in API]; instances: 1)"),
        "{out}"
    );
    assert!(
        out.contains("fetching current descriptors from endpoint gradeLevelDescriptors"),
        "{out}"
    );
    assert_eq!(sb.count("students"), 0);
    assert_eq!(sb.count("gradeLevelDescriptors"), seeded - 2);
    let d = &r["resources"]["gradeLevelDescriptors"];
    assert_eq!(d["records_processed"], 3);
    assert_eq!(d["records_skipped"], 1);
    assert_eq!(d["successes"][0]["count"], 2);
    let s = &r["resources"]["students"];
    assert_eq!(s["records_processed"], 5);
    assert_eq!(s["records_skipped"], 1);
    assert_eq!(s["records_failed"], 2);
    let methods: Vec<(String, Vec<u64>)> = s["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["method"].as_str().unwrap().to_string(),
                f["line_numbers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_u64().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        methods,
        vec![
            ("json".to_string(), vec![4]),
            ("identity".to_string(), vec![5])
        ],
        "{s}"
    );
    assert!(s["failures"][1]["message"]
        .as_str()
        .unwrap()
        .contains("`studentUniqueId`"));
    // the skips are listed with their lines
    assert!(
        out.contains("students: skipped x1 (payload not found in API)"),
        "{out}"
    );

    // truncate without -s is refused without a terminal, even with --yes
    let o = run(&dir, "truncate", &["--yes"]);
    assert_exit(&o, 255);
    assert!(text(&o).contains("refusing to truncate without -s/--selector"));
    assert_eq!(sb.count("gradeLevelDescriptors"), seeded - 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fetch_with_a_query_and_keys() {
    let (dir, files, _running) = journey("fetch-query", 12, 8, &[], "", "");
    ok(&run(&dir, "send", &[]));
    let students = jsonl(&dir.join("data/students.jsonl"));
    let who = students[3]["studentUniqueId"].as_str().unwrap().to_string();
    let ssa_of_who = jsonl(&dir.join("data/studentSchoolAssociations.jsonl"))
        .iter()
        .filter(|r| r["studentReference"]["studentUniqueId"] == who.as_str())
        .count();
    assert!(ssa_of_who > 0);

    let (out, out_dir) = new_data_dir(&dir, "out");
    let query = format!(r#"{{"studentUniqueId": "{who}"}}"#);
    let o = run(
        &dir,
        "fetch",
        &[
            "-s",
            "schools,students,studentSchoolAssociations",
            "-q",
            &query,
            "-k",
            "studentUniqueId,*Reference",
            "-d",
            "schoolReference",
            "--set",
            "data_dir",
            &out_dir,
        ],
    );
    ok(&o);
    // schools has no studentUniqueId parameter: warned about and skipped
    let log = text(&o);
    assert!(
        log.contains("Query contains keys that are not params for the endpoint schools (studentUniqueId)... skipping!"),
        "{log}"
    );
    assert!(!out.join("schools.jsonl").exists());
    let got = jsonl(&out.join("students.jsonl"));
    assert_eq!(got, vec![serde_json::json!({"studentUniqueId": who})]);
    let got = jsonl(&out.join("studentSchoolAssociations.jsonl"));
    assert_eq!(got.len(), ssa_of_who);
    for r in &got {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert!(keys.iter().all(|k| k.ends_with("Reference")), "{r}");
        assert!(r.get("schoolReference").is_none(), "{r}");
        assert_eq!(r["studentReference"]["studentUniqueId"], who.as_str());
    }

    // a query key no endpoint accepts: every endpoint skipped, nothing fetched
    let o = run(
        &dir,
        "fetch",
        &[
            "-s",
            "students",
            "-q",
            r#"{"studentUniqeId": "1"}"#,
            "--set",
            "data_dir",
            &out_dir,
        ],
    );
    ok(&o);
    assert!(
        text(&o).contains("(Supported params: studentUniqueId,"),
        "{}",
        text(&o)
    );
    assert_eq!(
        jsonl(&out.join("students.jsonl")).len(),
        1,
        "file untouched"
    );
    // a query that is not a JSON object: a one-line error naming the flag
    let o = run(&dir, "fetch", &["-q", "[1]"]);
    assert_eq!(o.status.code(), Some(255));
    assert!(text(&o).contains("-q/--query"), "{}", text(&o));
    // no query: all records, files as the Python tool writes them (json.dumps lines)
    let o = run(
        &dir,
        "fetch",
        &[
            "-s",
            "students",
            "--set",
            "data_dir",
            &out_dir,
            "--set",
            "fetch.page_size",
            "1000",
        ],
    );
    ok(&o);
    assert!(text(&o).contains("fetch.page_size 1000 is more than the API's maximum of 500"));
    let text_out = std::fs::read_to_string(out.join("students.jsonl")).unwrap();
    let n = files.iter().find(|(e, _)| e == "students").unwrap().1;
    assert_eq!(text_out.lines().count() as u64, n);
    assert!(text_out.starts_with("{\"id\": \""), "{text_out}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/create")
}

const CREATED: [&str; 3] = [
    "earthmover.yml",
    "templates/gradeLevelDescriptors.jsont",
    "templates/studentSchoolAssociations.jsont",
];

/// Renders every template with jinja2 (when the Python in PATH has it): once with every
/// variable set, once with none; both must be JSON.
fn render_templates(dir: &Path) {
    let script = r#"
import json, sys, glob
try:
    import jinja2
except ImportError:
    print("no jinja2"); sys.exit(0)
class Full(jinja2.Undefined):
    def __str__(self): return "1"
    def __bool__(self): return True
    def __iter__(self): return iter([Full(name="a"), Full(name="b")])
    def __getattr__(self, n):
        if n.startswith("__"): raise AttributeError(n)
        return Full(name=n)
class Empty(jinja2.Undefined):
    def __str__(self): return "1"
    def __bool__(self): return False
    def __iter__(self): return iter([])
    def __getattr__(self, n):
        if n.startswith("__"): raise AttributeError(n)
        return Empty(name=n)
for path in sorted(glob.glob(sys.argv[1] + "/templates/*.jsont")):
    for undefined in (Full, Empty):
        env = jinja2.Environment(undefined=undefined)
        env.globals["descriptor_namespace"] = lambda: "uri://ed-fi.org"
        out = env.from_string(open(path).read()).render()
        json.loads(out)
print("rendered")
"#;
    match std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
    {
        Ok(o) => {
            assert!(o.status.success(), "{}", text(&o));
            eprintln!("jinja2 check: {}", text(&o).trim());
        }
        Err(e) => eprintln!("python3 not available ({e}): templates not rendered"),
    }
}

#[test]
fn create_writes_the_golden_scaffold_and_never_overwrites() {
    let dir = tmp_dir("create");
    let sb = Sandbox::start(Version::Ds50, &[]);
    write_config(&dir, &sb.base, "", "");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let sel = "studentSchoolAssociations,gradeLevelDescriptors";
    ok(&run(&dir, "create", &["-s", sel]));
    for f in CREATED {
        let got = std::fs::read_to_string(dir.join(f)).unwrap();
        let golden = golden_dir().join(f);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &got).unwrap();
        }
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", golden.display()));
        assert_eq!(got, want, "{f} differs from {}", golden.display());
    }
    // schools too (nested arrays, `_ext` without required fields): every template renders JSON
    ok(&run(&dir, "create", &["-s", "schools"]));
    render_templates(&dir);

    // again: refused, nothing changed
    let before = std::fs::read_to_string(dir.join("earthmover.yml")).unwrap();
    let o = run(&dir, "create", &["-s", "gradeLevelDescriptors"]);
    assert_eq!(o.status.code(), Some(255));
    assert!(
        text(&o).contains("contains `$destinations.gradeLevelDescriptors`; to re-create it"),
        "{}",
        text(&o)
    );
    std::fs::remove_file(dir.join("earthmover.yml")).unwrap();
    let o = run(&dir, "create", &["-s", "gradeLevelDescriptors"]);
    assert_eq!(o.status.code(), Some(255));
    assert!(text(&o).contains("The file `templates/gradeLevelDescriptors.jsont` already exists"));
    assert!(!dir.join("earthmover.yml").exists(), "nothing written");
    // a new endpoint is appended to an existing earthmover.yml
    std::fs::write(dir.join("earthmover.yml"), &before).unwrap();
    ok(&run(&dir, "create", &["-s", "students"]));
    let after = std::fs::read_to_string(dir.join("earthmover.yml")).unwrap();
    assert!(after.starts_with(&before));
    assert!(after.ends_with("\n  students:\n    source: $transformations.students\n    template: templates/students.jsont\n    extension: jsonl\n    linearize: True"));
    assert!(dir.join("templates/students.jsont").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn count_and_create_parity_with_the_python_tool() {
    let (dir, _, _running) = journey("count-parity", 8, 4, &[], "", "");
    ok(&run(&dir, "send", &[]));
    let sel = "calendars,schools,students,studentSchoolAssociations,gradeLevelDescriptors,grades";
    let count = |tool: Tool, more: &[&str]| {
        let mut args = vec!["count", "-c", "lightbeam.yaml", "-s", sel];
        args.extend_from_slice(more);
        let o = tool.run(&dir, &args);
        ok(&o);
        o
    };
    let ours = count(Tool::Rust, &[]);
    let theirs = count(Tool::Python, &[]);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
    // the results file holds every row, zeros included (Python's text file, not JSON)
    count(Tool::Rust, &["--results-file", "out/ours.tsv"]);
    count(Tool::Python, &["--results-file", "out/theirs.tsv"]);
    let ours = std::fs::read_to_string(dir.join("out/ours.tsv")).unwrap();
    assert_eq!(
        ours,
        std::fs::read_to_string(dir.join("out/theirs.tsv")).unwrap()
    );
    assert!(ours.contains("0\tcalendars\n"));
    // count.separator
    let o = run(
        &dir,
        "count",
        &["-s", "schools", "--set", "count.separator", ","],
    );
    ok(&o);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "Records,Endpoint\n1,schools\n"
    );

    // fetch: the same records as the Python tool
    for (tool, sub) in [(Tool::Rust, "f1"), (Tool::Python, "f2")] {
        let (_, data_dir) = new_data_dir(&dir, sub);
        let args = [
            "fetch",
            "-c",
            "lightbeam.yaml",
            "-s",
            "schools,studentSchoolAssociations",
            "-d",
            "_lastModifiedDate",
            "--set",
            "data_dir",
            &data_dir,
            // one --set with two pairs: the Python tool keeps only the last --set
            "fetch.page_size",
            "3",
        ];
        ok(&tool.run(&dir, &args));
    }
    // the same lines, byte for byte; Python writes pages in the order they arrive, ours in the
    // API's order, so the lines are compared sorted
    for f in ["schools.jsonl", "studentSchoolAssociations.jsonl"] {
        let lines = |sub: &str| {
            let text = std::fs::read_to_string(dir.join(sub).join(f)).unwrap();
            let mut v: Vec<String> = text.lines().map(str::to_string).collect();
            v.sort();
            v
        };
        assert_eq!(lines("f1"), lines("f2"), "{f}");
    }

    // create: the same earthmover.yml as the Python tool
    for (tool, sub) in [(Tool::Rust, "c1"), (Tool::Python, "c2")] {
        let (d, _) = new_data_dir(&dir, sub);
        std::fs::copy(dir.join("lightbeam.yaml"), d.join("lightbeam.yaml")).unwrap();
        let args = [
            "create",
            "-c",
            "lightbeam.yaml",
            "-s",
            "schools,studentSchoolAssociations",
        ];
        ok(&tool.run(&d, &args));
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("c1/earthmover.yml")).unwrap(),
        std::fs::read_to_string(dir.join("c2/earthmover.yml")).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn version_keeps_the_python_line_and_names_the_commit() {
    let dir = std::env::temp_dir();
    let o = lightbeam(&dir, &["-v"]);
    assert_eq!(o.status.code(), Some(0));
    let line = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    assert_eq!(
        line,
        format!(
            "lightbeam, version {} (lightbeam-rs, commit {head})",
            env!("CARGO_PKG_VERSION")
        )
    );
}
