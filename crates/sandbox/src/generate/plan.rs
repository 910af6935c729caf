//! The plan of the district's schools: how many, which band, their names and addresses, and their share of students and staff.

use std::ops::Range;

use rand::rngs::SmallRng;
use rand::Rng;

use super::catalog::{Band, GRADE_LEVELS};
use super::names::{pick, LEA_ID, SCHOOL_NAMES, STREETS};

const STUDENTS_PER_SCHOOL: usize = 500;
const STUDENTS_PER_STAFF: usize = 15;

/// One school of the district: its identity, address, and its students and staff.
pub(super) struct SchoolPlan {
    /// `schoolId`: the LEA's id followed by the school's number.
    pub(super) id: i64,
    pub(super) band: Band,
    /// `nameOfInstitution` ("Lincoln High School") and its short form ("LHS").
    pub(super) name: String,
    pub(super) short_name: String,
    /// The street and postal code of its physical address, and its main telephone number.
    pub(super) street: String,
    pub(super) postal_code: String,
    pub(super) phone: String,
    /// A Title I schoolwide school.
    pub(super) title_i: bool,
    /// Its students, as numbers among the district's (from 0).
    pub(super) students: Range<usize>,
    /// Its staff members, as numbers among the district's (from 0).
    pub(super) staff: Range<usize>,
}

impl SchoolPlan {
    /// Staff members who do not teach: principal, counselor, and an assistant
    /// principal in larger schools.
    pub(super) fn non_teaching(&self) -> usize {
        if self.staff.len() >= 25 {
            3
        } else {
            2
        }
    }
    pub(super) fn n_teachers(&self) -> usize {
        self.staff.len() - self.non_teaching()
    }
    /// The GradeLevelDescriptor codes of the grades it serves.
    pub(super) fn grade_levels(&self) -> Vec<&'static str> {
        self.band.grades().map(|g| GRADE_LEVELS[g].0).collect()
    }
}

/// Shares `students` out among `ceil(students / 500)` schools, cycling high, middle and elementary.
pub(super) fn plan_schools(students: usize, rng: &mut SmallRng) -> Vec<SchoolPlan> {
    let n = students.div_ceil(STUDENTS_PER_SCHOOL);
    let (base, extra) = (students / n, students % n);
    let mut plans = Vec::with_capacity(n);
    let (mut first_student, mut first_staff) = (0, 0);
    for i in 0..n {
        let band = [Band::High, Band::Middle, Band::Elementary][i % 3];
        let n_students = base + usize::from(i < extra);
        let n_staff = n_students.div_ceil(STUDENTS_PER_STAFF).max(4);
        // 255950001.. while it fits the usual LEA * 1000 + n pattern
        let id = if n < 1000 {
            LEA_ID * 1000 + i as i64 + 1
        } else {
            LEA_ID * 10_000 + i as i64 + 1
        };
        let base_name = SCHOOL_NAMES[(i / 3) % SCHOOL_NAMES.len()];
        let round = i / (3 * SCHOOL_NAMES.len());
        let name = if round == 0 {
            format!("{base_name} {}", band.school_label())
        } else {
            format!("{base_name} {} {}", band.school_label(), round + 1)
        };
        let initials: String = base_name
            .split(' ')
            .filter_map(|w| w.chars().next())
            .collect();
        let short_name = if round == 0 {
            format!("{initials}{}", band.abbreviation())
        } else {
            format!("{initials}{}{}", band.abbreviation(), round + 1)
        };
        plans.push(SchoolPlan {
            id,
            band,
            name,
            short_name,
            street: format!("{} {}", rng.gen_range(100..9900), pick(rng, &STREETS)),
            postal_code: format!("786{:02}", rng.gen_range(10..70)),
            phone: format!("(512) 555-{:04}", rng.gen_range(1000..9999)),
            title_i: rng.gen_bool(0.4),
            students: first_student..first_student + n_students,
            staff: first_staff..first_staff + n_staff,
        });
        first_student += n_students;
        first_staff += n_staff;
    }
    plans
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn schools_share_out_students_and_staff_without_gaps() {
        for students in [1, 499, 500, 501, 2500, 20_001] {
            let plans = plan_schools(students, &mut SmallRng::seed_from_u64(1));
            assert_eq!(plans.len(), students.div_ceil(STUDENTS_PER_SCHOOL));
            let (mut next_student, mut next_staff) = (0, 0);
            for p in &plans {
                assert_eq!(
                    (p.students.start, p.staff.start),
                    (next_student, next_staff)
                );
                assert!(p.students.len() <= STUDENTS_PER_SCHOOL && p.n_teachers() >= 1);
                next_student = p.students.end;
                next_staff = p.staff.end;
            }
            assert_eq!(next_student, students);
            assert_eq!(plans[0].id, 255_950_001);
        }
    }
}
