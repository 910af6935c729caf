//! The plan shown before a run: each endpoint with its data files in dependency order, their
//! line counts as they come in, and the files that match no endpoint.

use super::format::thousands;
use lightbeam_core::data::plan::DataPlan;
use lightbeam_core::ports::DataFile;

/// One endpoint of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    /// The dependency level, from 1.
    pub level: usize,
    pub endpoint: String,
    pub files: Vec<DataFile>,
    /// Non-blank lines, once counted.
    pub lines: Option<u64>,
}

impl PlanRow {
    /// The files' names, comma separated.
    pub fn file_names(&self) -> String {
        let names: Vec<&str> = self.files.iter().map(|f| f.name.as_str()).collect();
        names.join(", ")
    }

    /// The line count, `…` until counted.
    pub fn lines_text(&self) -> String {
        self.lines.map(thousands).unwrap_or_else(|| "…".into())
    }
}

/// The plan as shown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlanView {
    pub rows: Vec<PlanRow>,
    /// Files that match no endpoint, with why.
    pub unknown: Vec<String>,
    pub error: Option<String>,
    /// Lines are still being counted.
    pub loading: bool,
}

impl PlanView {
    /// The plan of every endpoint of the API, lines not yet counted.
    pub fn of(plan: &DataPlan) -> PlanView {
        let rows = plan
            .levels
            .iter()
            .enumerate()
            .flat_map(|(i, level)| {
                level.iter().map(move |p| PlanRow {
                    level: i + 1,
                    endpoint: p.endpoint.clone(),
                    files: p.files.clone(),
                    lines: None,
                })
            })
            .collect();
        PlanView {
            rows,
            unknown: plan.unmatched.iter().map(ToString::to_string).collect(),
            error: None,
            loading: true,
        }
    }

    /// Something went wrong before the plan could be made.
    pub fn failed(error: String) -> PlanView {
        PlanView {
            error: Some(error),
            ..PlanView::default()
        }
    }

    /// Lines are being counted (or the API asked) before rows are known.
    pub fn pending() -> PlanView {
        PlanView {
            loading: true,
            ..PlanView::default()
        }
    }

    /// The line count of row `index` (of `endpoint`) came in, or why it could not be counted.
    pub fn set_lines(&mut self, index: usize, endpoint: &str, lines: Result<u64, String>) {
        match lines {
            Ok(n) => {
                if let Some(r) = self.rows.get_mut(index).filter(|r| r.endpoint == endpoint) {
                    r.lines = Some(n);
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The table's caption.
    pub fn caption(&self) -> &'static str {
        if self.loading {
            "Files by endpoint, in dependency order (counting lines…)"
        } else {
            "Files by endpoint, in dependency order"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightbeam_core::data::plan::EndpointPlan;

    fn file(endpoint: &str, path: &str) -> DataFile {
        DataFile {
            endpoint: endpoint.into(),
            path: path.into(),
            name: path.into(),
        }
    }

    fn plan() -> DataPlan {
        let endpoint = |e: &str, files: Vec<DataFile>| EndpointPlan {
            endpoint: e.into(),
            files,
        };
        DataPlan {
            levels: vec![
                vec![endpoint("schools", vec![file("schools", "schools.jsonl")])],
                vec![endpoint(
                    "students",
                    vec![
                        file("students", "students/a.jsonl"),
                        file("students", "students/b.jsonl"),
                    ],
                )],
            ],
            files: Vec::new(),
            unmatched: vec![lightbeam_core::data::files::Unmatched::UnknownEndpoint {
                path: "studnets.jsonl".into(),
                name: "studnets".into(),
            }],
        }
    }

    #[test]
    fn rows_by_level_with_their_files_then_lines() {
        let mut view = PlanView::of(&plan());
        assert!(view.loading);
        assert_eq!(
            view.caption(),
            "Files by endpoint, in dependency order (counting lines…)"
        );
        let rows: Vec<(usize, &str, String)> = view
            .rows
            .iter()
            .map(|r| (r.level, r.endpoint.as_str(), r.file_names()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (1, "schools", "schools.jsonl".to_string()),
                (
                    2,
                    "students",
                    "students/a.jsonl, students/b.jsonl".to_string()
                ),
            ]
        );
        assert_eq!(
            view.unknown,
            vec!["studnets.jsonl: \"studnets\" is not an endpoint of the API; file ignored"]
        );
        assert_eq!(view.rows[1].lines_text(), "…");
        view.set_lines(1, "students", Ok(1200));
        view.set_lines(0, "students", Ok(5)); // another row since: ignored
        assert_eq!(view.rows[1].lines_text(), "1,200");
        assert_eq!(view.rows[0].lines, None);
        view.set_lines(0, "schools", Err("schools.jsonl: gone".into()));
        assert_eq!(view.error.as_deref(), Some("schools.jsonl: gone"));
        view.loading = false;
        assert_eq!(view.caption(), "Files by endpoint, in dependency order");
    }
}
