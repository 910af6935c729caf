//! The Python wheel as an Airflow deployment uses it: installed by pip into a fresh virtual
//! environment, then run by bash exactly as edu_edfi_airflow's `LightbeamOperator` runs it
//! (`{lightbeam_path} {command} --config-file '...' --selector '...' --params '{...}'
//! --results-file '...'`, the connection in `EDFI_API_*` and the folders in `DATA_DIR` and
//! `STATE_DIR`), `send` then `count` against a sandbox.
//!
//! The wheel is `LIGHTBEAM_WHEEL` (scripts/test.sh passes the one scripts/release.sh built), or
//! one built here with `scripts/build-wheel.sh --host`.

use lightbeam_e2e::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn wheel() -> PathBuf {
    if let Some(w) = std::env::var_os("LIGHTBEAM_WHEEL") {
        return PathBuf::from(w);
    }
    let root = workspace_root();
    let o = Command::new("bash")
        .arg(root.join("scripts/build-wheel.sh"))
        .args(["--host", "target/wheels-test"])
        .current_dir(&root)
        .output()
        .expect("run scripts/build-wheel.sh");
    assert!(o.status.success(), "build-wheel.sh: {}", text(&o));
    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
}

fn sh(script: &str, env: &[(&str, String)], dir: &Path) -> Output {
    Command::new("bash")
        .args(["-c", script])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(dir)
        .output()
        .expect("run bash")
}

#[test]
fn the_wheel_installs_with_pip_and_runs_as_the_airflow_operator_runs_it() {
    let wheel = wheel();
    let dir = tmp_dir("install");
    let venv = dir.join("venv");
    let o = sh(
        &format!(
            "python3 -m venv '{v}' && '{v}/bin/pip' install --quiet --no-index --disable-pip-version-check '{w}'",
            v = venv.display(),
            w = wheel.display()
        ),
        &[],
        &dir,
    );
    assert!(o.status.success(), "pip install: {}", text(&o));
    let exe = venv.join("bin/lightbeam");
    let o = sh(&format!("'{}' -v", exe.display()), &[], &dir);
    assert!(
        text(&o).starts_with(&format!(
            "lightbeam, version {} (lightbeam-rs, commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        text(&o)
    );

    let data = dir.join("data");
    let files = generate(&data, 10, 1);
    let sb = Sandbox::start(Version::Ds50, &[]);
    // the operator's variables; ${EDFI_API_YEAR} routes to /data/v3/{year}/...
    let state = dir.join("state");
    let env = [
        ("DATA_DIR", format!("{}/", data.display())),
        ("STATE_DIR", state.display().to_string()),
        ("EDFI_API_BASE_URL", sb.base.clone()),
        ("EDFI_API_CLIENT_ID", "testkey".to_string()),
        ("EDFI_API_CLIENT_SECRET", "testsecret".to_string()),
        ("EDFI_API_YEAR", "2026".to_string()),
    ];
    let config = dir.join("lightbeam.yaml");
    std::fs::write(
        &config,
        "state_dir: ${STATE_DIR}\ndata_dir: ${DATA_DIR}\nnamespace: ${NAMESPACE}\n\
         edfi_api:\n  base_url: ${EDFI_API_BASE_URL}\n  mode: year_specific\n  year: ${EDFI_API_YEAR}\n\
         \x20 client_id: ${EDFI_API_CLIENT_ID}\n  client_secret: ${EDFI_API_CLIENT_SECRET}\n\
         connection:\n  pool_size: 4\n",
    )
    .unwrap();
    let selector = "localEducationAgencies,schools,students,studentSchoolAssociations";
    let expected: u64 = files
        .iter()
        .filter(|(e, _)| selector.split(',').any(|s| s == e))
        .map(|(_, n)| n)
        .sum();
    let command = |cmd: &str, results: &Path| {
        // what LightbeamOperator.execute builds: every value in single quotes, params as JSON
        format!(
            "{exe} {cmd} --config-file '{c}' --selector '{selector}' --params '{{\"NAMESPACE\": \"ed-fi\"}}' --results-file '{r}'",
            exe = exe.display(),
            c = config.display(),
            r = results.display()
        )
    };
    let sent = dir.join("results/send.json");
    let o = sh(&command("send", &sent), &env, &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let results: Value = serde_json::from_slice(&std::fs::read(&sent).unwrap()).unwrap();
    assert_eq!(results["total_records_processed"], expected, "{results}");
    assert_eq!(results["total_records_failed"], 0, "{results}");
    // the records are in the API, under the year
    let stats = sb.stats();
    assert_eq!(stats["creates"], expected, "{stats}");
    let r = sb.get(&sb.token(), "/2026/ed-fi/students?limit=0&totalCount=true");
    assert_eq!(r.status(), 200);
    let total = r.headers()["Total-Count"].to_str().unwrap().to_string();
    let students = files.iter().find(|(e, _)| e == "students").unwrap().1;
    assert_eq!(total, students.to_string(), "students under /data/v3/2026");
    assert!(state.join("lightbeam.sqlite").exists());

    let counted = dir.join("results/count.json");
    let o = sh(&command("count", &counted), &env, &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(counted.exists(), "count writes its results file");
    let _ = std::fs::remove_dir_all(&dir);
}
