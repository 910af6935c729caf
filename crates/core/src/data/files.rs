//! Which data files belong to which endpoint, from a listing the face makes:
//! `{endpoint}.jsonl|.ndjson|.json` at the top of the data folder and
//! `{endpoint}/*.jsonl|.ndjson|.json` one folder down, names matched case-insensitively.

pub use crate::ports::DataFile;

/// File extensions of data files (matched case-insensitively).
pub const DATA_FILE_EXTENSIONS: [&str; 3] = ["jsonl", "ndjson", "json"];

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
    pub fn files_for<'a>(&'a self, endpoint: &'a str) -> impl Iterator<Item = &'a DataFile> + 'a {
        self.files.iter().filter(move |f| f.endpoint == endpoint)
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
/// listed) to the `endpoints`; `name` gives each file its name in messages and results. Hidden
/// files and folders (starting with `.`) are ignored, as are files without a data extension.
/// Each distinct file appears once.
pub fn discover<P: AsRef<str>, E: AsRef<str>>(
    listing: &[P],
    endpoints: &[E],
    name: &dyn Fn(&str) -> String,
) -> Discovery {
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
                name: name(&path),
                path,
            })
            .collect(),
        unmatched,
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
        let d = discover(&listing, &endpoints(), &|p| format!("./data/{p}"));
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
            d.files_for("students")
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>(),
            vec!["./data/STUDENTS/extra.ndjson", "./data/students.jsonl"]
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
        let d = discover(
            &["AB.jsonl", "x\\..\\ab.jsonl", "ab\\1.json"],
            &eps,
            &str::to_string,
        );
        let files: Vec<(&str, &str)> = d
            .files()
            .iter()
            .map(|f| (f.endpoint.as_str(), f.path.as_str()))
            .collect();
        assert_eq!(files[0], ("ab", "ab/1.json"));
        assert!(files.contains(&("AB", "AB.jsonl")));
    }
}
