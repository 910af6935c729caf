//! The Python tool's hashlogs (`{state_dir}/{endpoint}.dat`, a pickle of
//! `{md5 digest: (timestamp, status)}`): which files are imported (each once, again when it
//! changes), merged so that the newer timestamp of a payload wins, and how they are read.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use lightbeam_core::ports::{PayloadState, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use serde_pickle::{DeOptions, Deserializer, HashableValue, Value};

use super::schema::{write_transaction, UPSERT_IF_NEWER};
use super::{SqliteState, StateOptions};

/// What became of one Python hashlog file (`{endpoint}.dat`) on import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashlogImport {
    pub file: PathBuf,
    pub endpoint: String,
    /// The number of payload outcomes read, or why the file could not be read (it is then
    /// tried again on the next open).
    pub result: Result<usize, String>,
}

/// Imports the Python tool's `{state_dir}/{endpoint}.dat` hashlogs into
/// `{state_dir}/lightbeam.sqlite` (creating it if needed). [`SqliteState::open`] does this
/// already; this form is for a one-off migration.
pub fn import_python_hashlog(state_dir: &Path) -> Result<Vec<HashlogImport>, StoreError> {
    let store = SqliteState::open_with(
        state_dir,
        StateOptions {
            background_commit: false,
            ..StateOptions::default()
        },
    )?;
    Ok(store.imported.clone())
}

/// A `.dat` file of `state_dir`, with the size and modification time that tell whether it
/// changed since it was imported.
struct Hashlog {
    path: PathBuf,
    /// The file's name, the key of `imported_hashlog`.
    file_name: String,
    endpoint: String,
    size: i64,
    mtime_ns: i64,
}

/// Imports every hashlog of `state_dir` (in file name order) not imported yet, or changed since;
/// an unreadable one is reported, and not marked imported, so the next open tries it again.
pub(super) fn import_hashlogs(
    conn: &mut Connection,
    db_path: &Path,
    state_dir: &Path,
) -> Result<Vec<HashlogImport>, StoreError> {
    let err =
        |what: &str, e: rusqlite::Error| StoreError(format!("{}: {what}: {e}", db_path.display()));
    let mut report = Vec::new();
    for hashlog in hashlogs(state_dir)? {
        let seen: Option<(i64, i64)> = conn
            .query_row(
                "SELECT size, mtime_ns FROM imported_hashlog WHERE file = ?1",
                [&hashlog.file_name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| err("cannot read imported hashlogs", e))?;
        if seen == Some((hashlog.size, hashlog.mtime_ns)) {
            continue;
        }
        let parsed = fs::read(&hashlog.path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| parse_hashlog(&bytes));
        let result = match parsed {
            Err(e) => Err(e),
            Ok(entries) => {
                merge(conn, &hashlog, &entries).map_err(|e| {
                    err(
                        &format!("cannot import hashlog {}", hashlog.path.display()),
                        e,
                    )
                })?;
                Ok(entries.len())
            }
        };
        report.push(HashlogImport {
            file: hashlog.path,
            endpoint: hashlog.endpoint,
            result,
        });
    }
    Ok(report)
}

/// The `{endpoint}.dat` files of `state_dir`, sorted by name.
fn hashlogs(state_dir: &Path) -> Result<Vec<Hashlog>, StoreError> {
    let entries = fs::read_dir(state_dir).map_err(|e| {
        StoreError(format!(
            "cannot read state_dir {}: {e}",
            state_dir.display()
        ))
    })?;
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("dat") {
            continue;
        }
        let (Some(endpoint), Ok(meta)) = (
            path.file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string),
            fs::metadata(&path),
        ) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        found.push(Hashlog {
            file_name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path,
            endpoint,
            size: meta.len() as i64,
            mtime_ns,
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

/// Merges the outcomes of one hashlog (the newer timestamp of a payload wins) and marks the
/// file imported, in one transaction.
fn merge(
    conn: &mut Connection,
    hashlog: &Hashlog,
    entries: &[(String, PayloadState)],
) -> rusqlite::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    write_transaction(conn, |tx| {
        let mut upsert = tx.prepare_cached(UPSERT_IF_NEWER)?;
        for (hash, state) in entries {
            upsert.execute(params![
                hashlog.endpoint,
                hash,
                state.timestamp,
                state.status
            ])?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO imported_hashlog \
             (file, size, mtime_ns, entries, imported_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                hashlog.file_name,
                hashlog.size,
                hashlog.mtime_ns,
                entries.len() as i64,
                now
            ],
        )?;
        Ok(())
    })
}

/// Reads a Python hashlog: what the tool's `hashlog.save` writes, `pickle.dump` of
/// `{md5 digest bytes: (round(time.time()), status)}` in the Python's default protocol (3 before
/// Python 3.8, 4, 5 from 3.14); serde-pickle reads protocols 0 to 5. Keys become lowercase hex
/// (a key already a string is kept, lowercased); a float timestamp is rounded; entries of any
/// other shape are skipped. Bytes after the pickle are ignored, as Python's `pickle.load` does.
fn parse_hashlog(bytes: &[u8]) -> Result<Vec<(String, PayloadState)>, String> {
    let value = Deserializer::new(bytes, DeOptions::new())
        .deserialize_value()
        .map_err(|e| format!("not a readable pickle: {e}"))?;
    let Value::Dict(items) = value else {
        return Err("not a pickled dict".into());
    };
    Ok(items
        .into_iter()
        .filter_map(|(key, value)| entry(key, value))
        .collect())
}

/// One `digest: (timestamp, status)` item of a hashlog, if it has that shape.
fn entry(key: HashableValue, value: Value) -> Option<(String, PayloadState)> {
    let hash = match key {
        HashableValue::Bytes(b) => hex::encode(b),
        HashableValue::String(s) => s.to_ascii_lowercase(),
        _ => return None,
    };
    let Value::Tuple(fields) = value else {
        return None;
    };
    let (Some(ts), Some(Value::I64(status))) = (fields.first(), fields.get(1)) else {
        return None;
    };
    let timestamp = match *ts {
        Value::I64(t) => t,
        Value::F64(t) if t.is_finite() => t.round() as i64,
        _ => return None,
    };
    let status = u16::try_from(*status).ok()?;
    Some((hash, PayloadState { timestamp, status }))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{hex, lightbeam_hash, ps, quiet};
    use super::*;
    use futures::executor::block_on;
    use lightbeam_core::ports::{DigestMap, StateStore};
    use std::collections::HashMap;
    use std::process::Command;
    use std::time::Duration;

    /// Written by Python 3.11 (`pickle.dump`, protocol 4) the way `hashlog.save` does:
    /// `{md5(b'{"a": 1}'): (1700000000, 201), md5(b'x'): (1700000001, 409)}`.
    const PY_HASHLOG: &[u8] = b"\x80\x04\x95>\x00\x00\x00\x00\x00\x00\x00}\x94(C\x10B\xb7\xb4\xf2\x92\x17\x88\xea\x14\xda\xc5Vno\x06\xd0\x94J\x00\xf1SeK\xc9\x86\x94C\x10\x9d\xd4\xe4a&\x8c\x804\xf5\xc8VN\x15\x5cg\xa6\x94J\x01\xf1SeM\x99\x01\x86\x94u.";

    /// The same, written by the Python tool's `hashlog.save` in protocol 3 (the default of Python
    /// 3.0 to 3.7: memo by BINPUT, no frames).
    const PY_HASHLOG_P3: &[u8] = b"\x80\x03}q\x00(C\x10B\xb7\xb4\xf2\x92\x17\x88\xea\x14\xda\xc5Vno\x06\xd0q\x01J\x00\xf1SeK\xc9\x86q\x02C\x10\x9d\xd4\xe4a&\x8c\x804\xf5\xc8VN\x15\\g\xa6q\x03J\x01\xf1SeM\x99\x01\x86q\x04u.";

    /// The same in protocol 2, which has no bytes type: each digest is
    /// `_codecs.encode(latin-1 text, 'latin1')`, the global memoized and fetched again (BINGET).
    const PY_HASHLOG_P2: &[u8] = b"\x80\x02}q\x00(c_codecs\x0aencode\x0aq\x01X\x19\x00\x00\x00B\xc2\xb7\xc2\xb4\xc3\xb2\xc2\x92\x17\xc2\x88\xc3\xaa\x14\xc3\x9a\xc3\x85Vno\x06\xc3\x90q\x02X\x06\x00\x00\x00latin1q\x03\x86q\x04Rq\x05J\x00\xf1SeK\xc9\x86q\x06h\x01X\x18\x00\x00\x00\xc2\x9d\xc3\x94\xc3\xa4a&\xc2\x8c\xc2\x804\xc3\xb5\xc3\x88VN\x15\\g\xc2\xa6q\x07h\x03\x86q\x08Rq\x09J\x01\xf1SeM\x99\x01\x86q\x0au.";

    #[test]
    fn parses_a_python_hashlog() {
        let entries = parse_hashlog(PY_HASHLOG).unwrap();
        assert_eq!(
            entries,
            vec![
                (
                    "42b7b4f2921788ea14dac5566e6f06d0".to_string(),
                    ps(1_700_000_000, 201)
                ),
                (
                    "9dd4e461268c8034f5c8564e155c67a6".to_string(),
                    ps(1_700_000_001, 409)
                ),
            ]
        );
        assert!(parse_hashlog(b"not a pickle").is_err());
        assert!(parse_hashlog(&PY_HASHLOG[..20]).is_err());
        assert_eq!(parse_hashlog(b"\x80\x04}\x94.").unwrap(), vec![]);
    }

    #[test]
    fn imports_python_hashlogs_once() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("students.dat"), PY_HASHLOG).unwrap();
        fs::write(dir.path().join("broken.dat"), b"garbage").unwrap();
        let store = SqliteState::open(dir.path()).unwrap();
        let imported = store.imported().to_vec();
        assert_eq!(imported.len(), 2);
        assert_eq!(imported[0].endpoint, "broken");
        assert!(imported[0].result.is_err());
        assert_eq!(imported[1].endpoint, "students");
        assert_eq!(imported[1].result, Ok(2));
        let loaded = block_on(store.load("students")).unwrap();
        assert_eq!(
            loaded[&hex("42b7b4f2921788ea14dac5566e6f06d0")],
            ps(1_700_000_000, 201)
        );
        // a newer outcome recorded by us survives a later re-import of the same (changed) file
        store
            .record(
                "students",
                hex("42b7b4f2921788ea14dac5566e6f06d0"),
                ps(1_800_000_000, 200),
            )
            .unwrap();
        drop(store);
        // unchanged: not imported again (the broken one is retried)
        let again = import_python_hashlog(dir.path()).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].endpoint, "broken");
        // changed (the Python tool ran again): merged, the newer timestamp wins
        let file = fs::File::options()
            .write(true)
            .open(dir.path().join("students.dat"))
            .unwrap();
        file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        drop(file);
        let store = SqliteState::open(dir.path()).unwrap();
        assert!(store
            .imported()
            .iter()
            .any(|i| i.endpoint == "students" && i.result == Ok(2)));
        let loaded = block_on(store.load("students")).unwrap();
        assert_eq!(
            loaded[&hex("42b7b4f2921788ea14dac5566e6f06d0")],
            ps(1_800_000_000, 200)
        );
        assert_eq!(
            loaded[&hex("9dd4e461268c8034f5c8564e155c67a6")],
            ps(1_700_000_001, 409)
        );
    }

    /// A larger hashlog (several SETITEMS batches and frames, a float timestamp, a post-2038
    /// timestamp) written by Python's own pickle, when a Python is at hand.
    #[test]
    fn parses_a_large_python_hashlog() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("students.dat");
        let script = r#"
import pickle, hashlib, sys
d = {hashlib.md5(str(i).encode()).digest(): (1700000000 + i, 201 if i % 7 else 409) for i in range(3000)}
d[hashlib.md5(b"float").digest()] = (1700000000.6, 200)
d[hashlib.md5(b"late").digest()] = (5000000000, 200)
with open(sys.argv[1], "wb") as f:
    pickle.dump(d, f)
"#;
        let python = ["/work/pyvenv/bin/python", "python3"]
            .into_iter()
            .find(|p| {
                std::process::Command::new(p)
                    .arg("-c")
                    .arg(script)
                    .arg(&file)
                    .status()
                    .is_ok_and(|s| s.success())
            });
        if python.is_none() {
            eprintln!("no python3: skipped");
            return;
        }
        let entries: HashMap<_, _> = parse_hashlog(&fs::read(&file).unwrap())
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(entries.len(), 3002);
        assert_eq!(entries[&lightbeam_hash(7).to_hex()], ps(1_700_000_007, 409));
        assert_eq!(
            entries[&lightbeam_hash(2999).to_hex()],
            ps(1_700_002_999, 201)
        );
        let md5 = |s: &str| {
            use md5::{Digest, Md5};
            hex::encode(Md5::digest(s.as_bytes()))
        };
        assert_eq!(entries[&md5("float")], ps(1_700_000_001, 200));
        assert_eq!(entries[&md5("late")], ps(5_000_000_000, 200));
    }

    #[test]
    fn parses_every_protocol_the_python_tool_may_write() {
        let want = parse_hashlog(PY_HASHLOG).unwrap();
        assert_eq!(want.len(), 2);
        // protocol 5 (Python 3.14's default) writes these data as protocol 4 does
        let mut p5 = PY_HASHLOG.to_vec();
        p5[1] = 5;
        for (protocol, bytes) in [(2, PY_HASHLOG_P2), (3, PY_HASHLOG_P3), (5, &p5[..])] {
            assert_eq!(parse_hashlog(bytes).unwrap(), want, "protocol {protocol}");
        }
        // Python's pickle.load ignores what follows the pickle; so does the import
        let mut trailing = PY_HASHLOG.to_vec();
        trailing.extend_from_slice(b"\x00trailing");
        assert_eq!(parse_hashlog(&trailing).unwrap(), want);
    }

    /// The Python of the Python lightbeam (next to `LIGHTBEAM_PY`, else in the workspace's
    /// `.venv`), if it can import the tool's `hashlog` module; with `LIGHTBEAM_PY` set it must.
    fn python_tool() -> Option<PathBuf> {
        let from_env = std::env::var_os("LIGHTBEAM_PY").map(PathBuf::from);
        let exe = from_env.clone().unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/lightbeam")
        });
        let python = exe.with_file_name("python");
        let found = Command::new(&python)
            .args(["-c", "import lightbeam.hashlog"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            found || from_env.is_none(),
            "LIGHTBEAM_PY is set, but {} cannot import lightbeam.hashlog",
            python.display()
        );
        found.then_some(python)
    }

    /// Writes `{out}/{protocol}/students.dat` with the tool's own `hashlog.save` (for `default`
    /// as the tool runs: pickle.dump's default protocol; else `protocol=` given to pickle.dump),
    /// `n` outcomes as `send` records them, and prints what the tool's `hashlog.load` reads back.
    const WRITE_WITH_THE_TOOL: &str = r#"
import pickle, sys, time, types
from lightbeam import hashlog
out, n = sys.argv[1], int(sys.argv[2])
now = round(time.time())
data = {hashlog.get_hash('{"studentUniqueId": "%d"}' % i): (now - i, (201, 200, 409, 400, 500)[i % 5])
        for i in range(n)}
real = hashlog.pickle
for protocol in ["default", "0", "1", "2", "3", "4", "5"]:
    if protocol != "default":
        dump = lambda o, f, p=int(protocol): real.dump(o, f, protocol=p)
        hashlog.pickle = types.SimpleNamespace(dump=dump)
    hashlog.save(f"{out}/{protocol}/students.dat", data)
    hashlog.pickle = real
for digest, (timestamp, status) in hashlog.load(f"{out}/default/students.dat").items():
    print(digest.hex(), timestamp, status)
"#;

    /// Hashlogs written by the Python lightbeam itself (2,500 outcomes: several SETITEMS batches
    /// and frames), in its default protocol and in every other, import whole.
    #[test]
    fn imports_what_the_python_tool_writes_in_every_protocol() {
        let Some(python) = python_tool() else {
            eprintln!("no Python lightbeam (LIGHTBEAM_PY or .venv): skipped");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(&python)
            .args(["-c", WRITE_WITH_THE_TOOL])
            .arg(dir.path())
            .arg("2500")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want: DigestMap<PayloadState> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split(' ').collect();
                (hex(f[0]), ps(f[1].parse().unwrap(), f[2].parse().unwrap()))
            })
            .collect();
        assert_eq!(want.len(), 2500);
        for protocol in ["default", "0", "1", "2", "3", "4", "5"] {
            let store = SqliteState::open_with(&dir.path().join(protocol), quiet()).unwrap();
            let results: Vec<_> = store.imported().iter().map(|i| &i.result).collect();
            assert_eq!(results, [&Ok(2500)], "protocol {protocol}");
            let loaded = block_on(store.load("students")).unwrap();
            assert!(
                loaded == want,
                "protocol {protocol}: not what the tool reads"
            );
        }
    }

    /// A hashlog that cannot be read (cut short, empty, not a pickle, a pickle of something else,
    /// a length past its end) is reported with why, never panics, does not stop the other
    /// files, and is not marked imported: the next open tries it again, and imports it once it
    /// is readable.
    #[test]
    fn an_unreadable_hashlog_is_reported_and_retried() {
        let dir = tempfile::tempdir().unwrap();
        let unreadable: [(&str, &[u8]); 6] = [
            ("cut", &PY_HASHLOG[..40]),
            ("empty", b""),
            ("garbage", b"\x00\xffgarbage"),
            ("list", b"\x80\x04]\x94."),
            ("huge", b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\x7f"),
            ("nostop", &PY_HASHLOG[..PY_HASHLOG.len() - 1]),
        ];
        for (name, bytes) in unreadable {
            fs::write(dir.path().join(format!("{name}.dat")), bytes).unwrap();
        }
        fs::write(dir.path().join("students.dat"), PY_HASHLOG).unwrap();
        let failed = |store: &SqliteState| -> Vec<String> {
            let mut names = Vec::new();
            for i in store.imported() {
                if let Err(why) = &i.result {
                    assert!(!why.is_empty(), "{}: no reason", i.endpoint);
                    names.push(i.endpoint.clone());
                }
            }
            names
        };
        let names = ["cut", "empty", "garbage", "huge", "list", "nostop"];
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
        assert_eq!(failed(&store), names);
        assert!(store
            .imported()
            .iter()
            .any(|i| i.endpoint == "students" && i.result == Ok(2)));
        drop(store);
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
        assert_eq!(failed(&store), names, "tried again");
        assert_eq!(store.imported().len(), names.len(), "students not again");
        drop(store);
        // the Python tool wrote it whole since
        fs::write(dir.path().join("cut.dat"), PY_HASHLOG).unwrap();
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
        assert!(store
            .imported()
            .iter()
            .any(|i| i.endpoint == "cut" && i.result == Ok(2)));
        assert_eq!(block_on(store.load("cut")).unwrap().len(), 2);
        assert_eq!(failed(&store), names[1..]);
    }

    /// Damaged copies of a hashlog (bytes changed, cut anywhere) give a result or a reason,
    /// never a panic.
    #[test]
    fn damaged_hashlogs_never_panic() {
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for sample in [PY_HASHLOG, PY_HASHLOG_P2, PY_HASHLOG_P3] {
            for _ in 0..3_000 {
                let mut bytes = sample.to_vec();
                for _ in 0..=next() % 3 {
                    let at = (next() % bytes.len() as u64) as usize;
                    bytes[at] = next() as u8;
                }
                bytes.truncate(1 + (next() % bytes.len() as u64) as usize);
                let _ = parse_hashlog(&bytes);
            }
        }
    }
}
