//! Reliability and security: the product keeps working and loses nothing.
//!
//! - a fault soak (injected 429/500/503, dropped connections, latency jitter, 5-second tokens):
//!   every record lands exactly once, and the results file and the state database agree with the API;
//! - kill -9 at seeded random points of a large send: the rerun completes and resends at most what
//!   was in flight plus about a second of work; the state database is never corrupt;
//! - a corpus of bad input (data files, configs in `tests/corpus/config/`, credentials, an API that
//!   is down or answers HTML): a clear one-line message naming the file and line or key, a
//!   documented exit code, never a panic;
//! - secrets: neither the client secret nor any token issued to the CLI appears in logs (DEBUG),
//!   results files, the state database, the cache or fetched files.
//!
//! Sizes are small enough for CI; `bash scripts/reliability.sh` runs the same tests in release
//! mode at full size through environment variables:
//! `LB_SOAK_STUDENTS` (default 120; 2100 ≈ 100,000 records), `LB_SOAK_POOL` (default 32),
//! `LB_CRASH_TRIALS` (default 3),
//! `LB_CRASH_STUDENTS` (default 250), `LB_CRASH_SEED` (default 7).

use lightbeam_e2e::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: seeded, repeatable kill points.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows of the state database with a 2xx status.
fn sent_rows(dir: &Path) -> u64 {
    state_rows(dir)
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .count() as u64
}

/// The CRITICAL line of a fatal run: exactly one, and it is one line.
fn fatal_line(o: &Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("CRITICAL")).collect();
    assert_eq!(
        lines.len(),
        1,
        "{what}: one CRITICAL line expected:\n{}",
        text(o)
    );
    let line = lines[0];
    let pos = stderr.find(line).unwrap() + line.len();
    let after = stderr[pos..].trim();
    assert!(
        after.is_empty(),
        "{what}: the reason must be one line, but more follows: {after:?}"
    );
    line.to_string()
}

// ---------------------------------------------------------------------------------------------
// Fault soak

#[test]
fn fault_soak_every_record_lands_exactly_once_and_results_and_state_agree() {
    let students = env_num("LB_SOAK_STUDENTS", 120) as usize;
    let pool = env_num("LB_SOAK_POOL", 32);
    let more = [
        "--latency-ms",
        "1",
        "--latency-jitter-ms",
        "6",
        "--token-ttl",
        "5",
        "--rng-seed",
        "3",
    ];
    let (dir, files, sb) = journey(
        "soak",
        students,
        21,
        &[&FAULTS[..], &more].concat(),
        &format!("  pool_size: {pool}\n  num_retries: 20\n  timeout: 10\n"),
        "log_level: WARNING\n",
    );
    let lines = total_lines(&files);
    let started = Instant::now();
    let (o, results) = run_with_results(&dir, "send", "results.json", &[]);
    let secs = started.elapsed().as_secs_f64();
    assert_no_panic(&o, "soak");
    ok(&o);
    let stats = sb.stats();

    // the API: every line is a record, created exactly once
    assert_landed(&sb, &files, "records in the API = lines");
    assert_eq!(
        stats["creates"], lines,
        "exactly once: as many creates as lines (a retried POST that had landed is an update)"
    );
    let faults = stats["faults_injected_total"].as_u64().unwrap_or(0);
    let dropped = stats["connections_dropped"].as_u64().unwrap_or(0);
    let tokens = stats["tokens_issued"].as_u64().unwrap_or(0);
    let updates = stats["updates"].as_u64().unwrap_or(0);
    assert!(
        faults as f64 > lines as f64 * 0.05,
        "faults were injected: {stats}"
    );
    assert!(dropped > 0, "connections were dropped: {stats}");
    if secs > 6.0 {
        assert!(tokens >= 2, "the 5-second token was renewed: {stats}");
    }

    // the results file agrees
    assert_eq!(results["total_records_processed"], lines);
    assert_eq!(results["total_records_failed"], 0, "{}", text(&o));
    assert_eq!(results["total_records_skipped"], 0);
    for (endpoint, n) in &files {
        let r = &results["resources"][endpoint];
        assert_eq!(r["records_processed"], *n, "{endpoint}");
        let ok: u64 = r["successes"]
            .as_array()
            .expect("successes")
            .iter()
            .map(|s| {
                let code = s["status_code"].as_u64().unwrap();
                assert!((200..300).contains(&code), "{endpoint}: {s}");
                s["count"].as_u64().unwrap()
            })
            .sum();
        assert_eq!(ok, *n, "{endpoint}: successes = lines");
    }

    // the state agrees: one row per line, each with a 2xx and a timestamp
    let state = state_rows(&dir);
    assert_eq!(state.len() as u64, lines, "one state row per line");
    let mut per_endpoint: BTreeMap<&str, u64> = BTreeMap::new();
    for row in &state {
        assert!(
            (200..300).contains(&row.status),
            "{}: {}",
            row.endpoint,
            row.status
        );
        assert!(row.timestamp.is_some(), "{}: no timestamp", row.endpoint);
        *per_endpoint.entry(row.endpoint.as_str()).or_default() += 1;
    }
    for (endpoint, n) in &files {
        assert_eq!(
            per_endpoint.get(endpoint.as_str()).copied().unwrap_or(0),
            *n,
            "{endpoint}: state rows"
        );
    }

    // a plain rerun sends nothing
    assert_exit(&run(&dir, "send", &[]), 99);
    assert_eq!(sb.stats()["creates"], lines);
    let posts = sb.posts();
    eprintln!(
        "SOAK: {lines} records ({students} students, pool {pool}) in {secs:.1}s ({:.0}/s): {posts} POSTs, \
         {faults} faults injected, {dropped} connections dropped, {updates} retried POSTs that had \
         landed (updates), {tokens} tokens; creates = lines = state rows = results; rerun skipped all",
        lines as f64 / secs
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// kill -9 and resume

#[test]
fn kill_9_at_seeded_random_points_then_the_rerun_completes() {
    let trials = env_num("LB_CRASH_TRIALS", 3);
    let students = env_num("LB_CRASH_STUDENTS", 250) as usize;
    let seed = env_num("LB_CRASH_SEED", 7);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let data = tmp_dir("crash-data");
    let files = generate(&data, students, 17);
    let lines = total_lines(&files);
    let pool = 8u64;
    let mut worst = 0i64;
    for trial in 0..trials {
        let dir = tmp_dir(&format!("crash-{trial}"));
        // the same data in every trial
        std::fs::create_dir_all(dir.join("data")).unwrap();
        for (endpoint, _) in &files {
            let name = format!("{endpoint}.jsonl");
            std::fs::copy(data.join(&name), dir.join("data").join(&name)).unwrap();
        }
        let sb = Sandbox::start(Version::Ds50, &SLOW);
        write_config(&dir, &sb.base, &format!("  pool_size: {pool}\n"), "");
        // a point of the send, between 3% and 95% of the records, plus up to 200 ms
        let fraction = 0.03 + 0.92 * rng.next_f64();
        let extra_ms = (rng.next_f64() * 200.0) as u64;
        let at = KillAt {
            creates: (lines as f64 * fraction) as u64,
            then: Duration::from_millis(extra_ms),
            poll: Duration::from_millis(5),
            limit: Duration::from_secs(300),
            may_finish: true,
        };
        let killed = kill_9_send(&sb, &dir, at);
        let (landed, elapsed) = (killed.landed, killed.elapsed);
        // the state survives the kill and never claims a record the API does not have
        let claimed = sent_rows(&dir);
        assert!(
            claimed <= landed,
            "trial {trial}: the state claims {claimed} sent, the API has {landed}"
        );
        let expect = if landed == lines && claimed == lines {
            99
        } else {
            0
        };
        let what = format!("trial {trial}");
        let rerun_posts = rerun_after_kill(&sb, &dir, &files, &killed, expect, &what);
        let resent = rerun_posts as i64 - (lines - landed) as i64;
        let rate = landed as f64 / elapsed;
        let allowed = pool as f64 + 1.5 * rate + 50.0;
        worst = worst.max(resent);
        eprintln!(
            "CRASH trial {trial}: kill -9 at {:.0}% (+{extra_ms} ms) after {elapsed:.1}s: {landed} of {lines} \
             landed at {rate:.0}/s, state had {claimed}; the rerun sent {rerun_posts}, {resent} of them again \
             (allowed {allowed:.0}){}",
            fraction * 100.0,
            if killed.finished { " [the send had finished]" } else { "" }
        );
        assert!(
            (resent as f64) <= allowed,
            "trial {trial}: resent {resent} > in flight + about a second of work ({allowed:.0})"
        );
        let state = state_rows(&dir);
        assert_eq!(state.len() as u64, lines, "trial {trial}: state rows");
        assert!(state.iter().all(|r| (200..300).contains(&r.status)));
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("CRASH: {trials} kill -9 trials of {lines} records, at most {worst} records resent");
    let _ = std::fs::remove_dir_all(&data);
}

// ---------------------------------------------------------------------------------------------
// Bad input

const STUDENT: &str =
    r#"{"studentUniqueId":"S1","birthDate":"2010-01-01","firstName":"A","lastSurname":"B"}"#;

fn student(id: &str) -> String {
    STUDENT.replace("S1", id)
}

#[test]
fn bad_data_files_fail_alone_with_their_file_and_line() {
    let dir = tmp_dir("bad-data");
    let data = dir.join("data");
    std::fs::create_dir_all(data.join("students")).unwrap();
    let sb = Sandbox::start(Version::Ds50, &[]);
    write_config(&dir, &sb.base, "  pool_size: 4\n", "");
    // students.jsonl: a BOM, CRLF, blank lines, invalid JSON, a line that is not UTF-8, wrong
    // types, a JSON array, a 10 MB line
    let mut f: Vec<u8> = Vec::new();
    f.extend_from_slice(b"\xEF\xBB\xBF");
    f.extend_from_slice(student("bom").as_bytes()); // 1 (after the BOM)
    f.extend_from_slice(b"\r\n\r\n"); // 2 blank
    f.extend_from_slice(student("crlf").as_bytes()); // 3
    f.extend_from_slice(b"\r\n   \t \n"); // 4 whitespace only
    f.extend_from_slice(b"{\"studentUniqueId\": \"x\",\n"); // 5 invalid JSON
    f.extend_from_slice(b"{\"studentUniqueId\":\"\xff\xfe\"}\n"); // 6 not UTF-8
    f.extend_from_slice(
        br#"{"studentUniqueId":5,"birthDate":true,"firstName":["A"],"lastSurname":{"x":null}}"#,
    ); // 7 wrong types
    f.push(b'\n');
    f.extend_from_slice(b"[1,2,3]\n"); // 8 not an object
    let big = format!(
        r#"{{"studentUniqueId":"big","birthDate":"2010-01-01","firstName":"{}","lastSurname":"B"}}"#,
        "x".repeat(10 * 1024 * 1024)
    );
    f.extend_from_slice(big.as_bytes()); // 9: a 10 MB line
    f.push(b'\n');
    f.extend_from_slice(student("last").as_bytes()); // 10, no final line break
    std::fs::write(data.join("students.jsonl"), &f).unwrap();
    // a folder of files for the same endpoint, one empty and one CR-only
    std::fs::write(data.join("students/part-1.jsonl"), b"").unwrap();
    std::fs::write(
        data.join("students/part-2.ndjson"),
        format!("{}\r{}\r", student("cr1"), student("cr2")),
    )
    .unwrap();
    // an empty file, and a file for an endpoint the API does not have
    std::fs::write(data.join("schools.jsonl"), b"").unwrap();
    std::fs::write(data.join("notAnEndpoint.jsonl"), student("nope")).unwrap();

    let (o, r) = run_with_results(&dir, "send", "results.json", &[]);
    assert_no_panic(&o, "bad data");
    assert_eq!(o.status.code(), Some(0), "some lines landed: {}", text(&o));
    assert!(
        text(&o).contains("notAnEndpoint.jsonl") && text(&o).contains("not an endpoint"),
        "the unknown file is named: {}",
        text(&o)
    );
    let students = &r["resources"]["students"];
    // bom, crlf, last, cr1, cr2 land; 5, 6, 7, 8 fail; the 10 MB line lands or fails alone
    let failures = students["failures"].as_array().expect("failures");
    let mut failed_lines: BTreeMap<u64, (String, String)> = BTreeMap::new();
    for fl in failures {
        let file = fl["file"].as_str().unwrap().to_string();
        let what = format!(
            "{} {}",
            fl.get("status_code")
                .or_else(|| fl.get("method"))
                .map(Value::to_string)
                .unwrap_or_default(),
            fl["message"]
                .as_str()
                .unwrap()
                .chars()
                .take(160)
                .collect::<String>()
        );
        let message = fl["message"].as_str().unwrap();
        assert!(!message.trim().is_empty(), "{fl}");
        // an API that quotes a 10 MB value does not make a 10 MB message
        assert!(message.len() < 5000, "a message of {} bytes", message.len());
        for n in fl["line_numbers"].as_array().unwrap() {
            failed_lines.insert(n.as_u64().unwrap(), (file.clone(), what.clone()));
        }
    }
    for n in [5, 6, 7, 8] {
        let (file, what) = failed_lines
            .get(&n)
            .unwrap_or_else(|| panic!("line {n} is a failure: {students}"));
        assert!(file.ends_with("students.jsonl"), "line {n}: {file}");
        eprintln!("BAD DATA line {n}: {what}");
    }
    assert!(
        failed_lines[&6].1.contains("UTF-8"),
        "{:?}",
        failed_lines[&6]
    );
    for n in [1, 2, 3, 4, 10] {
        assert!(
            !failed_lines.contains_key(&n),
            "line {n}: {:?}",
            failed_lines.get(&n)
        );
    }
    for id in ["bom", "crlf", "last", "cr1", "cr2"] {
        let got = sb
            .get(
                &sb.token(),
                &format!("/ed-fi/students?studentUniqueId={id}"),
            )
            .json::<Value>()
            .expect("GET students");
        assert_eq!(got.as_array().map(Vec::len), Some(1), "student {id} landed");
    }
    let landed = sb.count("students") as usize;
    eprintln!(
        "BAD DATA: the 10 MB line {}",
        match failed_lines.get(&9) {
            Some((_, what)) => format!("failed alone: {what}"),
            None => "landed".to_string(),
        }
    );
    assert_eq!(
        landed + failed_lines.len(),
        10,
        "every non-blank line is a record or a failure: {students}"
    );
    // the empty schools file is an endpoint with nothing to do, not an error
    assert_eq!(r["resources"]["schools"]["records_processed"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tiny HTTP server that answers every request with `status` and an HTML page.
fn html_server(status: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let mut buf = [0u8; 65536];
                let mut got = Vec::new();
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let body = "<!DOCTYPE html>\n<html>\n<head><title>Sign in to Contoso</title></head>\n<body>\n<form>...</form>\n</body>\n</html>\n";
                let _ = write!(
                    s,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    format!("http://{addr}")
}

/// A port on which nothing listens.
fn closed_port() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Each `tests/corpus/config/*.yaml` declares what it expects in `# expect-exit: N` and
/// `# expect: text` comment lines (and `# args: command flags...`, default `send`); `{BASE}`,
/// `{DATA}`, `{STATE}`, `{HTML}`, `{HTML404}` and
/// `{DOWN}` are replaced by a sandbox's URL, a data dir, a state dir, HTML servers and a closed
/// port.
#[test]
fn bad_configs_credentials_and_apis_give_one_line_reasons() {
    let dir = tmp_dir("bad-config");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("students.jsonl"), student("s1")).unwrap();
    let sb = Sandbox::start(Version::Ds50, &[]);
    let html = html_server("200 OK");
    let html404 = html_server("404 Not Found");
    let down = closed_port();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus_dir().join("config"))
        .expect("tests/corpus/config")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let raw = std::fs::read(case).unwrap();
        let template = String::from_utf8_lossy(&raw).to_string();
        let mut exit = 255;
        let mut expects = Vec::new();
        let mut args: Vec<String> = Vec::new();
        for line in template.lines() {
            if let Some(e) = line.strip_prefix("# expect-exit:") {
                exit = e.trim().parse().unwrap();
            } else if let Some(e) = line.strip_prefix("# expect:") {
                expects.push(e.trim().to_string());
            } else if let Some(a) = line.strip_prefix("# args:") {
                args = a.split_whitespace().map(str::to_string).collect();
            }
        }
        assert!(!expects.is_empty(), "{name}: no `# expect:` line");
        let fill = |s: &str| {
            s.replace("{BASE}", &sb.base)
                .replace("{DATA}", &format!("{}/", data.display()))
                // a state of its own: no case skips what another sent
                .replace(
                    "{STATE}",
                    &dir.join(format!("state-{name}")).display().to_string(),
                )
                .replace("{HTML404}", &html404)
                .replace("{HTML}", &html)
                .replace("{DOWN}", &down)
        };
        // byte-exact (a case may hold a BOM, CRLF or bytes that are not UTF-8)
        let bytes = if std::str::from_utf8(&raw).is_ok() {
            fill(&template).into_bytes()
        } else {
            raw.clone()
        };
        let config = dir.join(&name);
        std::fs::write(&config, bytes).unwrap();
        let mut argv: Vec<String> = vec!["-c".into(), name.clone()];
        if args.is_empty() {
            argv.insert(0, "send".into());
        } else {
            argv.splice(0..0, args.iter().take(1).cloned());
            argv.extend(args.iter().skip(1).map(|a| fill(a)));
        }
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let o = lightbeam(&dir, &argv);
        assert_no_panic(&o, &name);
        assert_eq!(o.status.code(), Some(exit), "{name}: {}", text(&o));
        let reason = if exit == 255 {
            fatal_line(&o, &name)
        } else {
            text(&o)
        };
        for e in &expects {
            assert!(
                reason.contains(&fill(e)),
                "{name}: the reason should contain {e:?}:\n{reason}"
            );
        }
        eprintln!(
            "BAD CONFIG {name}: exit {exit}: {}",
            reason.split(" - CRITICAL - ").last().unwrap_or(&reason)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------------
// Secrets

fn find_in_tree(root: &Path, needles: &[String], hits: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            find_in_tree(&p, needles, hits);
        } else {
            find_in_tree_file(&p, needles, hits);
        }
    }
}

#[test]
fn neither_the_client_secret_nor_a_token_is_written_anywhere() {
    let dir = tmp_dir("secrets");
    let files = generate(&dir.join("data"), 15, 8);
    // a line that fails (400), so failure paths are logged too
    append_lines(
        &dir.join("data/students.jsonl"),
        &[r#"{"studentUniqueId":"no-name"}"#],
    );
    let secret = format!("Zq7-secret-{}-x9", std::process::id());
    let tokens_file = dir.join("tokens.txt");
    let sb = Sandbox::start(
        Version::Ds50,
        &[
            "--client",
            &format!("leakkey:{secret}"),
            "--token-ttl",
            "3",
            "--latency-ms",
            "2",
            "--log-tokens",
            tokens_file.to_str().unwrap(),
        ],
    );
    // the secret reaches lightbeam through the environment, as in production
    let config = format!(
        "state_dir: {state}\ndata_dir: {data}/\nedfi_api:\n  base_url: {base}\n  mode: shared_instance\n  client_id: leakkey\n  client_secret: ${{LB_LEAK_SECRET}}\nconnection:\n  pool_size: 4\n  verify_ssl: true\nlog_level: DEBUG\nshow_stacktrace: true\n",
        state = dir.join("state").display(),
        data = dir.join("data").display(),
        base = sb.base,
    );
    std::fs::write(dir.join("lightbeam.yaml"), &config).unwrap();
    std::fs::create_dir_all(dir.join("fetched")).unwrap();
    std::fs::write(
        dir.join("fetch.yaml"),
        config.replace(
            &format!("data_dir: {}/", dir.join("data").display()),
            &format!("data_dir: {}/", dir.join("fetched").display()),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("wrong.yaml"),
        config.replace("${LB_LEAK_SECRET}", &format!("{secret}-wrong")),
    )
    .unwrap();
    let runs: Vec<(&str, Vec<&str>)> = vec![
        (
            "send",
            vec![
                "send",
                "-c",
                "lightbeam.yaml",
                "--results-file",
                "out/send.json",
            ],
        ),
        (
            "send -f",
            vec![
                "send",
                "-c",
                "lightbeam.yaml",
                "-f",
                "--results-file",
                "out/send-f.json",
            ],
        ),
        (
            "validate",
            vec![
                "validate",
                "-c",
                "lightbeam.yaml",
                "--results-file",
                "out/validate.json",
            ],
        ),
        (
            "count",
            vec![
                "count",
                "-c",
                "lightbeam.yaml",
                "--results-file",
                "out/count.tsv",
            ],
        ),
        (
            "fetch",
            vec![
                "fetch",
                "-c",
                "fetch.yaml",
                "-s",
                "schools,students",
                "--results-file",
                "out/fetch.json",
            ],
        ),
        (
            "delete",
            vec![
                "delete",
                "-c",
                "lightbeam.yaml",
                "-s",
                "studentSchoolAssociations",
                "--yes",
                "--results-file",
                "out/delete.json",
            ],
        ),
        ("wrong secret", vec!["send", "-c", "wrong.yaml"]),
    ];
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let mut logs = String::new();
    let mut ran = Vec::new();
    for (name, args) in &runs {
        let o = Command::new(bin("lightbeam"))
            .args(args)
            .current_dir(&dir)
            .env("LB_LEAK_SECRET", &secret)
            .stdin(Stdio::null())
            .output()
            .expect("run lightbeam");
        assert_no_panic(&o, name);
        ran.push(format!("{name} (exit {})", o.status.code().unwrap_or(-1)));
        logs.push_str(&text(&o));
        if *name == "send" {
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
            assert!(
                text(&o).contains("DEBUG"),
                "DEBUG logs are on: {}",
                text(&o)
            );
        }
    }
    assert!(sb.stats()["creates"].as_u64().unwrap() >= total_lines(&files));
    let tokens: Vec<String> = std::fs::read_to_string(&tokens_file)
        .expect("the sandbox logged its tokens")
        .lines()
        .map(str::to_string)
        .filter(|t| !t.is_empty())
        .collect();
    assert!(
        tokens.len() >= 5,
        "tokens were issued to every run: {tokens:?}"
    );
    let mut needles = tokens.clone();
    needles.push(secret.clone());
    let mut hits = Vec::new();
    for n in &needles {
        if logs.contains(n.as_str()) {
            hits.push(format!("the logs hold {n:?}"));
        }
    }
    // results files, the state database and its cache, fetched files, anything else written
    find_in_tree(&dir.join("out"), &needles, &mut hits);
    find_in_tree(&dir.join("state"), &needles, &mut hits);
    find_in_tree(&dir.join("fetched"), &needles, &mut hits);
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_file() && !name.ends_with(".yaml") && name != "tokens.txt" {
            find_in_tree_file(&p, &needles, &mut hits);
        }
    }
    assert!(hits.is_empty(), "secrets leaked:\n{}", hits.join("\n"));
    let state_files = count_files(&dir.join("state"));
    eprintln!(
        "SECRETS: ran {}; {} tokens and the secret searched in {} bytes of logs and {} files \
         (results, state database, cache, fetched): none found",
        ran.join(", "),
        tokens.len(),
        logs.len(),
        state_files + count_files(&dir.join("out")) + count_files(&dir.join("fetched"))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn find_in_tree_file(p: &Path, needles: &[String], hits: &mut Vec<String>) {
    if let Ok(bytes) = std::fs::read(p) {
        for n in needles {
            if bytes.windows(n.len()).any(|w| w == n.as_bytes()) {
                hits.push(format!("{} holds {n:?}", p.display()));
            }
        }
    }
}

fn count_files(root: &Path) -> usize {
    std::fs::read_dir(root)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count_files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_broken_state_dir_is_a_one_line_reason_not_a_panic() {
    let dir = tmp_dir("bad-state");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/students.jsonl"), student("s1")).unwrap();
    let sb = Sandbox::start(Version::Ds50, &[]);
    write_config(&dir, &sb.base, "  pool_size: 2\n", "");
    // state_dir is a file
    std::fs::write(dir.join("state"), b"not a directory").unwrap();
    let o = run(&dir, "send", &[]);
    assert_no_panic(&o, "state_dir is a file");
    assert_eq!(o.status.code(), Some(255), "{}", text(&o));
    let line = fatal_line(&o, "state_dir is a file");
    assert!(line.contains("state_dir"), "{line}");
    // the database is garbage, or cut short
    std::fs::remove_file(dir.join("state")).unwrap();
    std::fs::create_dir_all(dir.join("state")).unwrap();
    for (what, bytes) in [
        (
            "garbage",
            (0..8192u32)
                .map(|i| (i * 7919 % 251) as u8)
                .collect::<Vec<u8>>(),
        ),
        ("cut short", {
            let mut b = b"SQLite format 3\0".to_vec();
            b.resize(5000, 0);
            b
        }),
    ] {
        std::fs::write(dir.join("state/lightbeam.sqlite"), &bytes).unwrap();
        let o = run(&dir, "send", &[]);
        assert_no_panic(&o, what);
        assert_eq!(o.status.code(), Some(255), "{what}: {}", text(&o));
        let line = fatal_line(&o, what);
        assert!(
            line.contains("lightbeam.sqlite") && line.contains("move it away"),
            "{what}: {line}"
        );
        eprintln!(
            "BAD STATE ({what}): {}",
            line.split(" - CRITICAL - ").last().unwrap()
        );
    }
    assert_eq!(
        sb.stats()["creates"],
        0,
        "nothing sent without a usable state"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
