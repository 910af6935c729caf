//! `lightbeam send` against edfi-sandbox processes over real HTTP: complete loads, skips,
//! faults, token expiry, resending failures, and a kill -9 in the middle of a send.

use lightbeam_e2e::*;
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn generated_data_loads_completely_and_a_second_run_skips_everything() {
    let (dir, files, sb) = journey("complete", 300, 5, &[], "  pool_size: 8\n", "");
    let lines = total_lines(&files);
    let (o, results) = run_with_results(&dir, "send", "results.json", &[]);
    ok(&o);
    assert_landed(&sb, &files, "records in the API = lines");
    assert_eq!(results["command"], "send");
    assert_eq!(results["total_records_processed"], lines);
    assert_eq!(results["total_records_failed"], 0);
    assert_eq!(results["total_records_skipped"], 0);
    for (endpoint, n) in &files {
        let r = &results["resources"][endpoint];
        assert_eq!(r["records_processed"], *n, "{endpoint}");
        assert_eq!(r["successes"][0]["status_code"], 201, "{endpoint}");
        assert_eq!(r["successes"][0]["count"], *n, "{endpoint}");
    }
    let stats = sb.stats();
    assert_eq!(stats["creates"], lines);
    assert_eq!(
        stats["tokens_issued"], 1,
        "one token shared by all requests"
    );
    // every payload is in the state with its 201
    let state = state_statuses(&dir);
    assert_eq!(state.len() as u64, lines);
    assert!(state.values().all(|s| *s == 201));

    // a second plain run skips everything and exits 99
    let (o, again) = run_with_results(&dir, "send", "again.json", &[]);
    assert_exit(&o, 99);
    assert_eq!(again["total_records_skipped"], lines);
    assert_eq!(sb.stats()["creates"], lines, "nothing sent again");
    // -f resends everything (updates, 200)
    ok(&run(&dir, "send", &["-f", "-s", "students"]));
    assert_eq!(
        sb.stats()["updates"].as_u64().unwrap(),
        files.iter().find(|(e, _)| e == "students").unwrap().1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn faults_drops_and_expiring_tokens_lose_nothing() {
    let faults = [&FAULTS[..], &["--token-ttl", "5", "--rng-seed", "1"]].concat();
    let connection = "  pool_size: 32\n  num_retries: 20\n  timeout: 10\n";
    let (dir, files, sb) = journey("faults", 420, 9, &faults, connection, "");
    let lines = total_lines(&files);
    assert!(lines >= 20_000, "{lines}");
    let (o, results) = run_with_results(&dir, "send", "results.json", &[]);
    ok(&o);
    assert_eq!(results["total_records_failed"], 0, "{}", text(&o));
    let stats = sb.stats();
    assert_landed(&sb, &files, "records in the API = lines");
    // exactly once: as many creates as lines (a retried POST that had landed is an update)
    assert_eq!(stats["creates"], lines);
    assert!(
        stats["faults_injected_total"].as_u64().unwrap() > 1000,
        "{stats}"
    );
    assert!(
        stats["connections_dropped"].as_u64().unwrap() > 50,
        "{stats}"
    );
    assert!(
        stats["tokens_issued"].as_u64().unwrap() >= 2,
        "tokens were refreshed: {stats}"
    );
    let state = state_statuses(&dir);
    assert_eq!(state.len() as u64, lines);
    assert!(
        state.values().all(|s| (200..300).contains(s)),
        "the state agrees: all sent"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failed_payload_is_resent_by_the_next_plain_run() {
    let dir = tmp_dir("resend");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let sb = Sandbox::start(Version::Ds50, &[]);
    write_config(&dir, &sb.base, "  pool_size: 2\n", "");
    // an enrollment whose school does not exist yet: 409
    std::fs::write(
        dir.join("data/students.jsonl"),
        "{\"studentUniqueId\":\"s1\",\"birthDate\":\"2010-01-01\",\"firstName\":\"A\",\"lastSurname\":\"B\"}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("data/studentSchoolAssociations.jsonl"),
        "{\"entryDate\":\"2023-08-23\",\"entryGradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\",\"schoolReference\":{\"schoolId\":1},\"studentReference\":{\"studentUniqueId\":\"s1\"}}\n",
    )
    .unwrap();
    let (o, r1) = run_with_results(&dir, "send", "r1.json", &[]);
    ok(&o);
    let f = &r1["resources"]["studentSchoolAssociations"]["failures"][0];
    assert_eq!(f["status_code"], 409);
    assert_eq!(f["line_numbers"], serde_json::json!([1]));
    assert!(f["message"].as_str().unwrap().contains("School"), "{f}");
    // add the school (and its LEA) and run again, plainly: the 409 line is sent again
    std::fs::write(dir.join("data/localEducationAgencies.jsonl"), "{\"localEducationAgencyId\":1000,\"nameOfInstitution\":\"LEA\",\"localEducationAgencyCategoryDescriptor\":\"uri://ed-fi.org/LocalEducationAgencyCategoryDescriptor#Independent\",\"categories\":[{\"educationOrganizationCategoryDescriptor\":\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#Local Education Agency\"}]}\n").unwrap();
    std::fs::write(dir.join("data/schools.jsonl"), "{\"schoolId\":1,\"nameOfInstitution\":\"School\",\"localEducationAgencyReference\":{\"localEducationAgencyId\":1000},\"educationOrganizationCategories\":[{\"educationOrganizationCategoryDescriptor\":\"uri://ed-fi.org/EducationOrganizationCategoryDescriptor#School\"}],\"gradeLevels\":[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"}]}\n").unwrap();
    let (o, r2) = run_with_results(&dir, "send", "r2.json", &[]);
    ok(&o);
    assert_eq!(
        r2["resources"]["students"]["records_skipped"], 1,
        "the student was sent already"
    );
    assert_eq!(
        r2["resources"]["studentSchoolAssociations"]["successes"][0]["status_code"],
        201
    );
    assert_eq!(sb.count("studentSchoolAssociations"), 1);
    // --strict: any failure is a non-zero exit
    std::fs::write(
        dir.join("data/students.jsonl"),
        "{\"studentUniqueId\":\"s2\"}\n",
    )
    .unwrap();
    let o = run(&dir, "send", &["-s", "students"]);
    assert_eq!(o.status.code(), Some(1), "all failed: {}", text(&o));
    std::fs::write(
        dir.join("data/students.jsonl"),
        "{\"studentUniqueId\":\"s3\",\"birthDate\":\"2010-01-01\",\"firstName\":\"A\",\"lastSurname\":\"B\"}\n{\"studentUniqueId\":\"s2\"}\n",
    )
    .unwrap();
    let o = run(&dir, "send", &["-s", "students"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "partial failure exits 0 by default: {}",
        text(&o)
    );
    let o = run(&dir, "send", &["-s", "students", "--strict"]);
    assert_eq!(o.status.code(), Some(1), "--strict: {}", text(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kill_9_in_the_middle_then_a_plain_rerun_lands_everything() {
    let (dir, files, sb) = journey("kill", 700, 13, &SLOW, "  pool_size: 8\n", "");
    let lines = total_lines(&files);
    // wait until a good part has landed, then kill -9
    let at = KillAt {
        creates: lines / 3,
        then: Duration::ZERO,
        poll: Duration::from_millis(20),
        limit: Duration::from_secs(120),
        may_finish: false,
    };
    let killed = kill_9_send(&sb, &dir, at);
    let landed = killed.landed;
    let rate = landed as f64 / killed.elapsed;
    // the state database survives the kill
    let _ = state_statuses(&dir);
    let rerun_posts = rerun_after_kill(&sb, &dir, &files, &killed, 0, "the rerun");
    let resent = rerun_posts - (lines - landed);
    let allowed = 8.0 + 1.5 * rate + 50.0;
    eprintln!("landed {landed} of {lines} before the kill at {rate:.0}/s; the rerun sent {rerun_posts}, of which {resent} again (allowed {allowed:.0})");
    assert!(
        (resent as f64) <= allowed,
        "resent {resent} > in flight + about a second of work ({allowed:.0})"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn verify_ssl_false_works_with_a_self_signed_api_and_warns_once() {
    // verify_ssl true (the default): the certificate is refused, a one-line reason, exit 255
    let (dir, files, sb) = journey("tls", 20, 2, &["--tls-self-signed"], "  pool_size: 4\n", "");
    let lines = total_lines(&files);
    assert!(sb.base.starts_with("https://"), "{}", sb.base);
    let o = run(&dir, "send", &[]);
    assert_exit(&o, 255);
    assert!(text(&o).contains("could not connect"), "{}", text(&o));
    assert_eq!(sb.stats()["creates"], 0);
    // verify_ssl false: everything lands, and the user is warned once
    write_config(&dir, &sb.base, "  pool_size: 4\n  verify_ssl: false\n", "");
    let o = run(&dir, "send", &[]);
    ok(&o);
    assert_eq!(text(&o).matches("verify_ssl").count(), 1, "{}", text(&o));
    assert_eq!(sb.stats()["creates"], lines);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_sends_on_one_state_dir_at_once() {
    let (dir, files, sb) = journey("concurrent", 150, 4, &[], "  pool_size: 4\n", "");
    let lines = total_lines(&files);
    let (a, b) = (
        spawn_send(&dir, Stdio::piped()),
        spawn_send(&dir, Stdio::piped()),
    );
    for o in [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()] {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    assert_landed(&sb, &files, "records in the API = lines");
    // the state is whole and agrees: a third run skips everything
    let state = state_statuses(&dir);
    assert_eq!(state.len() as u64, lines);
    assert_exit(&run(&dir, "send", &[]), 99);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The first and last successful POST of `endpoint` (the sandbox's `upsert_spans`).
fn span(stats: &Value, endpoint: &str) -> (u64, u64) {
    let s = &stats["upsert_spans"][format!("ed-fi/{endpoint}")];
    (s[0].as_u64().unwrap(), s[1].as_u64().unwrap())
}

/// Every failure of a results file: (endpoint, status, line).
fn failures(results: &Value) -> Vec<(String, u64, u64)> {
    let mut out = Vec::new();
    for (endpoint, r) in results["resources"].as_object().unwrap() {
        for f in r["failures"].as_array().into_iter().flatten() {
            for line in f["line_numbers"].as_array().unwrap() {
                out.push((
                    endpoint.clone(),
                    f["status_code"].as_u64().unwrap_or(0),
                    line.as_u64().unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Sends `data` (a generated tree, maybe edited) with `send.order: {order}` to a fresh sandbox
/// that checks references and relationships and answers with jitter.
fn send_in_order(name: &str, data: &std::path::Path, order: &str) -> (Value, Value) {
    let dir = tmp_dir(name);
    copy_dir(data, &dir.join("data"));
    let sb = Sandbox::start(
        Version::Ds50,
        &[
            "--relationship-auth",
            "--latency-ms",
            "2",
            "--latency-jitter-ms",
            "12",
            "--rng-seed",
            "3",
        ],
    );
    write_config(
        &dir,
        &sb.base,
        "  pool_size: 8\n",
        &format!("send:\n  order: {order}\n"),
    );
    let (o, results) = run_with_results(&dir, "send", "results.json", &[]);
    ok(&o);
    let stats = sb.stats();
    let _ = std::fs::remove_dir_all(&dir);
    (results, stats)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Every endpoint's (first, last) successful POST.
fn spans(stats: &Value) -> Vec<(String, u64, u64)> {
    stats["upsert_spans"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(e, s)| (e.clone(), s[0].as_u64().unwrap(), s[1].as_u64().unwrap()))
        .collect()
}

#[test]
fn record_order_starts_later_levels_early_and_gets_no_403_or_409() {
    let data = tmp_dir("order-data");
    let files = generate(&data, 40, 5);
    let lines = total_lines(&files);
    // level order: each level after the previous one
    let (levels, stats) = send_in_order("order-levels", &data, "levels");
    assert_eq!(levels["total_records_failed"], 0, "{levels}");
    let (enrollments, sections, grades) = (
        span(&stats, "studentSchoolAssociations"),
        span(&stats, "studentSectionAssociations"),
        span(&stats, "grades"),
    );
    assert!(enrollments.1 < sections.0 && sections.1 < grades.0);
    // the endpoints level order keeps apart: all of one before any of the other
    let by_levels = spans(&stats);
    let apart: Vec<(&str, &str)> = by_levels
        .iter()
        .flat_map(|a| by_levels.iter().map(move |b| (a, b)))
        .filter(|(a, b)| a.2 < b.1)
        .map(|(a, b)| (a.0.as_str(), b.0.as_str()))
        .collect();
    assert!(apart.len() > 50, "{apart:?}");
    let (records, stats) = send_in_order("order-records", &data, "records");
    assert_eq!(records["total_records_failed"], 0, "{records}");
    assert_eq!(stats["creates"], lines);
    assert_eq!(
        stats["requests"]["POST"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["201"],
        "no 403 and no 409: {stats}"
    );
    // record order lets later endpoints start before earlier ones have finished
    let by_records = spans(&stats);
    let at = |name: &str| by_records.iter().find(|s| s.0 == name).unwrap();
    let overlapping: Vec<&(&str, &str)> = apart.iter().filter(|(a, b)| at(b).1 < at(a).2).collect();
    assert!(
        !overlapping.is_empty(),
        "no barrier between levels: {by_records:?}"
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn when_a_referenced_payload_fails_record_order_fails_what_level_order_fails() {
    let data = tmp_dir("order-fail-data");
    generate(&data, 12, 8);
    // the third student cannot be created (no birthDate): its enrollment gets 409, its other
    // payloads 409 or 403 as the API sees them
    let path = data.join("students.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut students: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    students[2].as_object_mut().unwrap().remove("birthDate");
    let edited: String = students.iter().map(|s| format!("{s}\n")).collect();
    std::fs::write(&path, edited).unwrap();
    let (records, _) = send_in_order("order-fail-records", &data, "records");
    let (levels, _) = send_in_order("order-fail-levels", &data, "levels");
    let failed = failures(&records);
    assert!(
        failed.len() > 2,
        "the student and what needs it: {failed:?}"
    );
    assert!(
        failed.contains(&("students".to_string(), 400, 3)),
        "{failed:?}"
    );
    assert_eq!(
        failed,
        failures(&levels),
        "the same failures in both orders"
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn behind_a_rate_limit_everything_lands_and_the_log_says_the_api_pushes_back() {
    let (dir, files, sb) = journey(
        "rate-limit",
        8,
        2,
        &["--rate-limit", "120"],
        "  pool_size: 8\n  num_retries: 20\n",
        "",
    );
    let lines = total_lines(&files);
    let (o, results) = run_with_results(&dir, "send", "results.json", &[]);
    ok(&o);
    assert_eq!(results["total_records_failed"], 0, "{}", text(&o));
    let stats = sb.stats();
    assert_eq!(stats["creates"], lines);
    let limited = stats["rate_limited"].as_u64().unwrap();
    assert!(limited > 0, "the bucket ran dry at first: {stats}");
    assert!(
        limited < lines / 4,
        "paced at what the API accepts, not retried blindly: {limited} 429s for {lines} records"
    );
    let log = text(&o);
    assert!(log.contains("API pushing back: "), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
