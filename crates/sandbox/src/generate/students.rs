//! Writer of a school's students: each one's record, enrollment, attendance events, sections and grades.

use anyhow::Result;
use chrono::{Duration, NaiveDate};
use rand::rngs::SmallRng;
use rand::Rng;

use super::calendar::{random_date, ymd, Calendar, PeriodDef, SessionDef, SCHOOL_YEAR};
use super::catalog::{Catalog, GRADE_LEVELS};
use super::names::{pick, FEMALE_NAMES, LAST_NAMES, MALE_NAMES, MEXICAN_CITIES, TEXAS_CITIES};
use super::plan::SchoolPlan;
use super::references::{
    grading_period_ref, school_ref, school_year_ref, session_ref, student_ref, SectionKey,
    StudentSectionKey,
};
use super::schedule::Schedule;
use super::sink::{Out, ATTENDANCE, GRADES, STUDENTS, STUDENT_SCHOOLS, STUDENT_SECTIONS};

const FIRST_STUDENT_ID: usize = 600_001;

const ATTENDANCE_REASONS: [&str; 5] = [
    "Illness",
    "Medical appointment",
    "Family emergency",
    "Religious observance",
    "Bereavement",
];

/// A school as its students are written: what their records refer to.
struct School<'a> {
    id: i64,
    cal: &'a Calendar,
    catalog: &'a Catalog,
    schedule: &'a Schedule,
}

/// Writes the school's students and everything about them: enrollment,
/// attendance events, sections and grades.
pub(super) fn write_students(
    out: &mut Out,
    s: &SchoolPlan,
    cal: &Calendar,
    catalog: &Catalog,
    schedule: &Schedule,
    rng: &mut SmallRng,
) -> Result<()> {
    let school = School {
        id: s.id,
        cal,
        catalog,
        schedule,
    };
    let grades: Vec<usize> = s.band.grades().collect();
    let mut event_days: Vec<usize> = Vec::with_capacity(32);
    for (j, number) in s.students.clone().enumerate() {
        let uid = (FIRST_STUDENT_ID + number).to_string();
        let grade = grades[j % grades.len()];
        let person = Person::draw(grade, rng);
        write_student(out, &uid, &person)?;
        let stay = Enrollment::draw(cal, rng);
        write_enrollment(out, &school, &uid, grade, person.retained, &stay)?;
        write_attendance(out, &school, &uid, &stay, &mut event_days, rng)?;
        write_sections_and_grades(out, &school, &uid, j, &stay, rng)?;
    }
    Ok(())
}

/// A student, as drawn.
struct Person {
    female: bool,
    first: &'static str,
    middle: Option<&'static str>,
    last: &'static str,
    suffix: Option<&'static str>,
    /// Repeats the grade (and is a year older).
    retained: bool,
    birth: NaiveDate,
    /// Born in Mexico rather than in Texas.
    abroad: bool,
    birth_city: &'static str,
    entered_us: Option<NaiveDate>,
}

impl Person {
    /// Draws a student of grade `grade` (index in `GRADE_LEVELS`).
    fn draw(grade: usize, rng: &mut SmallRng) -> Person {
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
        Person {
            female,
            first,
            middle,
            last,
            suffix,
            retained,
            birth,
            abroad,
            birth_city,
            entered_us,
        }
    }
}

/// The `students` record.
fn write_student(out: &mut Out, uid: &str, p: &Person) -> Result<()> {
    out.emit(STUDENTS, |o| {
        o.str("studentUniqueId", uid);
        o.str("birthCity", p.birth_city);
        o.desc(
            "birthCountryDescriptor",
            "Country",
            if p.abroad { "MX" } else { "US" },
        );
        o.date("birthDate", p.birth);
        o.desc(
            "birthSexDescriptor",
            "Sex",
            if p.female { "Female" } else { "Male" },
        );
        if !p.abroad {
            o.desc(
                "birthStateAbbreviationDescriptor",
                "StateAbbreviation",
                "TX",
            );
        }
        if let Some(d) = p.entered_us {
            o.date("dateEnteredUS", d);
        }
        o.str("firstName", p.first);
        if let Some(g) = p.suffix {
            o.str("generationCodeSuffix", g);
        }
        o.str("lastSurname", p.last);
        if let Some(m) = p.middle {
            o.str("middleName", m);
        }
    })
}

/// A student's enrollment at the school, as drawn: a few enter late in the
/// fall, a few leave in the spring.
struct Enrollment {
    /// Index in `Calendar::days` of the first day enrolled.
    entry: usize,
    /// Index in `Calendar::days` of the withdrawal, if any.
    exit: Option<usize>,
    /// Index in `Calendar::days` of the last day enrolled.
    last_day: usize,
    /// ResidencyStatusDescriptor code.
    residency: &'static str,
}

impl Enrollment {
    fn draw(cal: &Calendar, rng: &mut SmallRng) -> Enrollment {
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
        let last_day = exit.unwrap_or(cal.days.len() - 1);
        let residency = if rng.gen_bool(0.95) {
            "Resident of admin unit and school area"
        } else {
            "Resident of admin unit, but other school area"
        };
        Enrollment {
            entry,
            exit,
            last_day,
            residency,
        }
    }
}

/// The `studentSchoolAssociations` record.
fn write_enrollment(
    out: &mut Out,
    school: &School<'_>,
    uid: &str,
    grade: usize,
    retained: bool,
    stay: &Enrollment,
) -> Result<()> {
    let cal = school.cal;
    out.emit(STUDENT_SCHOOLS, |o| {
        cal.put_day(o, "entryDate", stay.entry);
        school_ref(o, school.id);
        school_year_ref(o, "schoolYearTypeReference", SCHOOL_YEAR);
        student_ref(o, uid);
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
        if stay.entry != cal.sessions[0].first {
            o.desc("entryTypeDescriptor", "EntryType", "Transfer");
        }
        if let Some(x) = stay.exit {
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
        o.desc(
            "residencyStatusDescriptor",
            "ResidencyStatus",
            stay.residency,
        );
    })
}

/// Attendance events on distinct school days of the enrollment: a few
/// absences, tardies and early departures, many for the chronically absent.
/// `event_days` is scratch space, kept from one student to the next.
fn write_attendance(
    out: &mut Out,
    school: &School<'_>,
    uid: &str,
    stay: &Enrollment,
    event_days: &mut Vec<usize>,
    rng: &mut SmallRng,
) -> Result<()> {
    let cal = school.cal;
    let mut m = rng.gen_range(0..=4) + rng.gen_range(0..=4);
    if rng.gen_bool(0.08) {
        m += rng.gen_range(8..=18); // chronically absent
    }
    let enrolled = stay.last_day + 1 - stay.entry;
    m = m.min(enrolled);
    event_days.clear();
    while event_days.len() < m {
        let d = rng.gen_range(stay.entry..=stay.last_day);
        if !event_days.contains(&d) {
            event_days.push(d);
        }
    }
    event_days.sort_unstable();
    for &d in event_days.iter() {
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
            school_ref(o, school.id);
            session_ref(o, school.id, session);
            student_ref(o, uid);
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
    Ok(())
}

/// The student's five sections a semester (student `j` of the school), each
/// with its grades; grades follow the student's drawn ability.
fn write_sections_and_grades(
    out: &mut Out,
    school: &School<'_>,
    uid: &str,
    j: usize,
    stay: &Enrollment,
    rng: &mut SmallRng,
) -> Result<()> {
    let cal = school.cal;
    let ability = 82.0 + 8.0 * normal(rng);
    for (t, session) in cal.sessions.iter().enumerate() {
        let begin = if t == 0 { stay.entry } else { session.first };
        let end = if t == 1 { stay.last_day } else { session.last };
        for (slot, (offering, section)) in school.schedule.sections_of(t, j).enumerate() {
            let seat = StudentSectionKey {
                begin,
                section: SectionKey {
                    local_course_code: &school.catalog.courses[offering.course].code,
                    school_id: school.id,
                    session_name: session.name,
                    section_identifier: section,
                },
                student: uid,
            };
            out.emit(STUDENT_SECTIONS, |o| {
                cal.put_day(o, "beginDate", begin);
                o.obj("sectionReference", |r| seat.section.members(r));
                student_ref(o, uid);
                cal.put_day(o, "endDate", end);
                o.bool("homeroomIndicator", slot == 0);
            })?;
            let section_level = ability + 4.0 * normal(rng);
            write_grades(out, cal, &seat, session, stay.last_day, section_level, rng)?;
        }
    }
    Ok(())
}

/// The grades of one section: one for each of the semester's grading periods
/// that ended before `last_day`, and a final grade when both did.
fn write_grades(
    out: &mut Out,
    cal: &Calendar,
    seat: &StudentSectionKey<'_>,
    session: &SessionDef,
    last_day: usize,
    section_level: f64,
    rng: &mut SmallRng,
) -> Result<()> {
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
        write_grade(out, cal, seat, period, "Grading Period", n)?;
    }
    if earned.len() == 2 {
        let final_grade = (earned.iter().sum::<i64>() as f64 / 2.0).round() as i64;
        let period = &cal.periods[session.periods[1]];
        write_grade(out, cal, seat, period, "Final", final_grade)?;
    }
    Ok(())
}

/// One `grades` record.
fn write_grade(
    out: &mut Out,
    cal: &Calendar,
    seat: &StudentSectionKey<'_>,
    period: &PeriodDef,
    grade_type: &str,
    numeric: i64,
) -> Result<()> {
    out.emit(GRADES, |o| {
        o.desc("gradeTypeDescriptor", "GradeType", grade_type);
        grading_period_ref(o, seat.section.school_id, period);
        o.obj("studentSectionAssociationReference", |r| {
            seat.members(cal, r)
        });
        o.str("letterGradeEarned", letter_grade(numeric));
        o.num("numericGradeEarned", numeric as f64);
    })
}

fn letter_grade(n: i64) -> &'static str {
    match n {
        90.. => "A",
        80..=89 => "B",
        70..=79 => "C",
        60..=69 => "D",
        _ => "F",
    }
}

/// A standard normal deviate (Irwin-Hall approximation, good enough here).
fn normal(rng: &mut SmallRng) -> f64 {
    let s: f64 = (0..4).map(|_| rng.gen::<f64>()).sum();
    (s - 2.0) * 3f64.sqrt()
}
