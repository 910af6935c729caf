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

use std::fs;
use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use chrono::Duration;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

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

use calendar::*;
use catalog::*;
use names::*;
use organizations::*;
use plan::*;
use references::*;
use schedule::*;
pub use sink::ENDPOINTS;
use sink::*;
use staff::write_staff;

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

const FIRST_STUDENT_ID: usize = 600_001;

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

/// A standard normal deviate (Irwin-Hall approximation, good enough here).
fn normal(rng: &mut SmallRng) -> f64 {
    let s: f64 = (0..4).map(|_| rng.gen::<f64>()).sum();
    (s - 2.0) * 3f64.sqrt()
}

// ---------------------------------------------------------------------------
// Students and everything about them.

const ATTENDANCE_REASONS: [&str; 5] = [
    "Illness",
    "Medical appointment",
    "Family emergency",
    "Religious observance",
    "Bereavement",
];

fn letter_grade(n: i64) -> &'static str {
    match n {
        90.. => "A",
        80..=89 => "B",
        70..=79 => "C",
        60..=69 => "D",
        _ => "F",
    }
}

fn write_students(
    out: &mut Out,
    s: &SchoolPlan,
    cal: &Calendar,
    catalog: &Catalog,
    schedule: &Schedule,
    rng: &mut SmallRng,
) -> Result<()> {
    let grades: Vec<usize> = s.band.grades().collect();
    let g_count = grades.len();
    let n_days = cal.days.len();
    let mut event_days: Vec<usize> = Vec::with_capacity(32);
    for j in 0..s.n_students {
        let number = FIRST_STUDENT_ID + s.first_student + j;
        let uid = number.to_string();
        let gi = j % g_count;
        let p = j / g_count;
        let grade = grades[gi];

        // --- the student
        let female = rng.gen_bool(0.5);
        let names: &[&str] = if female { &FEMALE_NAMES } else { &MALE_NAMES };
        let first = *pick(rng, names);
        let middle = rng.gen_bool(0.7).then(|| *pick(rng, names));
        let last = *pick(rng, &LAST_NAMES);
        let suffix = (!female && rng.gen_bool(0.02)).then_some("Jr.");
        let retained = rng.gen_bool(0.03);
        // on time: 5 years old on September 1st of the year entering kindergarten
        let birth_year = 2017 - grade as i32 - i32::from(retained);
        let birth = random_date(rng, ymd(birth_year, 9, 2), 365);
        let abroad = rng.gen_bool(0.05);
        let birth_city = if abroad {
            *pick(rng, &MEXICAN_CITIES)
        } else {
            *pick(rng, &TEXAS_CITIES)
        };
        let entered_us = abroad.then(|| {
            let age_days = (ymd(2023, 8, 1) - birth).num_days();
            birth + Duration::days(rng.gen_range(30..age_days))
        });
        out.emit(STUDENTS, |o| {
            o.str("studentUniqueId", &uid);
            o.str("birthCity", birth_city);
            o.desc(
                "birthCountryDescriptor",
                "Country",
                if abroad { "MX" } else { "US" },
            );
            o.date("birthDate", birth);
            o.desc(
                "birthSexDescriptor",
                "Sex",
                if female { "Female" } else { "Male" },
            );
            if !abroad {
                o.desc(
                    "birthStateAbbreviationDescriptor",
                    "StateAbbreviation",
                    "TX",
                );
            }
            if let Some(d) = entered_us {
                o.date("dateEnteredUS", d);
            }
            o.str("firstName", first);
            if let Some(g) = suffix {
                o.str("generationCodeSuffix", g);
            }
            o.str("lastSurname", last);
            if let Some(m) = middle {
                o.str("middleName", m);
            }
        })?;

        // --- enrollment: a few enter late in the fall, a few leave in the spring
        let fall = &cal.sessions[0];
        let spring = &cal.sessions[1];
        let entry = if rng.gen_bool(0.03) {
            rng.gen_range(fall.first + 5..fall.first + 35)
        } else {
            fall.first
        };
        let exit = rng
            .gen_bool(0.02)
            .then(|| rng.gen_range(spring.first + 10..spring.last - 10));
        let last_day = exit.unwrap_or(n_days - 1);
        let residency = if rng.gen_bool(0.95) {
            "Resident of admin unit and school area"
        } else {
            "Resident of admin unit, but other school area"
        };
        out.emit(STUDENT_SCHOOLS, |o| {
            cal.put_day(o, "entryDate", entry);
            school_ref(o, s.id);
            school_year_ref(o, "schoolYearTypeReference", SCHOOL_YEAR);
            student_ref(o, &uid);
            school_year_ref(
                o,
                "classOfSchoolYearTypeReference",
                SCHOOL_YEAR + 12 - grade as i64,
            );
            o.desc(
                "entryGradeLevelDescriptor",
                "GradeLevel",
                GRADE_LEVELS[grade].0,
            );
            if entry != fall.first {
                o.desc("entryTypeDescriptor", "EntryType", "Transfer");
            }
            if let Some(x) = exit {
                cal.put_day(o, "exitWithdrawDate", x);
                o.desc(
                    "exitWithdrawTypeDescriptor",
                    "ExitWithdrawType",
                    "Transferred",
                );
            }
            o.num("fullTimeEquivalency", 1.0);
            o.bool("primarySchool", true);
            o.bool("repeatGradeIndicator", retained);
            o.desc("residencyStatusDescriptor", "ResidencyStatus", residency);
        })?;

        // --- attendance events on distinct enrolled school days
        let mut m = rng.gen_range(0..=4) + rng.gen_range(0..=4);
        if rng.gen_bool(0.08) {
            m += rng.gen_range(8..=18); // chronically absent
        }
        let enrolled = last_day + 1 - entry;
        m = m.min(enrolled);
        event_days.clear();
        while event_days.len() < m {
            let d = rng.gen_range(entry..=last_day);
            if !event_days.contains(&d) {
                event_days.push(d);
            }
        }
        event_days.sort_unstable();
        for &d in &event_days {
            let (category, duration) = match rng.gen_range(0..100) {
                0..=39 => ("Excused Absence", 1.0),
                40..=64 => ("Unexcused Absence", 1.0),
                65..=94 => ("Tardy", f64::from(rng.gen_range(1..=4)) * 0.05),
                _ => ("Early departure", f64::from(rng.gen_range(2..=8)) * 0.05),
            };
            let reason = (category == "Excused Absence").then(|| *pick(rng, &ATTENDANCE_REASONS));
            let session = &cal.sessions[cal.session_of(d)];
            out.emit(ATTENDANCE, |o| {
                o.desc(
                    "attendanceEventCategoryDescriptor",
                    "AttendanceEventCategory",
                    category,
                );
                cal.put_day(o, "eventDate", d);
                school_ref(o, s.id);
                session_ref(o, s.id, session);
                student_ref(o, &uid);
                if let Some(r) = reason {
                    o.str("attendanceEventReason", r);
                }
                o.desc(
                    "educationalEnvironmentDescriptor",
                    "EducationalEnvironment",
                    "Classroom",
                );
                o.num("eventDuration", (duration * 100.0_f64).round() / 100.0);
            })?;
        }

        // --- sections and grades
        let ability = 82.0 + 8.0 * normal(rng);
        for (t, session) in cal.sessions.iter().enumerate() {
            let begin = if t == 0 { entry } else { session.first };
            let end = if t == 1 { last_day } else { session.last };
            let offerings = &schedule.sessions[t];
            let elective = (j + t) % ELECTIVE_CHOICES;
            let picks = (0..4)
                .map(|k| (gi * 4 + k, (p + k) % offerings[gi * 4 + k].sections.len()))
                .chain(std::iter::once({
                    let o = g_count * 4 + elective;
                    (o, (j / ELECTIVE_CHOICES) % offerings[o].sections.len())
                }));
            for (slot, (oi, sec)) in picks.enumerate() {
                let offering = &offerings[oi];
                let course = &catalog.courses[offering.course];
                let key = SectionKey {
                    local_course_code: &course.code,
                    school_id: s.id,
                    session_name: session.name,
                    section_identifier: &offering.sections[sec],
                };
                out.emit(STUDENT_SECTIONS, |o| {
                    cal.put_day(o, "beginDate", begin);
                    o.obj("sectionReference", |r| key.members(r));
                    student_ref(o, &uid);
                    cal.put_day(o, "endDate", end);
                    o.bool("homeroomIndicator", slot == 0);
                })?;
                let section_level = ability + 4.0 * normal(rng);
                let mut earned = Vec::with_capacity(2);
                for &pi in &session.periods {
                    let period = &cal.periods[pi];
                    if period.last > last_day {
                        continue; // withdrew before the end of the period
                    }
                    let n = (section_level + 3.0 * normal(rng))
                        .round()
                        .clamp(35.0, 100.0) as i64;
                    earned.push(n);
                    write_grade(out, &key, cal, begin, &uid, period, "Grading Period", n)?;
                }
                if earned.len() == 2 {
                    let final_grade = (earned.iter().sum::<i64>() as f64 / 2.0).round() as i64;
                    let period = &cal.periods[session.periods[1]];
                    write_grade(out, &key, cal, begin, &uid, period, "Final", final_grade)?;
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_grade(
    out: &mut Out,
    key: &SectionKey<'_>,
    cal: &Calendar,
    begin: usize,
    student: &str,
    period: &PeriodDef,
    grade_type: &str,
    numeric: i64,
) -> Result<()> {
    out.emit(GRADES, |o| {
        o.desc("gradeTypeDescriptor", "GradeType", grade_type);
        grading_period_ref(o, key.school_id, period);
        o.obj("studentSectionAssociationReference", |r| {
            cal.put_day(r, "beginDate", begin);
            key.members(r);
            r.str("studentUniqueId", student);
        });
        o.str("letterGradeEarned", letter_grade(numeric));
        o.num("numericGradeEarned", numeric as f64);
    })
}

#[cfg(test)]
mod tests;
