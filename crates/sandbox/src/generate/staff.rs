//! Writer of a school's staff: each member's record, assignment to the school and school association.

use anyhow::Result;
use chrono::NaiveDate;
use rand::rngs::SmallRng;
use rand::Rng;

use super::calendar::{random_date, ymd, SCHOOL_YEAR};
use super::names::{pick, FEMALE_NAMES, LAST_NAMES, MAIL_DOMAIN, MALE_NAMES};
use super::plan::SchoolPlan;
use super::references::{school_ref, school_year_ref, staff_ref};
use super::sink::{Out, STAFFS, STAFF_ASSIGNMENTS, STAFF_SCHOOLS};

const FIRST_STAFF_ID: usize = 100_001;

/// Writes the school's staff, their assignments and school associations;
/// returns the unique ids of its teachers.
pub(super) fn write_staff(
    out: &mut Out,
    s: &SchoolPlan,
    rng: &mut SmallRng,
) -> Result<Vec<String>> {
    let grade_levels = s.grade_levels();
    let mut teachers = Vec::with_capacity(s.n_teachers());
    for k in 0..s.staff.len() {
        let member = StaffMember::draw(s, k, rng);
        write_member(out, &member)?;
        write_assignment(out, s.id, &member)?;
        write_school_association(out, s.id, &member, &grade_levels)?;
        if member.teacher {
            teachers.push(member.uid);
        }
    }
    Ok(teachers)
}

/// One staff member of a school, as drawn.
struct StaffMember {
    /// The number behind `uid`, also part of the member's login and e-mail address.
    number: usize,
    uid: String,
    /// StaffClassificationDescriptor code.
    classification: &'static str,
    title: &'static str,
    teacher: bool,
    female: bool,
    first: &'static str,
    middle: Option<&'static str>,
    last: &'static str,
    /// Years of prior professional (and teaching) experience.
    experience: i32,
    birth: NaiveDate,
    hired: NaiveDate,
    /// LevelOfEducationDescriptor code.
    degree: &'static str,
    race: &'static str,
    hispanic: bool,
    highly_qualified: bool,
}

impl StaffMember {
    /// Draws the `k`th staff member of school `s`: the principal, the
    /// counselor, an assistant principal in larger schools, then teachers.
    fn draw(s: &SchoolPlan, k: usize, rng: &mut SmallRng) -> StaffMember {
        let number = FIRST_STAFF_ID + s.staff.start + k;
        let (classification, title) = match k {
            0 => ("Principal", "Principal"),
            1 => ("School Counselor", "School Counselor"),
            2 if s.non_teaching() == 3 => ("Assistant Principal", "Assistant Principal"),
            _ => ("Teacher", "Teacher"),
        };
        let teacher = classification == "Teacher";
        let female = rng.gen_bool(0.7);
        let first = *pick(rng, if female { &FEMALE_NAMES } else { &MALE_NAMES });
        let middle = if rng.gen_bool(0.6) {
            Some(*pick(rng, if female { &FEMALE_NAMES } else { &MALE_NAMES }))
        } else {
            None
        };
        let last = *pick(rng, &LAST_NAMES);
        let experience: i32 = if teacher {
            rng.gen_range(0..=30)
        } else {
            rng.gen_range(8..=30)
        };
        let tenure = rng.gen_range(0..=experience.min(20));
        let birth_year = 2023 - 23 - experience - rng.gen_range(0..8);
        let birth = random_date(rng, ymd(birth_year, 1, 1), 365);
        let hired = ymd(2023 - tenure, 8, 1);
        let degree = match (k, rng.gen_range(0..10)) {
            (0..=2, 9) => "Doctorate",
            (0..=2, _) => "Master's",
            (_, 0..=5) => "Bachelor's",
            (_, 6..=8) => "Master's",
            _ => "Doctorate",
        };
        let race = match rng.gen_range(0..100) {
            0..=59 => "White",
            60..=74 => "Black or African American",
            75..=84 => "Asian",
            85..=89 => "American Indian or Alaska Native",
            90..=94 => "Other",
            _ => "Choose Not to Respond",
        };
        let hispanic = rng.gen_bool(0.3);
        let highly_qualified = rng.gen_bool(0.85);
        StaffMember {
            number,
            uid: number.to_string(),
            classification,
            title,
            teacher,
            female,
            first,
            middle,
            last,
            experience,
            birth,
            hired,
            degree,
            race,
            hispanic,
            highly_qualified,
        }
    }
}

/// Lower-case letters and digits of `s`, for logins and e-mail addresses.
fn email_part(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The `staffs` record.
fn write_member(out: &mut Out, m: &StaffMember) -> Result<()> {
    let (first, last) = (email_part(m.first), email_part(m.last));
    let number = m.number % 100_000;
    let login = format!("{}{last}{number}", &first[..1]);
    out.emit(STAFFS, |o| {
        o.str("staffUniqueId", &m.uid);
        o.date("birthDate", m.birth);
        o.item("electronicMails", |o| {
            o.str(
                "electronicMailAddress",
                &format!("{first}.{last}{number}@{MAIL_DOMAIN}"),
            );
            o.desc("electronicMailTypeDescriptor", "ElectronicMailType", "Work");
            o.bool("primaryEmailAddressIndicator", true);
        });
        o.str("firstName", m.first);
        o.desc(
            "highestCompletedLevelOfEducationDescriptor",
            "LevelOfEducation",
            m.degree,
        );
        if m.teacher {
            o.bool("highlyQualifiedTeacher", m.highly_qualified);
        }
        o.bool("hispanicLatinoEthnicity", m.hispanic);
        o.str("lastSurname", m.last);
        o.str("loginId", &login);
        if let Some(middle) = m.middle {
            o.str("middleName", middle);
        }
        o.desc_list("races", "raceDescriptor", "Race", &[m.race]);
        o.desc(
            "sexDescriptor",
            "Sex",
            if m.female { "Female" } else { "Male" },
        );
        o.num(
            "yearsOfPriorProfessionalExperience",
            f64::from(m.experience),
        );
        o.num("yearsOfPriorTeachingExperience", f64::from(m.experience));
    })
}

/// The member's assignment to the school (`staffEducationOrganizationAssignmentAssociations`).
fn write_assignment(out: &mut Out, school_id: i64, m: &StaffMember) -> Result<()> {
    out.emit(STAFF_ASSIGNMENTS, |o| {
        o.date("beginDate", m.hired);
        o.desc(
            "staffClassificationDescriptor",
            "StaffClassification",
            m.classification,
        );
        o.obj("educationOrganizationReference", |r| {
            r.int("educationOrganizationId", school_id)
        });
        staff_ref(o, &m.uid);
        o.num("fullTimeEquivalency", 1.0);
        o.int("orderOfAssignment", 1);
        o.str("positionTitle", m.title);
    })
}

/// The member's `staffSchoolAssociations` record, for all the school's grade levels.
fn write_school_association(
    out: &mut Out,
    school_id: i64,
    m: &StaffMember,
    grade_levels: &[&str],
) -> Result<()> {
    out.emit(STAFF_SCHOOLS, |o| {
        o.desc(
            "programAssignmentDescriptor",
            "ProgramAssignment",
            "Regular Education",
        );
        school_ref(o, school_id);
        school_year_ref(o, "schoolYearTypeReference", SCHOOL_YEAR);
        staff_ref(o, &m.uid);
        o.desc_list(
            "gradeLevels",
            "gradeLevelDescriptor",
            "GradeLevel",
            grade_levels,
        );
    })
}
