//! The ODS's relationship-based authorization as a client sending in the wrong order meets it
//! (`--relationship-auth`): a payload naming a student, staff member or contact/parent that is
//! not yet related to the caller is refused with [`ApiError::NoRelationship`]. A person is
//! related once an association that establishes the relationship references them (a student's
//! enrollment, a staff member's assignment, employment or school association, a contact's or
//! parent's association with a student). The person resources themselves and those
//! associations are always allowed. The sandbox's caller is related to every education
//! organization, so only the person can be missing.

use super::errors::ApiError;
use super::keys::ref_key_of_reference;
use super::records::Store;
use super::schema::Api;
use serde_json::{Map, Value};

/// The education organization id the sandbox's callers claim, as the ODS names it in a 403
/// (Grand Bend ISD, the LEA of the ODS's sample data and documentation).
pub const CALLER_EDUCATION_ORGANIZATION_ID: u64 = 255901;

/// A kind of person the ODS authorizes by relationship.
struct Person {
    /// The identity property payloads name it by (`studentUniqueId`).
    key: &'static str,
    /// The property as the ODS names it in a 403 (`StudentUniqueId`).
    property: &'static str,
    /// Its resource (`students`).
    resource: &'static str,
    /// The associations that relate it to the caller.
    establishing: &'static [&'static str],
    /// The ODS's hint in the `detail` of the 403 (7.2+).
    hint: &'static str,
}

/// Students (every DS), staff (every DS), contacts (DS 5.x) and parents (DS 3.x and 4.0).
const PEOPLE: [Person; 4] = [
    Person {
        key: "studentUniqueId",
        property: "StudentUniqueId",
        resource: "students",
        establishing: &["studentSchoolAssociations"],
        hint: "You may need to create a corresponding 'StudentSchoolAssociation' item.",
    },
    Person {
        key: "staffUniqueId",
        property: "StaffUniqueId",
        resource: "staffs",
        establishing: &[
            "staffEducationOrganizationAssignmentAssociations",
            "staffEducationOrganizationEmploymentAssociations",
            "staffSchoolAssociations",
        ],
        hint: "You may need to create corresponding 'StaffEducationOrganizationEmploymentAssociation' or 'StaffEducationOrganizationAssignmentAssociation' items.",
    },
    Person {
        key: "contactUniqueId",
        property: "ContactUniqueId",
        resource: "contacts",
        establishing: &["studentContactAssociations"],
        hint: "You may need to create corresponding 'StudentSchoolAssociation' and 'StudentContactAssociation' items.",
    },
    Person {
        key: "parentUniqueId",
        property: "ParentUniqueId",
        resource: "parents",
        establishing: &["studentParentAssociations"],
        hint: "You may need to create corresponding 'StudentSchoolAssociation' and 'StudentParentAssociation' items.",
    },
];

/// Whether payloads of endpoint `ep` are always allowed: not Ed-Fi's, a person resource, or an
/// association that establishes a relationship.
fn always_allowed(api: &Api, ep: usize) -> bool {
    let e = api.endpoint(ep);
    e.namespace != "ed-fi"
        || PEOPLE.iter().any(|p| {
            e.name.eq_ignore_ascii_case(p.resource)
                || p.establishing
                    .iter()
                    .any(|a| e.name.eq_ignore_ascii_case(a))
        })
}

impl Store {
    /// The relationship check of a POST or PUT body of endpoint `ep`: every person it names (a
    /// `...UniqueId` at the top level or in a reference at the top level) must be related to
    /// the caller; the first that is not is an [`ApiError::NoRelationship`].
    pub fn check_relationships(&self, api: &Api, ep: usize, body: &Value) -> Result<(), ApiError> {
        let Some(obj) = body.as_object().filter(|_| !always_allowed(api, ep)) else {
            return Ok(());
        };
        for (k, v) in obj {
            match v {
                Value::Object(reference) if k.ends_with("Reference") => {
                    for (rk, rv) in reference {
                        self.check_person(api, rk, rv)?;
                    }
                }
                _ => self.check_person(api, k, v)?,
            }
        }
        Ok(())
    }

    /// When `key` names a person (`studentUniqueId`), that the person `value` is related.
    fn check_person(&self, api: &Api, key: &str, value: &Value) -> Result<(), ApiError> {
        let Some(person) = PEOPLE.iter().find(|p| p.key == key) else {
            return Ok(());
        };
        let Some(resource) = api.model.find("ed-fi", person.resource) else {
            return Ok(());
        };
        let establishing: Vec<usize> = person
            .establishing
            .iter()
            .filter_map(|a| api.model.find("ed-fi", a))
            .collect();
        let the_person = Map::from_iter([(key.to_string(), value.clone())]);
        let related = self.endpoints[resource]
            .by_ref_key
            .get(&ref_key_of_reference(&the_person))
            .is_some_and(|&idx| {
                self.record(resource, idx)
                    .in_refs
                    .iter()
                    .any(|(from, n)| *n > 0 && establishing.contains(from))
            });
        if related {
            Ok(())
        } else {
            Err(ApiError::NoRelationship {
                property: person.property,
                hint: person.hint,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::api_of;
    use super::*;
    use serde_json::json;

    #[test]
    fn parents_of_ds40_wait_for_their_student_parent_association() {
        let api = api_of(
            "odsapi-6.1_resources_openapi3_ds4.0-tpdm.json",
            "odsapi-6.1_descriptors_openapi3_ds4.0-tpdm.json",
        );
        let mut s = Store::new(&api);
        let ep = |n: &str| api.model.find("ed-fi", n).unwrap();
        let parent = json!({"parentUniqueId": "P1", "firstName": "Grace", "lastSurname": "Hopper"});
        let student = json!({"studentUniqueId": "S1", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B"});
        for (endpoint, body) in [("parents", &parent), ("students", &student)] {
            assert_eq!(s.check_relationships(&api, ep(endpoint), body), Ok(()));
            s.upsert(&api, ep(endpoint), body.clone()).unwrap();
        }
        let response = json!({"surveyResponseIdentifier": "R1", "responseDate": "2024-01-10",
            "surveyReference": {"namespace": "uri://example.org", "surveyIdentifier": "S"},
            "parentReference": {"parentUniqueId": "P1"}});
        let refused = s.check_relationships(&api, ep("surveyResponses"), &response);
        assert!(
            matches!(refused, Err(ApiError::NoRelationship { property: "ParentUniqueId", hint }) if hint.contains("'StudentParentAssociation'")),
            "{refused:?}"
        );
        let association = json!({"parentReference": {"parentUniqueId": "P1"}, "studentReference": {"studentUniqueId": "S1"}});
        assert_eq!(
            s.check_relationships(&api, ep("studentParentAssociations"), &association),
            Ok(())
        );
        s.upsert(&api, ep("studentParentAssociations"), association)
            .unwrap();
        assert_eq!(
            s.check_relationships(&api, ep("surveyResponses"), &response),
            Ok(())
        );
        // values are compared as the ODS compares them, case-insensitively
        let other_case =
            json!({"parentReference": {"parentUniqueId": "p1"}, "surveyResponseIdentifier": "R1"});
        assert_eq!(
            s.check_relationships(&api, ep("surveyResponses"), &other_case),
            Ok(())
        );
    }
}
