//! Writer of a school's master schedule: course offerings, their sections, and each section's teacher of record.

use anyhow::Result;

use super::calendar::{Calendar, SessionDef, SCHOOL_YEAR};
use super::catalog::{Catalog, Course, ELECTIVE_CHOICES, GRADE_LEVELS};
use super::plan::SchoolPlan;
use super::references::{school_ref, session_ref, staff_ref, SectionKey};
use super::sink::{Out, COURSE_OFFERINGS, SECTIONS, STAFF_SECTIONS};

/// Students in a section, at most.
pub(super) const CLASS_SIZE: usize = 25;

/// One course offered in one session of a school.
pub(super) struct Offering {
    /// Index in `Catalog::courses`.
    pub(super) course: usize,
    /// Section identifiers (as many as the enrolled students need).
    pub(super) sections: Vec<String>,
}

/// Per session, the offerings: first 4 per grade of the band (core subjects,
/// grade-major), then the 3 electives of the band.
pub(super) struct Schedule {
    sessions: [Vec<Offering>; 2],
    /// Number of grades of the school's band.
    grades: usize,
}

impl Schedule {
    /// The offering and section identifier of the five sections that student
    /// `j` of the school takes in session `t`: the four core courses of the
    /// student's grade, then elective `(j + t) % 3`; students are spread
    /// round-robin over the sections of each course.
    pub(super) fn sections_of(
        &self,
        t: usize,
        j: usize,
    ) -> impl Iterator<Item = (&Offering, &str)> + '_ {
        let offerings = &self.sessions[t];
        let (gi, p) = (j % self.grades, j / self.grades);
        let core = (0..4).map(move |k| (gi * 4 + k, p + k));
        let elective = (
            self.grades * 4 + (j + t) % ELECTIVE_CHOICES,
            j / ELECTIVE_CHOICES,
        );
        core.chain(std::iter::once(elective)).map(move |(o, n)| {
            let offering = &offerings[o];
            (
                offering,
                offering.sections[n % offering.sections.len()].as_str(),
            )
        })
    }
}

/// Writes the school's offerings and sections, each section with a teacher
/// of record among `teachers`; returns the schedule that students are placed in.
pub(super) fn write_schedule(
    out: &mut Out,
    s: &SchoolPlan,
    cal: &Calendar,
    catalog: &Catalog,
    teachers: &[String],
) -> Result<Schedule> {
    let mut sessions: [Vec<Offering>; 2] = [Vec::new(), Vec::new()];
    let grades = s.band.grades().count();
    for (t, session) in cal.sessions.iter().enumerate() {
        let wanted = students_per_course(s, catalog, t);
        let total_sections: usize = wanted.iter().map(|&(_, n)| n.div_ceil(CLASS_SIZE)).sum();
        let term_code = if t == 0 { "FA" } else { "SP" };
        let mut ordinal = 0;
        for (c, n) in wanted {
            let course = &catalog.courses[c];
            let n_sections = n.div_ceil(CLASS_SIZE);
            let mut ids = Vec::with_capacity(n_sections);
            if n_sections > 0 {
                write_offering(out, s.id, session, course)?;
            }
            for k in 0..n_sections {
                let id = format!("{}-{}-{term_code}-{:02}", s.id, course.code, k + 1);
                let key = SectionKey {
                    local_course_code: &course.code,
                    school_id: s.id,
                    session_name: session.name,
                    section_identifier: &id,
                };
                write_section(out, &key, course, t, k)?;
                // teachers get consecutive sections: mostly one course each
                let teacher = &teachers[ordinal * teachers.len() / total_sections];
                ordinal += 1;
                write_teacher_of_record(out, cal, session, &key, teacher)?;
                ids.push(id);
            }
            sessions[t].push(Offering {
                course: c,
                sections: ids,
            });
        }
    }
    Ok(Schedule { sessions, grades })
}

/// `(course, students taking it)` in session `t`, in the order of `Schedule`:
/// every student takes the four core courses of their grade and one elective.
fn students_per_course(s: &SchoolPlan, catalog: &Catalog, t: usize) -> Vec<(usize, usize)> {
    let grades: Vec<usize> = s.band.grades().collect();
    let g_count = grades.len();
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    for (gi, &g) in grades.iter().enumerate() {
        let n = count_residue(s.students.len(), g_count, gi);
        for &c in &catalog.core[g] {
            wanted.push((c, n));
        }
    }
    for (e, &c) in catalog.electives[s.band.idx()].iter().enumerate() {
        // a student j takes elective (j + t) % 3 in session t
        let r = (e + ELECTIVE_CHOICES - t) % ELECTIVE_CHOICES;
        wanted.push((c, count_residue(s.students.len(), ELECTIVE_CHOICES, r)));
    }
    wanted
}

/// Number of `j` in `0..n` with `j % m == r`.
fn count_residue(n: usize, m: usize, r: usize) -> usize {
    if n > r {
        (n - r - 1) / m + 1
    } else {
        0
    }
}

/// The `courseOfferings` record of `course` in `session`.
fn write_offering(
    out: &mut Out,
    school_id: i64,
    session: &SessionDef,
    course: &Course,
) -> Result<()> {
    out.emit(COURSE_OFFERINGS, |o| {
        o.str("localCourseCode", &course.code);
        o.obj("courseReference", |r| {
            r.str("courseCode", &course.code);
            r.int("educationOrganizationId", school_id);
        });
        school_ref(o, school_id);
        session_ref(o, school_id, session);
        o.str("localCourseTitle", &course.title);
        o.desc_list(
            "offeredGradeLevels",
            "gradeLevelDescriptor",
            "GradeLevel",
            &course.grade_levels(),
        );
    })
}

/// The `sections` record of section `key`, the `k`th of `course` in session `t`.
fn write_section(
    out: &mut Out,
    key: &SectionKey<'_>,
    course: &Course,
    t: usize,
    k: usize,
) -> Result<()> {
    out.emit(SECTIONS, |o| {
        o.str("sectionIdentifier", key.section_identifier);
        o.obj("courseOfferingReference", |r| {
            r.str("localCourseCode", key.local_course_code);
            r.int("schoolId", key.school_id);
            r.int("schoolYear", SCHOOL_YEAR);
            r.str("sessionName", key.session_name);
        });
        if course.high_school {
            o.num("availableCredits", 0.5);
            o.desc(
                "availableCreditTypeDescriptor",
                "CreditType",
                "Carnegie unit",
            );
        }
        o.desc(
            "educationalEnvironmentDescriptor",
            "EducationalEnvironment",
            "Classroom",
        );
        o.desc(
            "mediumOfInstructionDescriptor",
            "MediumOfInstruction",
            "Face-to-face instruction",
        );
        if course.core {
            o.desc_list(
                "offeredGradeLevels",
                "gradeLevelDescriptor",
                "GradeLevel",
                &[GRADE_LEVELS[course.grades[0]].0],
            );
        }
        o.desc(
            "populationServedDescriptor",
            "PopulationServed",
            "Regular Students",
        );
        o.str("sectionName", &format!("{} {:02}", course.title, k + 1));
        o.desc(
            "sectionTypeDescriptor",
            "SectionType",
            "Attendance and Credit",
        );
        o.int(
            "sequenceOfCourse",
            if course.parts == 2 { t as i64 + 1 } else { 1 },
        );
    })
}

/// The `staffSectionAssociations` record making `teacher` the section's teacher of record.
fn write_teacher_of_record(
    out: &mut Out,
    cal: &Calendar,
    session: &SessionDef,
    key: &SectionKey<'_>,
    teacher: &str,
) -> Result<()> {
    out.emit(STAFF_SECTIONS, |o| {
        cal.put_day(o, "beginDate", session.first);
        o.obj("sectionReference", |r| key.members(r));
        staff_ref(o, teacher);
        o.desc(
            "classroomPositionDescriptor",
            "ClassroomPosition",
            "Teacher of Record",
        );
        cal.put_day(o, "endDate", session.last);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_residue_counts_the_residue_class() {
        for n in 0..40 {
            for m in 1..6 {
                for r in 0..m {
                    let expected = (0..n).filter(|j| j % m == r).count();
                    assert_eq!(count_residue(n, m, r), expected, "n={n} m={m} r={r}");
                }
            }
        }
    }
}
