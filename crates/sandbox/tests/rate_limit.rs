//! `--rate-limit N` over real HTTP: one token bucket for the data requests of every client,
//! method and year, whose 429s say when to retry, while OAuth, discovery, metadata and the
//! statistics are not limited.
//!
//! Timing on a busy machine: the client paces itself (never catching up in a burst) and the
//! assertions are counts with wide bounds, or bounds the limiter keeps however slow the machine
//! (it never admits more than N a second beyond what its bucket held).

use lightbeam_testkit::{Sandbox, Version};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The status of the cheapest data request: a GET of no students.
fn probe(sb: &Sandbox, token: &str) -> u16 {
    sb.get(token, "/ed-fi/students?limit=0").status().as_u16()
}

/// Data requests one after another, at most `rate` a second, for `seconds`: (sent, 429s).
fn paced(sb: &Sandbox, token: &str, rate: f64, seconds: f64) -> (u64, u64) {
    let gap = Duration::from_secs_f64(1.0 / rate);
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut sent, mut rejected) = (0, 0);
    while Instant::now() < end {
        let next = Instant::now() + gap;
        match probe(sb, token) {
            200 => {}
            429 => rejected += 1,
            other => panic!("a data request answered {other}"),
        }
        sent += 1;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    (sent, rejected)
}

/// Data requests back to back until one is refused; returns when that one was sent.
fn drain(sb: &Sandbox, token: &str) -> Instant {
    for _ in 0..10_000 {
        let sent = Instant::now();
        if probe(sb, token) == 429 {
            return sent;
        }
    }
    panic!("10000 data requests and no 429");
}

/// The `Retry-After` of a 429, in seconds.
fn retry_after(r: &reqwest::blocking::Response) -> u64 {
    assert_eq!(r.status(), 429);
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds")
}

#[test]
fn one_bucket_admits_the_rate_and_refuses_the_excess() {
    const N: f64 = 10.0;
    let sb = Sandbox::start(Version::Ds50, &["--rate-limit", "10"]);
    let token = sb.token();
    // at the limit (with a full bucket to start): no 429, one at most on a stalled machine
    let (sent, at_limit) = paced(&sb, &token, N, 3.0);
    assert!(at_limit <= 1, "{at_limit} of {sent} refused at N a second");
    // at twice the limit once the bucket is empty: about half refused, and never more than N
    // a second admitted
    let drained = drain(&sb, &token);
    let (sent, refused) = paced(&sb, &token, 2.0 * N, 5.0);
    let elapsed = drained.elapsed().as_secs_f64();
    let admitted = (sent - refused) as f64;
    assert!(
        admitted <= N * elapsed + 2.0,
        "{admitted} admitted in {elapsed:.2} s"
    );
    let share = refused as f64 / sent as f64;
    assert!(
        (0.25..=0.7).contains(&share),
        "{refused} of {sent} refused at 2N a second ({:.1} sent a second)",
        sent as f64 / elapsed
    );
    // counted apart from injected faults, and as the 429s of their method
    let stats = sb.stats();
    let limited = at_limit + 1 + refused;
    assert_eq!(stats["rate_limited"], limited, "{stats}");
    assert_eq!(stats["requests"]["GET"]["429"], limited);
    assert_eq!(stats["faults_injected_total"], 0);
}

#[test]
fn every_data_request_shares_the_bucket_and_nothing_else_is_limited() {
    // one token per 100 s: after the first data request, every other one is refused
    let sb = Sandbox::start(
        Version::Ds50,
        &[
            "--rate-limit",
            "0.01",
            "--client",
            "k1:s1",
            "--client",
            "k2:s2",
        ],
    );
    let (t1, t2) = (sb.token_for("k1", "s1"), sb.token_for("k2", "s2"));
    assert_eq!(probe(&sb, &t1), 200);
    // another client, method and year, an instance and year, an unknown id, no token at all
    let student = json!({"studentUniqueId": "1", "birthDate": "2009-05-01", "firstName": "Ada", "lastSurname": "Lovelace"});
    let refused = [
        sb.post(&t2, "/2024/ed-fi/students", &student),
        sb.get(&t1, "/255901/2024/ed-fi/schools"),
        sb.delete(&t2, "/ed-fi/students/0123456789abcdef0123456789abcdef"),
        sb.http.get(sb.data("/ed-fi/students")).send().unwrap(),
    ];
    for r in refused {
        let secs = retry_after(&r);
        assert!((90..=100).contains(&secs), "Retry-After {secs}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert_eq!(r.headers()["access-control-allow-origin"], "*");
        let body: Value = r.json().unwrap();
        assert_eq!(body["type"], "urn:ed-fi:api:too-many-requests");
        assert_eq!(body["title"], "Too Many Requests");
        assert_eq!(body["status"], 429);
        assert_eq!(
            body["detail"],
            "The number of allowed requests has been exceeded. Retry the request later."
        );
    }
    // OAuth, discovery, metadata, documents and statistics answer as ever
    sb.token_for("k1", "s1");
    for path in [
        "/",
        "/metadata/",
        "/metadata/data/v3/dependencies",
        "/metadata/data/v3/resources/swagger.json",
        "/_sandbox/stats",
    ] {
        let r = sb.http.get(sb.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let stats = sb.stats();
    assert_eq!(stats["rate_limited"], 4, "{stats}");
    assert_eq!(stats["requests"]["POST"]["429"], 1);
    assert_eq!(stats["requests"]["GET"], json!({"200": 1, "429": 2}));
    assert_eq!(stats["requests"]["DELETE"]["429"], 1);
    assert_eq!(stats["faults_injected"], json!({}));
    assert_eq!(stats["tokens_issued"], 3);
}

#[test]
fn retry_after_is_when_a_token_is_free() {
    // one token every 2 s
    let sb = Sandbox::start(Version::Ds50, &["--rate-limit", "0.5"]);
    let token = sb.token();
    drain(&sb, &token);
    let r = sb.get(&token, "/ed-fi/students");
    let secs = retry_after(&r);
    assert!((1..=2).contains(&secs), "Retry-After {secs}");
    std::thread::sleep(Duration::from_secs(secs));
    assert_eq!(probe(&sb, &token), 200, "after Retry-After");
}

#[test]
fn older_style_rate_limit_body() {
    let sb = Sandbox::start(
        Version::Ds50,
        &["--rate-limit", "0.01", "--error-style", "7.1"],
    );
    let token = sb.token();
    drain(&sb, &token);
    let r = sb.get(&token, "/ed-fi/students");
    let secs = retry_after(&r);
    assert_eq!(
        r.headers()["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(
        r.json::<Value>().unwrap(),
        json!({"message": format!("Rate limit is exceeded. Try again in {secs} seconds.")})
    );
}
