use super::*;
use lightbeam_core::config::{Config, LoadOptions};
use lightbeam_core::ports::MemoryOutput;
use lightbeam_core::results::{FailureKind, FailureMethod, RunResults};
use lightbeam_core::run::count::{CountError, CountRow};
use lightbeam_core::run::scheduler::SkipGroup;
use lightbeam_core::run::{self, Job, Ports, RunError};
use lightbeam_core::testing::{block_on, Answer, FakeApi, FakeClock, MemFiles, Recorder};

/// A run of `command` against the fake API over `files`.
fn run_against_fake_api(command: Command, api: &FakeApi, files: MemFiles) -> RunOutcome {
    let config = Config::from_yaml(&FakeApi::config_yaml(2), &LoadOptions::default()).unwrap();
    let job = Job {
        command,
        threads: 1,
        ..Job::default()
    };
    let ports = Ports {
        http: api,
        clock: &FakeClock::default(),
        events: &Recorder::default(),
        data: &files,
        state: None,
        cache: None,
        output: &MemoryOutput::new(),
        confirm: &Answer::new(None),
    };
    block_on(run::run(&config, &job, &ports))
}

/// Results of a run that took `runtime_sec`.
fn taking(runtime_sec: f64) -> RunResults {
    RunResults {
        runtime_sec,
        ..RunResults::default()
    }
}

/// An outcome made by hand.
fn outcome(command: Command, results: RunResults) -> RunOutcome {
    RunOutcome {
        command,
        results,
        counts: Vec::new(),
        skips: Vec::new(),
        error: None,
    }
}

#[test]
fn a_send_with_failures_names_statuses_and_groups_failures_by_file_and_lines() {
    let api = FakeApi::default();
    api.script
        .borrow_mut()
        .push(("bad".into(), vec![(400, None), (400, None)]));
    let files = MemFiles::new().with(
        "students.jsonl",
        "{\"id\":\"1\"}\n{\"id\":\"bad 2\"}\n\n{\"id\":\"3\"}\n{\"id\":\"bad 4\"}\n",
    );
    let view = ResultsView::of(
        &run_against_fake_api(Command::Send, &api, files),
        Vec::new(),
    );
    assert_eq!(view.error, None);
    assert!(
        view.summary
            .starts_with("4 payloads: 2 done, 0 skipped, 2 failed in "),
        "{}",
        view.summary
    );
    assert_eq!(view.endpoints.len(), 1);
    let students = &view.endpoints[0];
    assert_eq!(students.endpoint, "students");
    assert_eq!(
        (students.processed, students.skipped, students.failed),
        (4, 0, 2)
    );
    assert_eq!(students.statuses_text(), "201: 2, 400 (failed)");
    assert_eq!(students.failures_heading(), "students: 2 failed");
    assert_eq!(students.failures.len(), 1);
    let f = &students.failures[0];
    assert_eq!(
        (f.kind.as_str(), f.file.as_str()),
        ("400", "students.jsonl")
    );
    assert_eq!((f.lines.clone(), f.count), (vec![2, 5], 2));
    assert_eq!(f.more_lines(), None);
    assert!(view.shows_endpoints());
    assert!(view.json.contains("\"command\": \"send\""), "{}", view.json);
    assert_eq!(view.counts, None);
}

#[test]
fn what_stops_a_run_is_worded_by_the_engine() {
    let view = ResultsView::of(
        &run_against_fake_api(Command::Send, &FakeApi::default(), MemFiles::new()),
        Vec::new(),
    );
    assert_eq!(
        view.error.as_deref(),
        Some("the test files has no *.jsonl files for selected endpoints")
    );
    let mut not_sent = outcome(Command::ValidateSend, RunResults::default());
    not_sent.error = Some(RunError::NotSent {
        failed: 2,
        processed: 4,
    });
    let error = ResultsView::of(&not_sent, Vec::new()).error.unwrap();
    assert!(
        error.starts_with("validation failed for 2 of 4 payloads; nothing was sent"),
        "{error}"
    );
}

#[test]
fn summaries_say_when_everything_was_skipped_or_failed() {
    let mut results = taking(2.0);
    for _ in 0..3 {
        results.resource_mut("students").record_skip();
    }
    let view = ResultsView::of(&outcome(Command::Send, results.clone()), Vec::new());
    assert_eq!(
        view.summary,
        "3 payloads: 0 done, 3 skipped, 0 failed in 2.0s (0/s) — all payloads skipped (already sent)"
    );
    let mut failed = RunResults::default();
    failed.resource_mut("students").record_failure(
        FailureKind::Status(409),
        &["conflict".into()],
        "students.jsonl",
        1,
    );
    let view = ResultsView::of(&outcome(Command::Delete, failed), Vec::new());
    assert!(
        view.summary.ends_with(" — all payloads failed"),
        "{}",
        view.summary
    );
}

#[test]
fn long_failure_groups_show_their_first_lines() {
    let mut results = RunResults::default();
    for line in 1..=30 {
        results.resource_mut("grades").record_failure(
            FailureMethod::Read.into(),
            &["not UTF-8".into()],
            "grades.jsonl",
            line,
        );
    }
    let view = ResultsView::of(&outcome(Command::Validate, results), Vec::new());
    let grades = &view.endpoints[0];
    assert_eq!(grades.statuses_text(), "read (failed)");
    let f = &grades.failures[0];
    assert_eq!(f.shown_lines(), (1..=25).collect::<Vec<u64>>().as_slice());
    assert_eq!(f.more_lines().as_deref(), Some("… and 5 more"));
}

#[test]
fn counts_leave_out_empty_endpoints_and_say_why_one_was_not_counted() {
    let results = taking(1.5);
    let mut counted = outcome(Command::Count, results);
    counted.counts = vec![
        CountRow {
            endpoint: "schools".into(),
            records: Ok(1234),
        },
        CountRow {
            endpoint: "staffs".into(),
            records: Ok(0),
        },
        CountRow {
            endpoint: "grades".into(),
            records: Err(CountError::NoTotalCount),
        },
    ];
    let view = ResultsView::of(&counted, Vec::new());
    assert_eq!(view.summary, "counted 3 endpoints in 1.5s");
    assert_eq!(
        view.counts,
        Some(vec![
            ("schools".to_string(), "1,234".to_string()),
            (
                "grades".to_string(),
                "error: no Total-Count header".to_string()
            ),
        ])
    );
    assert!(!view.shows_endpoints());
}

#[test]
fn fetched_files_and_delete_skips() {
    let output = MemoryOutput::new();
    output.put("students.jsonl", b"{}\n{}\n");
    let mut results = taking(0.5);
    for _ in 0..2 {
        results.resource_mut("students").record_success(200);
    }
    let files = fetched_files(&output);
    assert_eq!(files, vec![("students.jsonl".to_string(), 6)]);
    let view = ResultsView::of(&outcome(Command::Fetch, results), files);
    assert_eq!(view.summary, "fetched 2 records into 1 files in 0.5s");
    assert_eq!(view.fetched.len(), 1);

    let mut deleted = outcome(Command::Delete, RunResults::default());
    deleted.skips = vec![SkipGroup {
        endpoint: "grades".into(),
        reason: "not found in the API".into(),
        file: "grades.jsonl".into(),
        line_numbers: (1..=12).collect(),
    }];
    let view = ResultsView::of(&deleted, Vec::new());
    assert_eq!(
        view.skips,
        vec!["grades: ×12 not found in the API [grades.jsonl line 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    );
}
