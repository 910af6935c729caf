//! The browser adapters in headless Chromium (wasm-bindgen-test-runner + chromedriver):
//! IndexedDB state and cache, reading `File`s in chunks, the fetch transport (against a running
//! edfi-sandbox when `LIGHTBEAM_TEST_API` was set at build time, else against the test server).
#![cfg(target_arch = "wasm32")]

use lightbeam_core::data::lines::LineSplitter;
use lightbeam_core::ports::{
    Cache, ChunkReader, Clock, Confirm, ConfirmRequest, DataFile, DataSource, Digest, Http,
    HttpRequest, PayloadState, StateStore, TransportError,
};
use lightbeam_web::browser::clock::BrowserClock;
use lightbeam_web::browser::confirm::DialogConfirm;
use lightbeam_web::browser::files::{read_line, BlobReader, FileSource, LineViewError};
use lightbeam_web::browser::http::FetchHttp;
use lightbeam_web::browser::store::{database_name, Db, IdbCache, IdbState};
use std::time::Duration;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn unique(name: &str) -> String {
    format!("http://test.invalid/{name}/{}", js_sys::Math::random())
}

/// The digest a test payload `i` is recorded under.
fn digest(i: u32) -> Digest {
    Digest::from_hex(&format!("{i:032x}")).unwrap()
}

fn file(name: &str, text: &str) -> web_sys::File {
    let parts = js_sys::Array::new();
    parts.push(&JsValue::from_str(text));
    web_sys::File::new_with_str_sequence(&parts, name).unwrap()
}

#[wasm_bindgen_test]
async fn state_round_trip_survives_reopening() {
    let api = unique("state");
    {
        let db = Db::open(&api).await.unwrap();
        let state = IdbState::new(db);
        for i in 0..1000u32 {
            state
                .record(
                    "students",
                    digest(i),
                    PayloadState {
                        timestamp: 1_700_000_000 + i64::from(i),
                        status: if i % 10 == 0 { 400 } else { 201 },
                    },
                )
                .unwrap();
        }
        state.remove("students", digest(5)).unwrap();
        state
            .record(
                "schools",
                Digest::of_line("ab"),
                PayloadState {
                    timestamp: 1,
                    status: 200,
                },
            )
            .unwrap();
        state.flush().await.unwrap();
    }
    let db = Db::open(&api).await.unwrap();
    let state = IdbState::new(db.clone());
    let students = state.load("students").await.unwrap();
    assert_eq!(students.len(), 999);
    assert_eq!(students[&digest(10)].status, 400);
    assert_eq!(students[&digest(11)].timestamp, 1_700_000_011);
    assert_eq!(state.load("schools").await.unwrap().len(), 1);
    let summary = db.summary().await.unwrap();
    assert!(summary.state.contains(&("students".to_string(), 999)));
    state.clear_endpoint("students").await.unwrap();
    assert!(state.load("students").await.unwrap().is_empty());
    assert_eq!(state.load("schools").await.unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn many_commits_are_compacted_on_load() {
    let api = unique("compact");
    let db = Db::open(&api).await.unwrap();
    let state = IdbState::new(db.clone());
    for i in 0..100u32 {
        state
            .record(
                "grades",
                digest(i),
                PayloadState {
                    timestamp: 5,
                    status: 201,
                },
            )
            .unwrap();
        state.flush().await.unwrap(); // one record per commit
    }
    assert_eq!(state.load("grades").await.unwrap().len(), 100);
    // compacted: the next load reads one record and still sees everything
    assert_eq!(IdbState::new(db).load("grades").await.unwrap().len(), 100);
}

#[wasm_bindgen_test]
async fn cache_keeps_documents_with_their_age() {
    let db = Db::open(&unique("cache")).await.unwrap();
    let cache = IdbCache::new(db.clone());
    assert!(cache.get("resources").await.is_none());
    cache.put("resources", b"{\"openapi\":\"3.0\"}").await;
    let (bytes, age) = cache.get("resources").await.unwrap();
    assert_eq!(bytes, b"{\"openapi\":\"3.0\"}");
    assert!(age < 5);
    cache.wipe().await;
    assert!(cache.get("resources").await.is_none());
    db.clear(true, true).await.unwrap();
}

#[wasm_bindgen_test]
async fn files_are_read_in_chunks_with_line_numbers() {
    // lines cut across chunk boundaries (7-byte chunks), CRLF, a blank line, a BOM
    let text = "\u{feff}{\"a\":1}\r\n\n{\"b\":22222}\n{\"c\":3}";
    let mut reader = BlobReader::new(file("x.jsonl", text).into(), 7.0);
    let mut splitter = LineSplitter::new();
    let mut lines = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        assert!(chunk.len() <= 7);
        chunks += 1;
        lines.extend(splitter.push(&chunk));
    }
    lines.extend(splitter.finish());
    assert!(chunks > 3);
    let got: Vec<(u64, String)> = lines
        .into_iter()
        .map(|l| (l.number, l.text.unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "{\"a\":1}".to_string()),
            (3, "{\"b\":22222}".to_string()),
            (4, "{\"c\":3}".to_string())
        ]
    );
    let f = file("students.jsonl", text);
    assert_eq!(read_line(&f, 3).await.unwrap(), "{\"b\":22222}");
    assert!(read_line(&f, 2).await.is_err());
    let source = FileSource::new([("students.jsonl".to_string(), f)]);
    let df = DataFile {
        endpoint: "students".into(),
        path: "students.jsonl".into(),
        name: "students.jsonl".into(),
    };
    let mut r = source.read(&df).await.ok().unwrap();
    assert!(r.next_chunk().await.unwrap().is_some());
    let missing = DataFile {
        endpoint: "x".into(),
        path: "nope.jsonl".into(),
        name: "nope.jsonl".into(),
    };
    assert!(source.read(&missing).await.is_err());
    // the dropped files as the engine sees them
    assert_eq!(source.list().await.unwrap(), vec!["students.jsonl"]);
    assert_eq!(source.display_name("students.jsonl"), "students.jsonl");
    assert_eq!(source.describe(), "your dropped files");
    assert_eq!(source.line("students.jsonl", 4).await.unwrap(), "{\"c\":3}");
    assert!(matches!(
        source.line("nope.jsonl", 1).await,
        Err(LineViewError::NotDropped(_))
    ));
}

#[wasm_bindgen_test]
async fn state_written_by_hash_before_digests_still_loads() {
    // records as earlier versions of the page wrote them: `hash status timestamp` lines
    let api = unique("legacy");
    let db = Db::open(&api).await.unwrap();
    let d = Digest::of_line("{\"a\": 1}");
    let raw = rexie::Rexie::builder(&database_name(&api))
        .version(1)
        .add_object_store(rexie::ObjectStore::new("state"))
        .add_object_store(rexie::ObjectStore::new("cache"))
        .build()
        .await
        .unwrap();
    let tx = raw
        .transaction(&["state"], rexie::TransactionMode::ReadWrite)
        .unwrap();
    let log = format!("{} 201 17\nnot-a-hash 201 1\n", d.to_hex());
    tx.store("state")
        .unwrap()
        .put(
            &JsValue::from_str(&log),
            Some(&JsValue::from_str("students#0000000000000001")),
        )
        .await
        .unwrap();
    tx.done().await.unwrap();
    raw.close();
    let students = IdbState::new(db).load("students").await.unwrap();
    assert_eq!(students.len(), 1);
    assert_eq!(
        students[&d],
        PayloadState {
            timestamp: 17,
            status: 201
        }
    );
}

#[wasm_bindgen_test]
async fn the_clock_knows_the_browser_time_zone() {
    let minutes_west = js_sys::Date::new_0().get_timezone_offset() as i32;
    assert_eq!(BrowserClock.utc_offset_seconds(), -minutes_west * 60);
}

#[wasm_bindgen_test]
async fn the_dialog_answers_with_what_was_typed() {
    let request = ConfirmRequest {
        endpoints: vec!["grades".into(), "students".into()],
        truncate: false,
    };
    let shown = std::cell::RefCell::new(Vec::new());
    let typed = DialogConfirm::new(|r: &ConfirmRequest, reply| {
        shown.borrow_mut().push(r.endpoints.clone());
        let _ = reply.send("yes".to_string());
    });
    assert_eq!(typed.ask(&request).await.as_deref(), Some("yes"));
    assert_eq!(shown.borrow().as_slice(), [vec!["grades", "students"]]);
    // a dialog that goes away without an answer is no "yes"
    let closed = DialogConfirm::new(|_: &ConfirmRequest, reply| drop(reply));
    assert_eq!(closed.ask(&request).await.as_deref(), Some(""));
}

/// The API the fetch tests talk to: a sandbox (set at build time), or nothing reachable.
fn api() -> Option<&'static str> {
    option_env!("LIGHTBEAM_TEST_API").filter(|s| !s.is_empty())
}

#[wasm_bindgen_test]
async fn fetch_gets_status_headers_and_body_cross_origin() {
    let Some(api) = api() else {
        return;
    };
    let http = FetchHttp;
    let resp = http
        .send(HttpRequest::get(
            format!("{api}/metadata/data/v3/dependencies"),
            Duration::from_secs(10),
        ))
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("\"resource\""));
    // a POST without a token: 401 is an answer, not a transport error
    let resp = http
        .send(HttpRequest {
            method: lightbeam_core::ports::Method::Post,
            url: format!("{api}/data/v3/ed-fi/students"),
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(b"{}".to_vec()),
            timeout: Duration::from_secs(10),
        })
        .await
        .unwrap();
    assert_eq!(resp.status, 401);
}

#[wasm_bindgen_test]
async fn fetch_times_out_the_whole_request() {
    let Some(api) = api() else {
        return;
    };
    // the sandbox for these tests runs with --latency-ms 300
    let r = FetchHttp
        .send(HttpRequest::get(
            format!("{api}/data/v3/ed-fi/students"),
            Duration::from_millis(50),
        ))
        .await;
    assert_eq!(r.unwrap_err(), TransportError::Timeout);
}

#[wasm_bindgen_test]
async fn fetch_reports_an_unreachable_server() {
    let r = FetchHttp
        .send(HttpRequest::get(
            "http://127.0.0.1:9/nothing",
            Duration::from_secs(5),
        ))
        .await;
    match r {
        Err(TransportError::Connect(m)) => assert!(m.contains("127.0.0.1:9"), "{m}"),
        other => panic!("expected a connection error, got {other:?}"),
    }
}
