//! Generator of a coherent, realistic Ed-Fi Data Standard 5.x data set.
//!
//! [`generate`] writes one `{endpoint}.jsonl` file per resource (one POST body a
//! line, no `id`) for a fictional district, "Riverbend Independent School
//! District" (LEA 255950), in school year 2023-2024 (`schoolYear` 2024):
//!
//! * one LEA, `ceil(students / 500)` schools (cycling high, middle and
//!   elementary schools), the district's course catalog recorded per school
//!   (courses of the school's grade levels, `educationOrganizationId` = the
//!   school, as in the Grand Bend sample data);
//! * per school: four nine-weeks grading periods, a fall and a spring semester,
//!   course offerings and sections (at most 25 students a section), about one
//!   staff member per 15 students (principal, counselor, teachers) with their
//!   assignment and school associations, one teacher of record per section;
//! * per student: a school enrollment, five sections a semester (four core
//!   subjects and an elective), attendance events on school days, and a
//!   grade per grading period plus a final grade for every section.
//!
//! Every descriptor value exists in the DS 5.2 descriptor set, every reference
//! points at a record written to another file (or at a pre-seeded
//! `schoolYearType`), identities are unique, and the files are listed in the
//! API's dependency order. Records are streamed: only per-school indexes (the
//! section identifiers of the school being written) stay in memory, so millions
//! of records take constant memory. Output is deterministic for a given seed.
//!
//! The modules, from the bottom up: `json` (the JSON writer), the tables
//! `names`, `calendar` and `catalog`, `sink` (the files); `references` between
//! records and `plan` (the schools); the writers `organizations`, `staff`,
//! `schedule` and `students`, called in turn by [`generate`].

use std::fs;
use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use rand::rngs::SmallRng;
use rand::SeedableRng;

mod calendar;
mod catalog;
mod json;
mod names;
mod organizations;
mod plan;
mod references;
mod schedule;
mod sink;
mod staff;
mod students;

use calendar::Calendar;
use catalog::Catalog;
use organizations::{write_course, write_lea, write_school};
use plan::plan_schools;
use schedule::write_schedule;
use sink::Out;
pub use sink::ENDPOINTS;
use staff::write_staff;
use students::write_students;

/// What to generate and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Folder receiving the `{endpoint}.jsonl` files (created if missing).
    pub out_dir: PathBuf,
    /// Number of students; everything else scales from it (at least 1).
    pub students: usize,
    /// Seed of the random generator; the same seed gives the same bytes.
    pub rng_seed: u64,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    /// `(endpoint, lines)` for every file written, in dependency order
    /// (the order in which the files must be loaded).
    pub files: Vec<(String, u64)>,
}

impl GenerateSummary {
    /// Total number of records written.
    pub fn total_lines(&self) -> u64 {
        self.files.iter().map(|(_, n)| n).sum()
    }
}

/// Writes `{endpoint}.jsonl` files for a district of `opts.students` students
/// into `opts.out_dir`; see the module documentation.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary> {
    ensure!(opts.students > 0, "--students must be at least 1");
    fs::create_dir_all(&opts.out_dir)
        .with_context(|| format!("creating {}", opts.out_dir.display()))?;
    let mut out = Out::open(&opts.out_dir)?;
    let mut rng = SmallRng::seed_from_u64(opts.rng_seed);
    let cal = Calendar::new();
    let catalog = Catalog::new();
    let schools = plan_schools(opts.students, &mut rng);

    write_lea(&mut out)?;
    for school in &schools {
        write_school(&mut out, school, &cal)?;
        for c in catalog.band_courses(school.band) {
            write_course(&mut out, &catalog.courses[c], school.id)?;
        }
        let teachers = write_staff(&mut out, school, &mut rng)?;
        let schedule = write_schedule(&mut out, school, &cal, &catalog, &teachers)?;
        write_students(&mut out, school, &cal, &catalog, &schedule, &mut rng)?;
    }
    let files = out.finish(&opts.out_dir)?;
    Ok(GenerateSummary { files })
}

#[cfg(test)]
mod tests;
