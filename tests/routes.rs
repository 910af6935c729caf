//! ODS/API 7.x route layouts: context routes (`/{context}/data/v3`) and tenants
//! (`/{tenant}/...`), the data URL taken from discovery's route layout and the config, and the
//! stop on a run whose first requests all answer 404.

use lightbeam_e2e::*;
use std::path::Path;

/// `lightbeam.yaml` in `dir` for the API at `base_url` with `api` lines (mode, year, ...) under
/// `edfi_api:`; the data in `dir/data`.
fn config(dir: &Path, base_url: &str, api: &str, client: (&str, &str)) {
    std::fs::write(
        dir.join("lightbeam.yaml"),
        format!(
            "state_dir: {state}\ndata_dir: {data}/\nedfi_api:\n  base_url: {base_url}\n{api}\
             \x20 client_id: {}\n  client_secret: {}\nconnection:\n  pool_size: 4\n  verify_ssl: true\n",
            client.0,
            client.1,
            state = dir.join("state").display(),
            data = dir.join("data").display(),
        ),
    )
    .unwrap();
}

/// The default client, year-specific 2025.
const YEAR_2025: &str = "  mode: year_specific\n  year: 2025\n";
const TESTKEY: (&str, &str) = ("testkey", "testsecret");
/// The sandbox's default database.
const SHARED: &str = "  mode: shared_instance\n";

/// Records of `endpoint` in the sandbox's database `key` (`context:2025`, `tenant:a`).
fn records(sb: &Sandbox, key: &str, endpoint: &str) -> u64 {
    sb.stats()["records_by_instance"][key][format!("ed-fi/{endpoint}")]
        .as_u64()
        .unwrap_or(0)
}

/// The run's output says each of `parts` (all in it, whatever is between).
fn assert_says(o: &std::process::Output, parts: &[&str]) {
    let t = text(o);
    for part in parts {
        assert!(t.contains(part), "{part:?} not in:\n{t}");
    }
}

fn students(files: &[(String, u64)]) -> u64 {
    files.iter().find(|(e, _)| e == "students").unwrap().1
}

#[test]
fn context_routes_from_discovery_at_the_root_or_at_the_context() {
    let dir = tmp_dir("routes-contexts");
    let files = generate(&dir.join("data"), 5, 3);
    let sb = Sandbox::start(Version::Ds50, &["--contexts", "2024,2025"]);
    let lines = total_lines(&files);

    // discovery at the API's root names {schoolYearFromRoute}: edfi_api.year fills it
    config(&dir, &sb.base, YEAR_2025, TESTKEY);
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 0);
    let url = format!("{}/2025/data/v3", sb.base);
    assert_says(&o, &[&format!(
            "data URL: {url} (from edfi_api.base_url and the API's route layout {{schoolYearFromRoute}}/data/v3)"
        )]);
    assert_eq!(
        records(&sb, "context:2025", "students"),
        students(&files),
        "{}",
        sb.stats()
    );
    assert_eq!(records(&sb, "context:2024", "students"), 0);
    assert_eq!(sb.creates(), lines);

    // 2024 is another database: the same payloads are new there
    config(
        &dir,
        &sb.base,
        "  mode: year_specific\n  year: 2024\n",
        TESTKEY,
    );
    let o = run(&dir, "send", &["-s", "students", "-f"]);
    assert_exit(&o, 0);
    assert_eq!(records(&sb, "context:2024", "students"), students(&files));

    // base_url at the context's root (discovery there names 2025): fetch reads 2025's records
    config(
        &dir,
        &format!("{}/2025", sb.base),
        "  mode: shared_instance\n",
        TESTKEY,
    );
    let o = run(&dir, "fetch", &["-s", "schools,students"]);
    assert_exit(&o, 0);
    assert_says(
        &o,
        &[&format!(
            "data URL: {}/2025/data/v3 (from edfi_api.base_url and edfi_api.mode)",
            sb.base
        )],
    );
    let fetched = std::fs::read_to_string(dir.join("data/students.jsonl")).unwrap();
    assert_eq!(fetched.lines().count() as u64, students(&files));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tenants_need_the_tenants_root_and_keep_their_data_apart() {
    let dir = tmp_dir("routes-tenants");
    let files = generate(&dir.join("data"), 5, 4);
    let sb = Sandbox::start(
        Version::Ds50,
        &[
            "--tenants",
            "a,b",
            "--contexts",
            "2025",
            "--client",
            "ka:secret-a,tenant=a",
            "--client",
            "any:secret-any",
        ],
    );
    // at the API's root the tenant cannot be guessed: a clear error, nothing sent
    config(
        &dir,
        &sb.base,
        "  mode: year_specific\n  year: 2025\n",
        ("ka", "secret-a"),
    );
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 255);
    assert_says(
        &o,
        &["the API is multi-tenant", &format!("{}/TENANT", sb.base)],
    );
    assert_eq!(sb.posts(), 0);

    // at tenant a's root, with a's client
    config(
        &dir,
        &format!("{}/a", sb.base),
        "  mode: year_specific\n  year: 2025\n",
        ("ka", "secret-a"),
    );
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 0);
    assert_says(&o, &[&format!("data URL: {}/a/2025/data/v3", sb.base)]);
    assert_eq!(
        records(&sb, "tenant:a/context:2025", "students"),
        students(&files)
    );
    assert_eq!(records(&sb, "tenant:b/context:2025", "students"), 0);

    // a's client cannot get a token in b; a client of every tenant can
    let b = format!("{}/b", sb.base);
    config(
        &dir,
        &b,
        "  mode: year_specific\n  year: 2025\n",
        ("ka", "secret-a"),
    );
    let o = run(&dir, "count", &["-s", "students"]);
    assert_exit(&o, 255);
    assert_says(&o, &["OAuth token could not be obtained"]);
    config(
        &dir,
        &b,
        "  mode: year_specific\n  year: 2025\n",
        ("any", "secret-any"),
    );
    let o = run(&dir, "send", &["-s", "students", "-f"]);
    assert_exit(&o, 0);
    assert_eq!(
        records(&sb, "tenant:b/context:2025", "students"),
        students(&files)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_whose_first_requests_all_answer_404_stops_and_says_why() {
    let dir = tmp_dir("routes-404");
    generate(&dir.join("data"), 5, 5);
    let sb = Sandbox::start(Version::Ds50, &["--contexts", "2025"]);
    // a data URL without the context: every data route is 404
    config(
        &dir,
        &sb.base,
        &format!(
            "  mode: year_specific\n  year: 2025\n  data_url: {}/data/v3\n",
            sb.base
        ),
        TESTKEY,
    );
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 255);
    assert_says(
        &o,
        &[
            &format!("the first 5 requests to {}/data/v3 all answered 404 (not found), so the data URL looks wrong: edfi_api.mode is year_specific (it adds /2025 to the URL)", sb.base),
            "or set edfi_api.data_url",
        ],
    );
    // nothing was counted as sent: a corrected run sends everything
    config(&dir, &sb.base, YEAR_2025, TESTKEY);
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 0);
    assert_eq!(records(&sb, "context:2025", "students"), 5);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_dms_layout_send_count_fetch_delete() {
    let dir = tmp_dir("routes-dms");
    let files = generate(&dir.join("data"), 5, 6);
    let lines = total_lines(&files);
    let sb = Sandbox::start(Version::Ds50, &["--dms"]);
    // the Python tool's default mode (year_specific) does not matter: the DMS has no year route
    config(&dir, &sb.base, YEAR_2025, TESTKEY);
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 0);
    assert_says(
        &o,
        &[&format!(
            "data URL: {}/data (from edfi_api.base_url and the API's route layout data)",
            sb.base
        )],
    );
    assert_eq!(sb.creates(), lines);
    assert_eq!(sb.count("students"), students(&files));
    let o = run(&dir, "count", &["-s", "students,schools"]);
    assert_exit(&o, 0);
    let o = run(
        &dir,
        "delete",
        &["-s", "studentSchoolAssociations", "--yes"],
    );
    assert_exit(&o, 0);
    assert_eq!(sb.count("studentSchoolAssociations"), 0);
    let o = run(&dir, "fetch", &["-s", "students"]);
    assert_exit(&o, 0);
    let fetched = std::fs::read_to_string(dir.join("data/students.jsonl")).unwrap();
    assert_eq!(fetched.lines().count() as u64, students(&files));

    // with a school-year context: discovery at the root shows {schoolYear}
    let sb = Sandbox::start(Version::Ds50, &["--dms", "--contexts", "2025"]);
    generate(&dir.join("data"), 5, 6);
    config(&dir, &sb.base, YEAR_2025, TESTKEY);
    let o = run(&dir, "send", &["-s", "students", "-f"]);
    assert_exit(&o, 0);
    assert_says(&o, &[&format!("data URL: {}/2025/data (", sb.base)]);
    assert_eq!(records(&sb, "context:2025", "students"), students(&files));
    let _ = std::fs::remove_dir_all(&dir);
}

/// 20 `lightbeam count` processes at once against an API that allows 15 live tokens per client.
fn twenty_counts(token_ttl: &str, timeout: &str) -> (Sandbox, Vec<std::process::Output>) {
    let dir = tmp_dir(&format!("routes-tokens-{token_ttl}"));
    generate(&dir.join("data"), 5, 7);
    let sb = Sandbox::start(
        Version::Ds50,
        &["--token-limit", "15", "--token-ttl", token_ttl],
    );
    write_config(&dir, &sb.base, &format!("  timeout: {timeout}\n"), "");
    let children: Vec<_> = (0..20)
        .map(|_| {
            std::process::Command::new(bin("lightbeam"))
                .args(["count", "-c", "lightbeam.yaml", "-s", "students"])
                .current_dir(&dir)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    (sb, outputs)
}

#[test]
fn twenty_processes_and_a_cap_of_15_tokens_succeed_or_fail_clearly() {
    // tokens that expire in 3 s: the five that wait get theirs, within connection.timeout
    let (sb, outputs) = twenty_counts("3", "30");
    for o in &outputs {
        assert_exit(o, 0);
    }
    assert!(sb.stats()["tokens_issued"].as_u64().unwrap() >= 20);
    // tokens that live 30 minutes: 15 succeed, 5 fail saying why
    let (_sb, outputs) = twenty_counts("1800", "4");
    let failed: Vec<_> = outputs
        .iter()
        .filter(|o| o.status.code() != Some(0))
        .collect();
    assert_eq!(
        failed.len(),
        5,
        "{:?}",
        outputs.iter().map(text).collect::<Vec<_>>()
    );
    for o in failed {
        assert_exit(o, 255);
        assert_says(o, &["429 Too Many Tokens: the API allows 15 live tokens per client, and none expired within connection.timeout (4s)"]);
    }
}

#[test]
fn validate_resolves_remote_references_through_the_context_route() {
    let dir = tmp_dir("routes-validate");
    let data = dir.join("data");
    generate(&data, 5, 8);
    let sb = Sandbox::start(Version::Ds50, &["--contexts", "2025"]);
    config(&dir, &sb.base, YEAR_2025, TESTKEY);
    let o = run(
        &dir,
        "send",
        &["-s", "localEducationAgencies,schools,students"],
    );
    assert_exit(&o, 0);
    // the schools and students are now only in the API (in context 2025)
    for f in ["localEducationAgencies", "schools", "students"] {
        std::fs::remove_file(data.join(format!("{f}.jsonl"))).unwrap();
    }
    let all_methods = "validate:\n  methods: \"*\"\n";
    let yaml = std::fs::read_to_string(dir.join("lightbeam.yaml")).unwrap();
    std::fs::write(dir.join("lightbeam.yaml"), format!("{yaml}{all_methods}")).unwrap();
    let (o, results) = run_with_results(
        &dir,
        "validate",
        "results.json",
        &["-s", "studentSchoolAssociations"],
    );
    assert_exit(&o, 0);
    assert_eq!(results["total_records_failed"], 0, "{results}");
    // a school the API does not have: a references failure
    let file = data.join("studentSchoolAssociations.jsonl");
    let text_of = std::fs::read_to_string(&file).unwrap();
    let first = text_of.lines().next().unwrap();
    let mut bad: serde_json::Value = serde_json::from_str(first).unwrap();
    bad["schoolReference"]["schoolId"] = serde_json::json!(9_999_999);
    std::fs::write(&file, format!("{text_of}{bad}\n")).unwrap();
    let (o, results) = run_with_results(
        &dir,
        "validate",
        "results.json",
        &["-s", "studentSchoolAssociations"],
    );
    assert_exit(&o, 0);
    assert_eq!(results["total_records_failed"], 1, "{results}");
    assert!(results.to_string().contains("references"), "{results}");
    assert_eq!(
        sb.stats()["requests"]["POST"]["201"].as_u64(),
        Some(sb.creates())
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `fetch.paging` in the config written by [`config`].
fn paging(dir: &Path, paging: &str) {
    let path = dir.join("lightbeam.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = match text.find("fetch:") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    // pool_size 1: auto uses cursor paging from pool_size partitions (2,500 records each) on
    std::fs::write(
        path,
        format!(
            "{}fetch:\n  page_size: 200\n  paging: {paging}\n",
            text.replace("pool_size: 4", "pool_size: 1")
        ),
    )
    .unwrap();
}

fn file(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("data").join(name)).unwrap()
}

#[test]
fn fetch_truncate_and_delete_page_by_cursor_where_the_api_offers_it() {
    let dir = tmp_dir("routes-cursor");
    let files = generate(&dir.join("data"), 100, 8);
    let grades = files.iter().find(|(e, _)| e == "grades").unwrap().1;
    assert!(grades > 2_500, "two partitions of grades: {grades}");
    let sb = Sandbox::start(Version::Ds60, &["--cursor-paging"]);
    config(&dir, &sb.base, SHARED, TESTKEY);
    paging(&dir, "auto");
    std::fs::write(
        dir.join("data/gradeLevelDescriptors.jsonl"),
        r#"{"codeValue": "Thirteenth grade", "shortDescription": "Thirteenth grade", "namespace": "uri://ed-fi.org/GradeLevelDescriptor"}"#,
    )
    .unwrap();
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 0);

    // ODS/API 7.3 lists /partitions: cursor paging, in the API's order like offset paging
    let o = run(&dir, "fetch", &["-s", "grades,students"]);
    assert_exit(&o, 0);
    assert_says(
        &o,
        &[
            "cursor paging where the API offers it",
            &format!("fetching {grades} records from {}/data/v3/", sb.base),
            "/ed-fi/grades in 2 cursor partitions ...",
            "/ed-fi/students in 1 cursor partition ...",
        ],
    );
    let (by_cursor, students_by_cursor) =
        (file(&dir, "grades.jsonl"), file(&dir, "students.jsonl"));
    assert_eq!(by_cursor.lines().count() as u64, grades);
    paging(&dir, "offset");
    let o = run(&dir, "fetch", &["-s", "grades,students"]);
    assert_exit(&o, 0);
    assert!(!text(&o).contains("cursor p"), "{}", text(&o));
    assert_eq!(
        file(&dir, "grades.jsonl"),
        by_cursor,
        "the same lines, in the same order"
    );
    assert_eq!(file(&dir, "students.jsonl"), students_by_cursor);

    // delete lists the descriptor values by cursor to find the one to delete
    paging(&dir, "auto");
    let seeded = sb.count("gradeLevelDescriptors");
    let o = run(&dir, "delete", &["-s", "gradeLevelDescriptors", "--yes"]);
    assert_exit(&o, 0);
    assert_says(&o, &["cursor paging where the API offers it"]);
    assert_eq!(
        sb.count("gradeLevelDescriptors"),
        seeded - 1,
        "{}",
        text(&o)
    );

    // truncate lists every id by cursor
    let o = run(&dir, "truncate", &["-s", "grades", "--yes"]);
    assert_exit(&o, 0);
    assert_says(
        &o,
        &[
            "cursor paging where the API offers it",
            &format!("TRUNCATING ALL DATA from endpoint grades ({grades} records"),
        ],
    );
    assert_eq!(sb.count("grades"), 0);

    // the DMS layout
    let sb = Sandbox::start(Version::Ds60, &["--dms", "--cursor-paging"]);
    generate(&dir.join("data"), 100, 8); // fetch wrote over the data files
    config(&dir, &sb.base, "", TESTKEY);
    paging(&dir, "auto");
    let o = run(&dir, "send", &["-s", "students", "-f"]);
    assert_exit(&o, 0);
    let o = run(&dir, "fetch", &["-s", "students"]);
    assert_exit(&o, 0);
    assert_says(
        &o,
        &[&format!(
            "{}/data/ed-fi/students in 1 cursor partition",
            sb.base
        )],
    );
    assert_eq!(
        file(&dir, "students.jsonl").lines().count(),
        students_by_cursor.lines().count()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cursor_paging_asked_of_an_api_without_it_pages_by_offset() {
    let dir = tmp_dir("routes-cursor-forced");
    let files = generate(&dir.join("data"), 5, 9);
    let sb = Sandbox::start(Version::Ds50, &[]);
    config(&dir, &sb.base, SHARED, TESTKEY);
    let o = run(&dir, "send", &["-s", "students"]);
    assert_exit(&o, 0);
    paging(&dir, "cursor");
    let o = run(&dir, "fetch", &["-s", "students"]);
    assert_exit(&o, 0);
    assert_says(
        &o,
        &[
            "cursor paging (fetch.paging: cursor)",
            "paging students by offset: its /partitions could not be read",
        ],
    );
    assert_eq!(
        file(&dir, "students.jsonl").lines().count() as u64,
        students(&files)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn lines(dir: &Path, name: &str) -> Vec<serde_json::Value> {
    file(dir, name)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn fetch_changes_twice_gets_only_the_changes_and_the_deletes() {
    let dir = tmp_dir("routes-changes");
    generate(&dir.join("data"), 5, 10);
    let sb = Sandbox::start(Version::Ds50, &[]);
    config(&dir, &sb.base, SHARED, TESTKEY);
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 0);
    let sel = ["-s", "students,studentSchoolAssociations"];

    // the first run: everything, up to the newest change version; no deletes yet
    let o = run(&dir, "fetch", &[&sel[..], &["--changes"]].concat());
    assert_exit(&o, 0);
    assert_says(
        &o,
        &[
            "no earlier fetch --changes of this selection: fetching every record",
            "fetching what changed: change versions up to ",
            "kept change version ",
        ],
    );
    let students = lines(&dir, "students.jsonl");
    assert_eq!(students.len(), 5);
    assert_eq!(lines(&dir, "studentSchoolAssociations.jsonl").len(), 5);
    assert!(!dir.join("data/students.deletes.jsonl").exists());

    // changes in between: one student renamed, one new, one enrolment deleted
    let t = sb.token();
    let mut renamed = students[0].clone();
    for k in ["id", "_etag", "_lastModifiedDate"] {
        renamed.as_object_mut().unwrap().remove(k);
    }
    renamed["lastSurname"] = serde_json::json!("Changed");
    assert_eq!(sb.post(&t, "/ed-fi/students", &renamed).status(), 200);
    let mut new = renamed.clone();
    new["studentUniqueId"] = serde_json::json!("new-student-1");
    assert_eq!(sb.post(&t, "/ed-fi/students", &new).status(), 201);
    let ssa = lines(&dir, "studentSchoolAssociations.jsonl")[2].clone();
    let id = ssa["id"].as_str().unwrap();
    assert_eq!(
        sb.delete(&t, &format!("/ed-fi/studentSchoolAssociations/{id}"))
            .status(),
        204
    );

    // the second run: only those, and the delete with its key values
    let o = run(&dir, "fetch", &[&sel[..], &["--changes"]].concat());
    assert_exit(&o, 0);
    assert_says(
        &o,
        &["the last fetch --changes of this selection fetched up to change version "],
    );
    let changed = lines(&dir, "students.jsonl");
    let ids: Vec<&str> = changed
        .iter()
        .map(|s| s["studentUniqueId"].as_str().unwrap())
        .collect();
    assert_eq!(changed.len(), 2, "{ids:?}");
    assert!(ids.contains(&"new-student-1"), "{ids:?}");
    assert!(changed.iter().any(|s| s["lastSurname"] == "Changed"));
    assert_eq!(
        file(&dir, "studentSchoolAssociations.jsonl"),
        "",
        "nothing changed: an empty file"
    );
    let deleted = lines(&dir, "studentSchoolAssociations.deletes.jsonl");
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["id"], ssa["id"]);
    assert!(deleted[0]["changeVersion"].is_u64());
    assert_eq!(
        deleted[0]["keyValues"]["studentUniqueId"],
        ssa["studentReference"]["studentUniqueId"]
    );
    assert_eq!(file(&dir, "students.deletes.jsonl"), "");

    // nothing changed since: empty files
    let o = run(&dir, "fetch", &[&sel[..], &["--changes"]].concat());
    assert_exit(&o, 0);
    assert_eq!(file(&dir, "students.jsonl"), "");
    assert_eq!(file(&dir, "studentSchoolAssociations.deletes.jsonl"), "");

    // an explicit window, and -q minChangeVersion (the Python tool refuses it)
    let version = |o: &std::process::Output| -> u64 {
        let t = text(o);
        let at = t.find("kept change version ").expect("kept") + "kept change version ".len();
        t[at..].split(':').next().unwrap().trim().parse().unwrap()
    };
    let newest = version(&o);
    let o = run(
        &dir,
        "fetch",
        &[
            "-s",
            "students",
            "--min-change-version",
            "0",
            "--max-change-version",
            &newest.to_string(),
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(lines(&dir, "students.jsonl").len(), 6);
    let o = run(
        &dir,
        "fetch",
        &[
            "-s",
            "students",
            "-q",
            &format!("{{\"minChangeVersion\": {}}}", newest + 1),
        ],
    );
    assert_exit(&o, 0);
    assert_says(&o, &["no records to fetch from students"]);

    // --changes needs somewhere to keep the version
    let yaml = std::fs::read_to_string(dir.join("lightbeam.yaml")).unwrap();
    let without: String = yaml
        .lines()
        .filter(|l| !l.starts_with("state_dir"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("lightbeam.yaml"), without).unwrap();
    let o = run(&dir, "fetch", &[&sel[..], &["--changes"]].concat());
    assert_exit(&o, 255);
    assert_says(&o, &["fetch --changes keeps the newest change version it fetched in the state: set state_dir"]);
    let _ = std::fs::remove_dir_all(&dir);
}

const STUDENT_PROFILES: &str = r#"<Profiles>
  <Profile name="Students-Names">
    <Resource name="Student">
      <ReadContentType memberSelection="IncludeOnly">
        <Property name="FirstName" />
        <Property name="LastSurname" />
      </ReadContentType>
      <WriteContentType memberSelection="IncludeAll" />
    </Resource>
  </Profile>
  <Profile name="Students-All">
    <Resource name="Student">
      <ReadContentType memberSelection="IncludeAll" />
      <WriteContentType memberSelection="IncludeAll" />
    </Resource>
  </Profile>
</Profiles>
"#;

#[test]
fn a_profile_bound_client_goes_through_its_profile() {
    let dir = tmp_dir("routes-profiles");
    let files = generate(&dir.join("data"), 5, 11);
    let xml = dir.join("Profiles.xml");
    std::fs::write(&xml, STUDENT_PROFILES).unwrap();
    let profile = |name: &str| format!("{name}:{}", xml.display());
    let sb = Sandbox::start(
        Version::Ds50,
        &[
            "--profile",
            &profile("Students-Names"),
            "--profile",
            &profile("Students-All"),
            "--client",
            "testkey:testsecret",
            "--client",
            "two:s,profile=Students-Names,profile=Students-All",
        ],
    );
    // two profiles assigned: the API cannot choose, every request must name one
    config(&dir, &sb.base, SHARED, ("two", "s"));
    let o = run(&dir, "send", &["-s", "students"]);
    assert_exit(&o, 1);
    assert_says(
        &o,
        &[
            "(403 x5) Based on profile assignments, one of the following profile-specific content types is required when creating or updating this resource",
            "[an Ed-Fi profile problem: check edfi_api.profile and edfi_api.profiles]",
        ],
    );
    assert_eq!(sb.count("students"), 0);

    // edfi_api.profile: the writable media type on POST, the readable one on GET
    config(
        &dir,
        &sb.base,
        &format!("{SHARED}  profile: Students-Names\n"),
        ("two", "s"),
    );
    let o = run(&dir, "send", &["-s", "students"]);
    assert_exit(&o, 0);
    assert_eq!(sb.count("students"), students(&files));
    let o = run(&dir, "fetch", &["-s", "students"]);
    assert_exit(&o, 0);
    let fetched = lines(&dir, "students.jsonl");
    assert_eq!(fetched.len() as u64, students(&files));
    let keys: std::collections::BTreeSet<&str> = fetched[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| !k.starts_with('_') && *k != "id")
        .collect();
    assert_eq!(
        keys,
        ["firstName", "lastSurname", "studentUniqueId"].into(),
        "what the readable profile shows"
    );

    // edfi_api.profiles per endpoint: students through the profile, schools plain
    config(
        &dir,
        &sb.base,
        &format!("{SHARED}  profiles:\n    students: Students-All\n"),
        ("two", "s"),
    );
    let o = run(&dir, "count", &["-s", "students,schools"]);
    assert_exit(&o, 0);
    let o = run(&dir, "fetch", &["-s", "students"]);
    assert_exit(&o, 0);
    assert!(lines(&dir, "students.jsonl")[0].get("birthDate").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The records `count` printed for `endpoint` (it prints no row for an empty endpoint).
fn counted(o: &std::process::Output, endpoint: &str) -> u64 {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| {
            let (n, e) = l.split_once('\t')?;
            (e == endpoint).then(|| n.parse().ok()).flatten()
        })
        .unwrap_or(0)
}

/// One layout of the journey: its name, the sandbox's arguments, the base URL's path below the
/// sandbox's root, and the `edfi_api` lines.
struct Layout {
    name: &'static str,
    serve: &'static [&'static str],
    root: &'static str,
    api: &'static str,
}

const LAYOUTS: [Layout; 4] = [
    Layout {
        name: "ODS/API 5.x/6.x year routes",
        serve: &[],
        root: "",
        api: "  mode: year_specific\n  year: 2025\n",
    },
    Layout {
        name: "ODS/API 7.x context routes",
        serve: &["--contexts", "2024,2025"],
        root: "",
        api: "  mode: year_specific\n  year: 2025\n",
    },
    Layout {
        name: "ODS/API 7.x tenants",
        serve: &["--tenants", "a,b"],
        root: "/b",
        api: "  mode: shared_instance\n",
    },
    Layout {
        name: "Ed-Fi DMS",
        serve: &["--dms"],
        root: "",
        api: "",
    },
];

/// In every route layout, through the CLI only: send, count, validate with remote references,
/// fetch --changes, a changed record sent again, fetch --changes (only it), truncate, fetch
/// --changes (the deletes), send again, delete.
#[test]
fn journeys_in_every_route_layout() {
    for layout in LAYOUTS {
        let dir = tmp_dir("routes-journey");
        generate(&dir.join("data"), 5, 12);
        let generated = file(&dir, "students.jsonl");
        let restore = |text: &str| std::fs::write(dir.join("data/students.jsonl"), text).unwrap();
        let sb = Sandbox::start(Version::Ds50, layout.serve);
        config(
            &dir,
            &format!("{}{}", sb.base, layout.root),
            layout.api,
            TESTKEY,
        );
        let sel = ["-s", "students", "--changes"];
        let what = layout.name;

        let o = run(&dir, "send", &[]);
        assert_exit(&o, 0);
        let o = run(&dir, "count", &["-s", "students"]);
        assert_exit(&o, 0);
        assert_eq!(counted(&o, "students"), 5, "{what}");

        // validate finds the schools and students the data files lack in the API
        let schools = file(&dir, "schools.jsonl");
        for f in ["schools", "students"] {
            std::fs::remove_file(dir.join(format!("data/{f}.jsonl"))).unwrap();
        }
        let yaml = std::fs::read_to_string(dir.join("lightbeam.yaml")).unwrap();
        std::fs::write(
            dir.join("lightbeam.yaml"),
            format!("{yaml}validate:\n  methods: \"*\"\n"),
        )
        .unwrap();
        let (o, results) = run_with_results(
            &dir,
            "validate",
            "results.json",
            &["-s", "studentSchoolAssociations"],
        );
        assert_exit(&o, 0);
        assert_eq!(results["total_records_failed"], 0, "{what}: {results}");
        std::fs::write(dir.join("data/schools.jsonl"), schools).unwrap();
        restore(&generated);
        let o = run(&dir, "fetch", &sel);
        assert_exit(&o, 0);
        assert_eq!(lines(&dir, "students.jsonl").len(), 5, "{what}");

        // one student renamed and sent again
        let renamed = generated.replacen("\"lastSurname\":\"", "\"lastSurname\":\"Re", 1);
        assert_ne!(renamed, generated);
        restore(&renamed);
        let o = run(&dir, "send", &["-s", "students"]);
        assert_exit(&o, 0);
        let o = run(&dir, "fetch", &sel);
        assert_exit(&o, 0);
        let changed = lines(&dir, "students.jsonl");
        assert_eq!(changed.len(), 1, "{what}: only the renamed one");
        assert!(changed[0]["lastSurname"]
            .as_str()
            .unwrap()
            .starts_with("Re"));

        // truncate the students' enrolments and the students: their deletes next
        let o = run(
            &dir,
            "truncate",
            &["-s", "studentSchoolAssociations,studentSectionAssociations,grades,studentSchoolAttendanceEvents,students", "--yes"],
        );
        assert_exit(&o, 0);
        let o = run(&dir, "count", &["-s", "students"]);
        assert_eq!(counted(&o, "students"), 0, "{what}");
        let o = run(&dir, "fetch", &sel);
        assert_exit(&o, 0);
        assert_eq!(file(&dir, "students.jsonl"), "", "{what}");
        let deleted = lines(&dir, "students.deletes.jsonl");
        assert_eq!(deleted.len(), 5, "{what}: {deleted:?}");
        assert!(deleted
            .iter()
            .all(|d| d["keyValues"]["studentUniqueId"].is_string()));

        // send again, then delete by identity
        restore(&generated);
        let o = run(&dir, "send", &["-s", "students", "-f"]);
        assert_exit(&o, 0);
        let o = run(&dir, "count", &["-s", "students"]);
        assert_eq!(counted(&o, "students"), 5, "{what}");
        let o = run(&dir, "delete", &["-s", "students", "--yes"]);
        assert_exit(&o, 0);
        let o = run(&dir, "count", &["-s", "students"]);
        assert_eq!(counted(&o, "students"), 0, "{what}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
