//! The Python tool's hashlogs (`{state_dir}/{endpoint}.dat`, a pickle of
//! `{md5 digest: (timestamp, status)}`): which files are imported (each once, again when it
//! changes), merged so that the newer timestamp of a payload wins, and how they are read.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use lightbeam_core::ports::{PayloadState, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

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

pub(super) fn import_hashlogs(
    conn: &mut Connection,
    db_path: &Path,
    state_dir: &Path,
) -> Result<Vec<HashlogImport>, StoreError> {
    let err =
        |what: &str, e: rusqlite::Error| StoreError(format!("{}: {what}: {e}", db_path.display()));
    let mut candidates = Vec::new();
    let entries = match fs::read_dir(state_dir) {
        Ok(entries) => entries,
        Err(e) => {
            return Err(StoreError(format!(
                "cannot read state_dir {}: {e}",
                state_dir.display()
            )))
        }
    };
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
        let size = meta.len() as i64;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        candidates.push((path, endpoint, size, mtime_ns));
    }
    candidates.sort();
    let mut report = Vec::new();
    for (path, endpoint, size, mtime_ns) in candidates {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let seen: Option<(i64, i64)> = conn
            .query_row(
                "SELECT size, mtime_ns FROM imported_hashlog WHERE file = ?1",
                [&file_name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| err("cannot read imported hashlogs", e))?;
        if seen == Some((size, mtime_ns)) {
            continue;
        }
        let parsed = fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| parse_hashlog(&bytes));
        let result = match parsed {
            Err(e) => Err(e),
            Ok(entries) => {
                let now = std::time::SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                write_transaction(conn, |tx| {
                    let mut upsert = tx.prepare_cached(UPSERT_IF_NEWER)?;
                    for (hash, state) in &entries {
                        upsert.execute(params![endpoint, hash, state.timestamp, state.status])?;
                    }
                    tx.execute(
                        "INSERT OR REPLACE INTO imported_hashlog \
                         (file, size, mtime_ns, entries, imported_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![file_name, size, mtime_ns, entries.len() as i64, now],
                    )?;
                    Ok(())
                })
                .map_err(|e| err(&format!("cannot import hashlog {}", path.display()), e))?;
                Ok(entries.len())
            }
        };
        report.push(HashlogImport {
            file: path,
            endpoint,
            result,
        });
    }
    Ok(report)
}

/// A value of the pickle subset the Python hashlogs use.
#[derive(Debug, Clone, PartialEq)]
enum Pickled {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    Str(String),
    Tuple(Vec<Pickled>),
    List(Vec<Pickled>),
    Dict(Vec<(Pickled, Pickled)>),
}

/// Reads a Python hashlog: a pickle (protocol 2 to 5) of `{md5 digest: (timestamp, status)}`.
/// Keys become lowercase hex (a key already a string is kept, lowercased); a float timestamp is
/// rounded; entries of any other shape are skipped.
fn parse_hashlog(bytes: &[u8]) -> Result<Vec<(String, PayloadState)>, String> {
    let Pickled::Dict(items) = unpickle(bytes)? else {
        return Err("not a pickled dict".into());
    };
    let mut out = Vec::with_capacity(items.len());
    for (key, value) in items {
        let hash = match key {
            Pickled::Bytes(b) => hex::encode(b),
            Pickled::Str(s) => s.to_ascii_lowercase(),
            _ => continue,
        };
        let Pickled::Tuple(fields) = value else {
            continue;
        };
        let (Some(ts), Some(Pickled::Int(status))) = (fields.first(), fields.get(1)) else {
            continue;
        };
        let timestamp = match ts {
            Pickled::Int(t) => *t,
            Pickled::Float(t) if t.is_finite() => t.round() as i64,
            _ => continue,
        };
        let Ok(status) = u16::try_from(*status) else {
            continue;
        };
        out.push((hash, PayloadState { timestamp, status }));
    }
    Ok(out)
}

/// A minimal unpickler for plain data (no classes, no globals): enough for the hashlogs.
fn unpickle(bytes: &[u8]) -> Result<Pickled, String> {
    struct Reader<'a> {
        bytes: &'a [u8],
        pos: usize,
    }
    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            let end = self
                .pos
                .checked_add(n)
                .filter(|&end| end <= self.bytes.len())
                .ok_or_else(|| format!("truncated pickle at byte {}", self.pos))?;
            let s = &self.bytes[self.pos..end];
            self.pos = end;
            Ok(s)
        }
        fn u8(&mut self) -> Result<u8, String> {
            Ok(self.take(1)?[0])
        }
        fn u16(&mut self) -> Result<u16, String> {
            Ok(u16::from_le_bytes(
                self.take(2)?.try_into().expect("2 bytes"),
            ))
        }
        fn u32(&mut self) -> Result<u32, String> {
            Ok(u32::from_le_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            ))
        }
        fn u64(&mut self) -> Result<u64, String> {
            Ok(u64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            ))
        }
        fn len8(&mut self) -> Result<usize, String> {
            usize::try_from(self.u64()?).map_err(|_| "pickle length too large".to_string())
        }
    }
    fn long(b: &[u8]) -> Result<i64, String> {
        if b.len() > 8 {
            return Err("pickled integer too large".into());
        }
        if b.is_empty() {
            return Ok(0);
        }
        let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
        let mut buf = [fill; 8];
        buf[..b.len()].copy_from_slice(b);
        Ok(i64::from_le_bytes(buf))
    }
    fn utf8(b: &[u8]) -> Result<Pickled, String> {
        String::from_utf8(b.to_vec())
            .map(Pickled::Str)
            .map_err(|_| "invalid UTF-8 in pickled string".to_string())
    }

    let mut r = Reader { bytes, pos: 0 };
    let mut stack: Vec<Pickled> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: HashMap<u32, Pickled> = HashMap::new();
    let pop = |stack: &mut Vec<Pickled>| {
        stack
            .pop()
            .ok_or_else(|| "pickle stack underflow".to_string())
    };
    let pop_mark =
        |stack: &mut Vec<Pickled>, marks: &mut Vec<usize>| -> Result<Vec<Pickled>, String> {
            let m = marks.pop().ok_or("pickle MARK missing")?;
            if m > stack.len() {
                return Err("pickle MARK past the stack".into());
            }
            Ok(stack.split_off(m))
        };
    let set_items = |stack: &mut Vec<Pickled>, items: Vec<Pickled>| -> Result<(), String> {
        if !items.len().is_multiple_of(2) {
            return Err("odd number of dict items in pickle".into());
        }
        let Some(Pickled::Dict(dict)) = stack.last_mut() else {
            return Err("SETITEMS on a non-dict in pickle".into());
        };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            dict.push((k, v));
        }
        Ok(())
    };
    loop {
        let at = r.pos;
        let op = r.u8()?;
        match op {
            0x80 => {
                let proto = r.u8()?;
                if !(2..=5).contains(&proto) {
                    return Err(format!("unsupported pickle protocol {proto}"));
                }
            }
            0x95 => {
                r.u64()?; // FRAME: a length hint only
            }
            b'.' => return pop(&mut stack),
            b'(' => marks.push(stack.len()),
            b'}' => stack.push(Pickled::Dict(Vec::new())),
            b')' => stack.push(Pickled::Tuple(Vec::new())),
            b']' => stack.push(Pickled::List(Vec::new())),
            b'N' => stack.push(Pickled::None),
            0x88 => stack.push(Pickled::Bool(true)),
            0x89 => stack.push(Pickled::Bool(false)),
            b'J' => stack.push(Pickled::Int(r.u32()? as i32 as i64)),
            b'K' => stack.push(Pickled::Int(r.u8()? as i64)),
            b'M' => stack.push(Pickled::Int(r.u16()? as i64)),
            0x8a => {
                let n = r.u8()? as usize;
                stack.push(Pickled::Int(long(r.take(n)?)?));
            }
            0x8b => {
                let n = r.u32()? as usize;
                stack.push(Pickled::Int(long(r.take(n)?)?));
            }
            b'G' => {
                let b: [u8; 8] = r.take(8)?.try_into().expect("8 bytes");
                stack.push(Pickled::Float(f64::from_be_bytes(b)));
            }
            b'C' => {
                let n = r.u8()? as usize;
                stack.push(Pickled::Bytes(r.take(n)?.to_vec()));
            }
            b'B' => {
                let n = r.u32()? as usize;
                stack.push(Pickled::Bytes(r.take(n)?.to_vec()));
            }
            0x8e => {
                let n = r.len8()?;
                stack.push(Pickled::Bytes(r.take(n)?.to_vec()));
            }
            0x8c => {
                let n = r.u8()? as usize;
                stack.push(utf8(r.take(n)?)?);
            }
            b'X' => {
                let n = r.u32()? as usize;
                stack.push(utf8(r.take(n)?)?);
            }
            0x8d => {
                let n = r.len8()?;
                stack.push(utf8(r.take(n)?)?);
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err("pickle stack underflow".into());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Pickled::Tuple(items));
            }
            b't' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                stack.push(Pickled::Tuple(items));
            }
            b'l' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                stack.push(Pickled::List(items));
            }
            b'e' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                let Some(Pickled::List(list)) = stack.last_mut() else {
                    return Err("APPENDS on a non-list in pickle".into());
                };
                list.extend(items);
            }
            b'a' => {
                let item = pop(&mut stack)?;
                let Some(Pickled::List(list)) = stack.last_mut() else {
                    return Err("APPEND on a non-list in pickle".into());
                };
                list.push(item);
            }
            b'd' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                stack.push(Pickled::Dict(Vec::new()));
                set_items(&mut stack, items)?;
            }
            b's' => {
                let v = pop(&mut stack)?;
                let k = pop(&mut stack)?;
                set_items(&mut stack, vec![k, v])?;
            }
            b'u' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                set_items(&mut stack, items)?;
            }
            0x94 => {
                let top = stack
                    .last()
                    .ok_or("pickle MEMOIZE on an empty stack")?
                    .clone();
                memo.insert(memo.len() as u32, top);
            }
            b'q' | b'r' => {
                let idx = if op == b'q' { r.u8()? as u32 } else { r.u32()? };
                let top = stack.last().ok_or("pickle PUT on an empty stack")?.clone();
                memo.insert(idx, top);
            }
            b'h' | b'j' => {
                let idx = if op == b'h' { r.u8()? as u32 } else { r.u32()? };
                let v = memo
                    .get(&idx)
                    .ok_or("pickle GET of an unknown memo entry")?
                    .clone();
                stack.push(v);
            }
            other => {
                return Err(format!(
                "unsupported pickle opcode 0x{other:02x} at byte {at} (not a lightbeam hashlog?)"
            ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{hex, lightbeam_hash, ps};
    use super::*;
    use futures::executor::block_on;
    use lightbeam_core::ports::StateStore;
    use std::time::Duration;

    /// Written by Python 3.11 (`pickle.dump`, protocol 4) the way `hashlog.save` does:
    /// `{md5(b'{"a": 1}'): (1700000000, 201), md5(b'x'): (1700000001, 409)}`.
    const PY_HASHLOG: &[u8] = b"\x80\x04\x95>\x00\x00\x00\x00\x00\x00\x00}\x94(C\x10B\xb7\xb4\xf2\x92\x17\x88\xea\x14\xda\xc5Vno\x06\xd0\x94J\x00\xf1SeK\xc9\x86\x94C\x10\x9d\xd4\xe4a&\x8c\x804\xf5\xc8VN\x15\x5cg\xa6\x94J\x01\xf1SeM\x99\x01\x86\x94u.";

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
}
