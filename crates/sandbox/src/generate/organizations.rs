//! Writers of the education organizations and what they define: the LEA, its schools (with grading periods and sessions), their courses.

use anyhow::Result;

use super::calendar::{Calendar, SCHOOL_YEAR};
use super::catalog::Course;
use super::json::Obj;
use super::names::{CITY, LEA_ID, LEA_NAME, WEB};
use super::plan::SchoolPlan;
use super::references::{grading_period_ref, school_ref, school_year_ref};
use super::sink::{Out, COURSES, GRADING_PERIODS, LEAS, SCHOOLS, SESSIONS};

/// `addresses`: the one physical address of an education organization.
fn address(o: &mut Obj<'_>, street: &str, postal_code: &str) {
    o.item("addresses", |o| {
        o.desc("addressTypeDescriptor", "AddressType", "Physical");
        o.str("city", CITY);
        o.str("postalCode", postal_code);
        o.desc("stateAbbreviationDescriptor", "StateAbbreviation", "TX");
        o.str("streetNumberName", street);
        o.str("nameOfCounty", "Riverbend County");
    });
}

/// `institutionTelephones`: the one main number of an education organization.
fn telephone(o: &mut Obj<'_>, number: &str) {
    o.item("institutionTelephones", |o| {
        o.desc(
            "institutionTelephoneNumberTypeDescriptor",
            "InstitutionTelephoneNumberType",
            "Main",
        );
        o.str("telephoneNumber", number);
    });
}

/// The district itself.
pub(super) fn write_lea(out: &mut Out) -> Result<()> {
    out.emit(LEAS, |o| {
        o.int("localEducationAgencyId", LEA_ID);
        o.str("nameOfInstitution", LEA_NAME);
        o.str("shortNameOfInstitution", "Riverbend ISD");
        o.desc(
            "localEducationAgencyCategoryDescriptor",
            "LocalEducationAgencyCategory",
            "Independent",
        );
        o.desc_list(
            "categories",
            "educationOrganizationCategoryDescriptor",
            "EducationOrganizationCategory",
            &["Local Education Agency"],
        );
        address(o, "1200 River Road", "78610");
        telephone(o, "(512) 555-0100");
        o.desc(
            "charterStatusDescriptor",
            "CharterStatus",
            "Not a Charter School",
        );
        o.desc("operationalStatusDescriptor", "OperationalStatus", "Active");
        o.str("webSite", WEB);
    })
}

/// A course of the district catalog, recorded for the school that offers it
/// (as in the Grand Bend sample data).
pub(super) fn write_course(out: &mut Out, c: &Course, school_id: i64) -> Result<()> {
    out.emit(COURSES, |o| {
        o.str("courseCode", &c.code);
        o.item("identificationCodes", |o| {
            o.desc(
                "courseIdentificationSystemDescriptor",
                "CourseIdentificationSystem",
                "LEA course code",
            );
            o.str("identificationCode", &c.code);
            o.str("courseCatalogURL", "https://www.riverbendisd.org/courses");
        });
        o.obj("educationOrganizationReference", |r| {
            r.int("educationOrganizationId", school_id)
        });
        o.desc_list(
            "academicSubjects",
            "academicSubjectDescriptor",
            "AcademicSubject",
            &[c.subject],
        );
        o.desc("courseDefinedByDescriptor", "CourseDefinedBy", "LEA");
        o.str("courseDescription", &c.title);
        o.desc(
            "courseGPAApplicabilityDescriptor",
            "CourseGPAApplicability",
            if c.high_school {
                "Applicable"
            } else {
                "Not Applicable"
            },
        );
        o.str("courseTitle", &c.title);
        if c.high_school {
            o.bool("highSchoolCourseRequirement", c.core);
            let credits = if c.core { 1.0 } else { 0.5 };
            o.num("maximumAvailableCredits", credits);
            o.num("minimumAvailableCredits", credits);
        }
        if c.core {
            o.desc_list(
                "levelCharacteristics",
                "courseLevelCharacteristicDescriptor",
                "CourseLevelCharacteristic",
                &["Core Subject"],
            );
        }
        o.int("numberOfParts", c.parts);
        o.desc_list(
            "offeredGradeLevels",
            "gradeLevelDescriptor",
            "GradeLevel",
            &c.grade_levels(),
        );
    })
}

/// A school, its grading periods and its semesters.
pub(super) fn write_school(out: &mut Out, s: &SchoolPlan, cal: &Calendar) -> Result<()> {
    out.emit(SCHOOLS, |o| {
        o.int("schoolId", s.id);
        o.str("nameOfInstitution", &s.name);
        o.str("shortNameOfInstitution", &s.short_name);
        address(o, &s.street, &s.postal_code);
        o.desc(
            "administrativeFundingControlDescriptor",
            "AdministrativeFundingControl",
            "Public School",
        );
        o.desc(
            "charterStatusDescriptor",
            "CharterStatus",
            "Not a Charter School",
        );
        o.desc_list(
            "educationOrganizationCategories",
            "educationOrganizationCategoryDescriptor",
            "EducationOrganizationCategory",
            &["School"],
        );
        o.desc_list(
            "gradeLevels",
            "gradeLevelDescriptor",
            "GradeLevel",
            &s.grade_levels(),
        );
        telephone(o, &s.phone);
        o.obj("localEducationAgencyReference", |r| {
            r.int("localEducationAgencyId", LEA_ID)
        });
        o.desc("operationalStatusDescriptor", "OperationalStatus", "Active");
        o.desc_list(
            "schoolCategories",
            "schoolCategoryDescriptor",
            "SchoolCategory",
            &[s.band.school_label()],
        );
        o.desc("schoolTypeDescriptor", "SchoolType", "Regular");
        o.desc(
            "titleIPartASchoolDesignationDescriptor",
            "TitleIPartASchoolDesignation",
            if s.title_i {
                "Title I Schoolwide School"
            } else {
                "Not A Title I School"
            },
        );
        o.str(
            "webSite",
            &format!("{WEB}/{}", s.short_name.to_ascii_lowercase()),
        );
    })?;
    write_grading_periods(out, s.id, cal)?;
    write_sessions(out, s.id, cal)
}

/// The school's four grading periods.
fn write_grading_periods(out: &mut Out, school_id: i64, cal: &Calendar) -> Result<()> {
    for p in &cal.periods {
        out.emit(GRADING_PERIODS, |o| {
            o.desc("gradingPeriodDescriptor", "GradingPeriod", p.descriptor);
            o.str("gradingPeriodName", p.name);
            school_ref(o, school_id);
            school_year_ref(o, "schoolYearTypeReference", SCHOOL_YEAR);
            cal.put_day(o, "beginDate", p.first);
            cal.put_day(o, "endDate", p.last);
            o.int("periodSequence", p.sequence);
            o.int("totalInstructionalDays", (p.last - p.first + 1) as i64);
        })?;
    }
    Ok(())
}

/// The school's two semesters.
fn write_sessions(out: &mut Out, school_id: i64, cal: &Calendar) -> Result<()> {
    for session in &cal.sessions {
        out.emit(SESSIONS, |o| {
            o.str("sessionName", session.name);
            school_ref(o, school_id);
            school_year_ref(o, "schoolYearTypeReference", SCHOOL_YEAR);
            cal.put_day(o, "beginDate", session.first);
            cal.put_day(o, "endDate", session.last);
            o.arr("gradingPeriods", |a| {
                for &p in &session.periods {
                    a.obj(|o| grading_period_ref(o, school_id, &cal.periods[p]));
                }
            });
            o.desc("termDescriptor", "Term", session.term);
            o.int(
                "totalInstructionalDays",
                (session.last - session.first + 1) as i64,
            );
        })?;
    }
    Ok(())
}
