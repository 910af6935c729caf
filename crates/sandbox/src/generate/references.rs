//! The reference objects that records make to one another: school, school year, session, student, staff, grading period, section.

use super::calendar::{Calendar, PeriodDef, SessionDef, SCHOOL_YEAR};
use super::json::Obj;

/// `schoolReference`.
pub(super) fn school_ref(o: &mut Obj<'_>, school_id: i64) {
    o.obj("schoolReference", |r| r.int("schoolId", school_id));
}

/// A reference `key` to a `schoolYearType`.
pub(super) fn school_year_ref(o: &mut Obj<'_>, key: &str, year: i64) {
    o.obj(key, |r| r.int("schoolYear", year));
}

/// `sessionReference` to a semester of the school.
pub(super) fn session_ref(o: &mut Obj<'_>, school_id: i64, session: &SessionDef) {
    o.obj("sessionReference", |r| {
        r.int("schoolId", school_id);
        r.int("schoolYear", SCHOOL_YEAR);
        r.str("sessionName", session.name);
    });
}

/// `studentReference`.
pub(super) fn student_ref(o: &mut Obj<'_>, unique_id: &str) {
    o.obj("studentReference", |r| r.str("studentUniqueId", unique_id));
}

/// `staffReference`.
pub(super) fn staff_ref(o: &mut Obj<'_>, unique_id: &str) {
    o.obj("staffReference", |r| r.str("staffUniqueId", unique_id));
}

/// `gradingPeriodReference` to a grading period of the school.
pub(super) fn grading_period_ref(o: &mut Obj<'_>, school_id: i64, period: &PeriodDef) {
    o.obj("gradingPeriodReference", |r| {
        r.desc(
            "gradingPeriodDescriptor",
            "GradingPeriod",
            period.descriptor,
        );
        r.str("gradingPeriodName", period.name);
        r.int("schoolId", school_id);
        r.int("schoolYear", SCHOOL_YEAR);
    });
}

/// The identity of a section.
pub(super) struct SectionKey<'a> {
    pub(super) local_course_code: &'a str,
    pub(super) school_id: i64,
    pub(super) session_name: &'a str,
    pub(super) section_identifier: &'a str,
}

impl SectionKey<'_> {
    /// Writes the section's identity as members of the reference `r`.
    pub(super) fn members(&self, r: &mut Obj<'_>) {
        r.str("localCourseCode", self.local_course_code);
        r.int("schoolId", self.school_id);
        r.int("schoolYear", SCHOOL_YEAR);
        r.str("sectionIdentifier", self.section_identifier);
        r.str("sessionName", self.session_name);
    }
}

/// The identity of a student section association: the student, the section,
/// and the index in `Calendar::days` of the first day in it.
pub(super) struct StudentSectionKey<'a> {
    pub(super) begin: usize,
    pub(super) section: SectionKey<'a>,
    pub(super) student: &'a str,
}

impl StudentSectionKey<'_> {
    /// Writes the association's identity as members of the reference `r`.
    pub(super) fn members(&self, cal: &Calendar, r: &mut Obj<'_>) {
        cal.put_day(r, "beginDate", self.begin);
        self.section.members(r);
        r.str("studentUniqueId", self.student);
    }
}
