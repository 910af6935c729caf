//! Data files as pure logic: which files in `data_dir` belong to which endpoint (from a
//! listing the caller makes), and the lines of a JSONL file (from its bytes).
//!
//! Discovery: `{endpoint}.jsonl|.ndjson|.json` at the top of `data_dir` and
//! `{endpoint}/*.jsonl|.ndjson|.json` one folder down, names matched case-insensitively.
//! Lines: 1-based numbers, split on `\n`, `\r\n` or `\r` (as Python's text mode does), a UTF-8
//! BOM ignored, blank lines skipped (but counted), invalid UTF-8 an error for that line.

use crate::hashing::python_strip;

/// File extensions of data files (matched case-insensitively).
pub const DATA_FILE_EXTENSIONS: [&str; 3] = ["jsonl", "ndjson", "json"];

/// A data file and the endpoint it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub endpoint: String,
    /// Path relative to `data_dir`, with `/` separators (as listed, normalised).
    pub path: String,
}

/// Why a file that looks like data maps to no endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// `studnets.jsonl`, or `studnets/a.jsonl`: no endpoint of that name.
    UnknownEndpoint { path: String, name: String },
    /// `students/2024/a.jsonl`: only one folder level is searched.
    TooDeep { path: String },
}

impl Unmatched {
    pub fn path(&self) -> &str {
        match self {
            Unmatched::UnknownEndpoint { path, .. } | Unmatched::TooDeep { path } => path,
        }
    }
}

impl std::fmt::Display for Unmatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unmatched::UnknownEndpoint { path, name } => {
                write!(f, "{path}: {name:?} is not an endpoint of the API; file ignored")
            }
            Unmatched::TooDeep { path } => write!(
                f,
                "{path}: data files are read from data_dir and one folder below it only; file ignored"
            ),
        }
    }
}

/// The data files found for the known endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Discovery {
    /// In the order of the endpoints given to [`discover`], then by path.
    files: Vec<DataFile>,
    unmatched: Vec<Unmatched>,
}

impl Discovery {
    /// Every data file, endpoint by endpoint (in the endpoints' order), each endpoint's files
    /// sorted by path.
    pub fn files(&self) -> &[DataFile] {
        &self.files
    }

    /// The files of one endpoint, sorted by path.
    pub fn files_for<'a>(&'a self, endpoint: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.files
            .iter()
            .filter(move |f| f.endpoint == endpoint)
            .map(|f| f.path.as_str())
    }

    /// The `selected` endpoints (in their order) that have at least one data file.
    pub fn endpoints_with_data<S: AsRef<str>>(&self, selected: &[S]) -> Vec<String> {
        selected
            .iter()
            .map(AsRef::as_ref)
            .filter(|e| self.files.iter().any(|f| f.endpoint == *e))
            .map(str::to_string)
            .collect()
    }

    /// Files with a data extension that map to no endpoint (worth a warning).
    pub fn unmatched(&self) -> &[Unmatched] {
        &self.unmatched
    }
}

fn data_stem(file_name: &str) -> Option<&str> {
    let (stem, ext) = file_name.rsplit_once('.')?;
    DATA_FILE_EXTENSIONS
        .iter()
        .any(|e| e.eq_ignore_ascii_case(ext))
        .then_some(stem)
}

fn normalise(path: &str) -> String {
    let p = path.replace('\\', "/");
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    parts.join("/")
}

/// Maps a listing of file paths (relative to `data_dir`, any depth; folders need not be
/// listed) to the `endpoints`. Hidden files and folders (starting with `.`) are ignored, as
/// are files without a data extension. Each distinct file appears once.
pub fn discover<P: AsRef<str>, E: AsRef<str>>(listing: &[P], endpoints: &[E]) -> Discovery {
    let find = |name: &str| -> Option<usize> {
        endpoints
            .iter()
            .position(|e| e.as_ref() == name)
            .or_else(|| {
                endpoints
                    .iter()
                    .position(|e| e.as_ref().eq_ignore_ascii_case(name))
            })
    };
    let mut paths: Vec<String> = listing.iter().map(|p| normalise(p.as_ref())).collect();
    paths.sort();
    paths.dedup();

    let mut found: Vec<(usize, String)> = Vec::new();
    let mut unmatched = Vec::new();
    for path in paths {
        let parts: Vec<&str> = path.split('/').collect();
        if parts.is_empty() || parts.iter().any(|p| p.starts_with('.')) {
            continue;
        }
        let Some(file_name) = parts.last() else {
            continue;
        };
        let Some(stem) = data_stem(file_name) else {
            continue;
        };
        match parts.len() {
            1 => match find(stem) {
                Some(i) => found.push((i, path.clone())),
                None => unmatched.push(Unmatched::UnknownEndpoint {
                    name: stem.to_string(),
                    path: path.clone(),
                }),
            },
            2 => match find(parts[0]) {
                Some(i) => found.push((i, path.clone())),
                None => unmatched.push(Unmatched::UnknownEndpoint {
                    name: parts[0].to_string(),
                    path: path.clone(),
                }),
            },
            _ => unmatched.push(Unmatched::TooDeep { path: path.clone() }),
        }
    }
    // by endpoint order, then path (paths are already sorted, and the sort is stable)
    found.sort_by_key(|(i, _)| *i);
    Discovery {
        files: found
            .into_iter()
            .map(|(i, path)| DataFile {
                endpoint: endpoints[i].as_ref().to_string(),
                path,
            })
            .collect(),
        unmatched,
    }
}

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is not valid UTF-8 (invalid byte at position {position} of the line)")]
    InvalidUtf8 {
        /// 1-based byte position of the first invalid byte within the line.
        position: usize,
    },
}

/// One non-blank line of a JSONL file, stripped of surrounding whitespace (as the Python tool
/// strips it before hashing and sending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number in the file (blank lines count).
    pub number: u64,
    pub text: Result<&'a str, LineError>,
}

/// A [`Line`] that owns its text (from [`LineSplitter`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedLine {
    pub number: u64,
    pub text: Result<String, LineError>,
}

fn decode_line(raw: &[u8], number: u64) -> Option<Result<&str, LineError>> {
    let raw = if number == 1 {
        raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
    } else {
        raw
    };
    match std::str::from_utf8(raw) {
        Ok(s) => {
            let t = python_strip(s);
            (!t.is_empty()).then_some(Ok(t))
        }
        Err(e) => {
            // a line that is only whitespace around bad bytes is still an error
            Some(Err(LineError::InvalidUtf8 {
                position: e.valid_up_to() + 1,
            }))
        }
    }
}

/// The lines of a whole file: an iterator of non-blank [`Line`]s.
pub fn jsonl_lines(bytes: &[u8]) -> JsonlLines<'_> {
    JsonlLines {
        bytes,
        pos: 0,
        number: 0,
    }
}

/// Iterator returned by [`jsonl_lines`].
#[derive(Debug, Clone)]
pub struct JsonlLines<'a> {
    bytes: &'a [u8],
    pos: usize,
    number: u64,
}

impl JsonlLines<'_> {
    /// Lines seen so far, blank ones included.
    pub fn lines_seen(&self) -> u64 {
        self.number
    }
}

impl<'a> Iterator for JsonlLines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        while self.pos < self.bytes.len() {
            let rest = &self.bytes[self.pos..];
            let (raw, advance) = match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(i) => {
                    let crlf = rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n');
                    (&rest[..i], i + if crlf { 2 } else { 1 })
                }
                None => (rest, rest.len()),
            };
            self.pos += advance;
            self.number += 1;
            if let Some(text) = decode_line(raw, self.number) {
                return Some(Line {
                    number: self.number,
                    text,
                });
            }
        }
        None
    }
}

/// The same splitting for a file that arrives in chunks (a stream, a browser `File`).
#[derive(Debug, Clone, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    number: u64,
    /// The previous chunk ended with `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
}

impl LineSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lines seen so far, blank ones included.
    pub fn lines_seen(&self) -> u64 {
        self.number
    }

    /// Splits a chunk at line ends, calling `line(number, raw bytes)` for every completed line
    /// (blank ones included) and keeping an unfinished last line for the next chunk.
    fn split(&mut self, chunk: &[u8], mut line: impl FnMut(u64, &[u8])) {
        let mut chunk = chunk;
        if self.after_cr && !chunk.is_empty() {
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
            self.after_cr = false;
        }
        let mut start = 0;
        while let Some(found) = memchr::memchr2(b'\n', b'\r', &chunk[start..]) {
            let i = start + found;
            self.number += 1;
            if self.buf.is_empty() {
                // the whole line is in this chunk: no copy
                line(self.number, &chunk[start..i]);
            } else {
                self.buf.extend_from_slice(&chunk[start..i]);
                line(self.number, &self.buf);
                self.buf.clear();
            }
            let mut next = i + 1;
            if chunk[i] == b'\r' {
                match chunk.get(i + 1) {
                    Some(b'\n') => next += 1,
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            start = next;
        }
        self.buf.extend_from_slice(&chunk[start..]);
    }

    /// The file's last line if it had no line break.
    fn split_end(&mut self, mut line: impl FnMut(u64, &[u8])) {
        if !self.buf.is_empty() {
            self.number += 1;
            line(self.number, &self.buf);
            self.buf.clear();
        }
        self.after_cr = false;
    }

    fn decoded(out: &mut Vec<OwnedLine>) -> impl FnMut(u64, &[u8]) + '_ {
        |number, raw| {
            if let Some(text) = decode_line(raw, number) {
                out.push(OwnedLine {
                    number,
                    text: text.map(str::to_string),
                });
            }
        }
    }

    /// Feeds a chunk; returns the lines it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<OwnedLine> {
        let mut out = Vec::new();
        self.split(chunk, Self::decoded(&mut out));
        out
    }

    /// Feeds a chunk; returns how many payload lines (the ones [`push`](Self::push) would
    /// return) it completed, without copying them.
    pub fn count(&mut self, chunk: &[u8]) -> u64 {
        let mut n = 0;
        self.split(chunk, |number, raw| {
            n += u64::from(decode_line(raw, number).is_some())
        });
        n
    }

    /// Ends the file; returns how many payload lines it completed (see [`count`](Self::count)).
    pub fn finish_count(&mut self) -> u64 {
        let mut n = 0;
        self.split_end(|number, raw| n += u64::from(decode_line(raw, number).is_some()));
        n
    }

    /// Ends the file; returns its last line if it had no line break.
    pub fn finish(&mut self) -> Vec<OwnedLine> {
        let mut out = Vec::new();
        self.split_end(Self::decoded(&mut out));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn endpoints() -> Vec<String> {
        [
            "schools",
            "students",
            "studentSchoolAssociations",
            "gradeLevelDescriptors",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    #[test]
    fn discovery() {
        let listing = [
            "students.jsonl",
            "Schools.NDJSON",
            "studentSchoolAssociations/2024.jsonl",
            "studentschoolassociations/2023.json",
            "./studentSchoolAssociations/2024.jsonl",
            "STUDENTS/extra.ndjson",
            "studnets.jsonl",
            "staff/a.jsonl",
            "students/deep/a.jsonl",
            "README.md",
            ".hidden.jsonl",
            "students/._students.jsonl",
            "students.jsonl.bak",
            "gradeLevelDescriptors.json",
        ];
        let d = discover(&listing, &endpoints());
        let files: Vec<(&str, &str)> = d
            .files()
            .iter()
            .map(|f| (f.endpoint.as_str(), f.path.as_str()))
            .collect();
        assert_eq!(
            files,
            vec![
                ("schools", "Schools.NDJSON"),
                ("students", "STUDENTS/extra.ndjson"),
                ("students", "students.jsonl"),
                (
                    "studentSchoolAssociations",
                    "studentSchoolAssociations/2024.jsonl"
                ),
                (
                    "studentSchoolAssociations",
                    "studentschoolassociations/2023.json"
                ),
                ("gradeLevelDescriptors", "gradeLevelDescriptors.json"),
            ]
        );
        assert_eq!(
            d.files_for("students").collect::<Vec<_>>(),
            vec!["STUDENTS/extra.ndjson", "students.jsonl"]
        );
        assert_eq!(
            d.endpoints_with_data(&["gradeLevelDescriptors", "students", "staff"]),
            vec!["gradeLevelDescriptors", "students"]
        );
        let unmatched: Vec<String> = d.unmatched().iter().map(|u| u.to_string()).collect();
        assert_eq!(
            unmatched,
            vec![
                "staff/a.jsonl: \"staff\" is not an endpoint of the API; file ignored",
                "students/deep/a.jsonl: data files are read from data_dir and one folder below it only; file ignored",
                "studnets.jsonl: \"studnets\" is not an endpoint of the API; file ignored",
            ]
        );
    }

    #[test]
    fn windows_separators_and_exact_case_preferred() {
        let eps = ["ab", "AB"];
        let d = discover(&["AB.jsonl", "x\\..\\ab.jsonl", "ab\\1.json"], &eps);
        let files: Vec<(&str, &str)> = d
            .files()
            .iter()
            .map(|f| (f.endpoint.as_str(), f.path.as_str()))
            .collect();
        assert_eq!(files[0], ("ab", "ab/1.json"));
        assert!(files.contains(&("AB", "AB.jsonl")));
    }

    fn collect(bytes: &[u8]) -> Vec<(u64, Result<String, LineError>)> {
        jsonl_lines(bytes)
            .map(|l| (l.number, l.text.map(str::to_string)))
            .collect()
    }

    #[test]
    fn lines_with_bom_crlf_blank_and_cr() {
        let bytes = b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2}  \r{\"c\":3}\n\n{\"d\":4}";
        let got = collect(bytes);
        assert_eq!(
            got,
            vec![
                (1, Ok("{\"a\":1}".to_string())),
                (4, Ok("{\"b\":2}".to_string())),
                (5, Ok("{\"c\":3}".to_string())),
                (7, Ok("{\"d\":4}".to_string())),
            ]
        );
        let mut it = jsonl_lines(b"a\n\n");
        assert_eq!(it.next().unwrap().number, 1);
        assert!(it.next().is_none());
        assert_eq!(it.lines_seen(), 2);
        assert!(collect(b"").is_empty());
        assert!(collect(b"\xEF\xBB\xBF").is_empty());
    }

    #[test]
    fn invalid_utf8_is_an_error_for_that_line_only() {
        let got = collect(b"{\"a\":1}\n{\"b\":\"\xff\"}\n{\"c\":3}\n");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1, Ok("{\"a\":1}".to_string()));
        assert_eq!(got[1], (2, Err(LineError::InvalidUtf8 { position: 7 })));
        assert_eq!(got[2].1, Ok("{\"c\":3}".to_string()));
        // a BOM is only a BOM on line 1
        let got = collect(b"a\n\xEF\xBB\xBFb\n");
        assert_eq!(got[1].1, Ok("\u{feff}b".to_string()));
    }

    #[test]
    fn chunked_matches_whole() {
        let bytes: &[u8] =
            b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2}  \r{\"c\":3}\r\r\n{\"e\":\"\xc3\xa9\"}\n\xff\n{\"d\":4}";
        let whole = collect(bytes);
        for size in 1..=bytes.len() {
            let mut s = LineSplitter::new();
            let mut got = Vec::new();
            for chunk in bytes.chunks(size) {
                got.extend(s.push(chunk));
            }
            got.extend(s.finish());
            let got: Vec<(u64, Result<String, LineError>)> =
                got.into_iter().map(|l| (l.number, l.text)).collect();
            assert_eq!(got, whole, "chunk size {size}");
        }
        assert_eq!(whole.len(), 6);
        assert_eq!(whole[3], (7, Ok("{\"e\":\"é\"}".to_string())));
        assert_eq!(whole[4], (8, Err(LineError::InvalidUtf8 { position: 1 })));
    }
}
