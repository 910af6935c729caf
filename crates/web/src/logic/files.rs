//! The dropped or picked files as the page knows them: their paths relative to the data folder,
//! and the line that sums them up.

use super::format::human_bytes;

/// The `data_dir` of the results when files were dropped or picked one by one.
pub const LOOSE_FILES: &str = "(dropped files)";

/// Paths of picked or dropped files made relative to the data folder: when every path lies in
/// one top folder (a dropped or picked folder), that folder is the data folder and is removed.
/// Returns the data folder's name ([`LOOSE_FILES`] when files were given directly) and the paths.
pub fn relative_paths(paths: &[String]) -> (String, Vec<String>) {
    let norm: Vec<String> = paths
        .iter()
        .map(|p| p.replace('\\', "/").trim_start_matches('/').to_string())
        .collect();
    let top = norm
        .first()
        .and_then(|p| p.split_once('/'))
        .map(|(t, _)| t.to_string());
    if let Some(top) = top {
        let prefix = format!("{top}/");
        if norm.iter().all(|p| p.starts_with(&prefix)) {
            return (
                top,
                norm.iter().map(|p| p[prefix.len()..].to_string()).collect(),
            );
        }
    }
    (LOOSE_FILES.to_string(), norm)
}

/// What was dropped, in short.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilesInfo {
    pub count: usize,
    pub bytes: f64,
    /// The data folder's name (see [`relative_paths`]).
    pub data_dir: String,
}

impl FilesInfo {
    /// `3 files, 1.2 MB from data`.
    pub fn summary(&self) -> String {
        if self.count == 0 {
            return "No files yet.".to_string();
        }
        format!(
            "{} files, {} from {}",
            self.count,
            human_bytes(self.bytes),
            self.data_dir
        )
    }
}

/// The name a downloaded output file gets: its last path segment.
pub fn download_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_of_a_folder() {
        let (dir, p) = relative_paths(&["data/students.jsonl".into(), "data/x/a.jsonl".into()]);
        assert_eq!(dir, "data");
        assert_eq!(p, vec!["students.jsonl", "x/a.jsonl"]);
        let (dir, p) = relative_paths(&["students.jsonl".into(), "schools.jsonl".into()]);
        assert_eq!(dir, LOOSE_FILES);
        assert_eq!(p.len(), 2);
        let (_, p) = relative_paths(&["\\data\\a.jsonl".into(), "/data/b.jsonl".into()]);
        assert_eq!(p, vec!["a.jsonl", "b.jsonl"]);
    }

    #[test]
    fn summary_line() {
        assert_eq!(FilesInfo::default().summary(), "No files yet.");
        let info = FilesInfo {
            count: 3,
            bytes: 1_200_000.0,
            data_dir: "data".into(),
        };
        assert_eq!(info.summary(), "3 files, 1.2 MB from data");
        assert_eq!(download_name("x/students.jsonl"), "students.jsonl");
        assert_eq!(download_name("grades.jsonl"), "grades.jsonl");
    }
}
