//! The output: one buffered `{endpoint}.jsonl` file per endpoint, in dependency order, counting its lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

use super::json::{object, Obj};

/// The endpoints written (namespace `ed-fi`), in the dependency order of the
/// ODS/API 7.x DS 5.2 dependencies document (`order`, then name).
pub const ENDPOINTS: [&str; 16] = [
    "staffs",                                           // 3
    "students",                                         // 3
    "localEducationAgencies",                           // 4
    "schools",                                          // 5
    "gradingPeriods",                                   // 6
    "sessions",                                         // 7
    "courses",                                          // 8
    "staffEducationOrganizationAssignmentAssociations", // 8
    "courseOfferings",                                  // 9
    "staffSchoolAssociations",                          // 9
    "sections",                                         // 10
    "staffSectionAssociations",                         // 11
    "studentSchoolAssociations",                        // 13
    "studentSchoolAttendanceEvents",                    // 14
    "studentSectionAssociations",                       // 14
    "grades",                                           // 15
];

// Indexes in `ENDPOINTS`, naming the file that `Out::emit` writes to.
pub(super) const STAFFS: usize = 0;
pub(super) const STUDENTS: usize = 1;
pub(super) const LEAS: usize = 2;
pub(super) const SCHOOLS: usize = 3;
pub(super) const GRADING_PERIODS: usize = 4;
pub(super) const SESSIONS: usize = 5;
pub(super) const COURSES: usize = 6;
pub(super) const STAFF_ASSIGNMENTS: usize = 7;
pub(super) const COURSE_OFFERINGS: usize = 8;
pub(super) const STAFF_SCHOOLS: usize = 9;
pub(super) const SECTIONS: usize = 10;
pub(super) const STAFF_SECTIONS: usize = 11;
pub(super) const STUDENT_SCHOOLS: usize = 12;
pub(super) const ATTENDANCE: usize = 13;
pub(super) const STUDENT_SECTIONS: usize = 14;
pub(super) const GRADES: usize = 15;

struct Sink {
    w: BufWriter<File>,
    lines: u64,
}

/// The files being written, one per endpoint, and the line being built.
pub(super) struct Out {
    sinks: Vec<Sink>,
    line: String,
}

impl Out {
    /// Creates (truncates) the `{endpoint}.jsonl` files in `dir`.
    pub(super) fn open(dir: &Path) -> Result<Out> {
        let mut sinks = Vec::with_capacity(ENDPOINTS.len());
        for ep in ENDPOINTS {
            let path = dir.join(format!("{ep}.jsonl"));
            let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
            sinks.push(Sink {
                w: BufWriter::with_capacity(1 << 16, f),
                lines: 0,
            });
        }
        Ok(Out {
            sinks,
            line: String::with_capacity(2048),
        })
    }

    /// Writes one record (a JSON object built by `f`) as a line of `ep`'s file.
    pub(super) fn emit(&mut self, ep: usize, f: impl FnOnce(&mut Obj<'_>)) -> Result<()> {
        self.line.clear();
        object(&mut self.line, f);
        self.line.push('\n');
        let sink = &mut self.sinks[ep];
        sink.w.write_all(self.line.as_bytes())?;
        sink.lines += 1;
        Ok(())
    }

    /// Flushes every file; returns `(endpoint, lines)` in `ENDPOINTS` order.
    pub(super) fn finish(self, dir: &Path) -> Result<Vec<(String, u64)>> {
        let mut files = Vec::with_capacity(ENDPOINTS.len());
        for (ep, mut sink) in ENDPOINTS.iter().zip(self.sinks) {
            sink.w.flush().with_context(|| {
                format!("writing {}", dir.join(format!("{ep}.jsonl")).display())
            })?;
            files.push((ep.to_string(), sink.lines));
        }
        Ok(files)
    }
}
