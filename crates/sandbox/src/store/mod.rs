//! The sandbox's data: records of every endpoint, upsert by identity, reference and descriptor
//! checks, queries with paging and filters, delete with dependency checks. No HTTP here.
//!
//! Where each part lives:
//! - `errors.rs`: what a data request can end in ([`ApiError`]) and the error style.
//! - `schema.rs`: what the API knows ([`Api`]) and the checks that need no stored data.
//! - `keys.rs`: identity and reference keys, by which records are found.
//! - `records.rs`: the records of one database ([`Store`]), their indexes, and DELETE.
//! - `descriptors.rs`, `references.rs`: the checks of a POST against stored data;
//!   `relationships.rs`: the relationship-based authorization of `--relationship-auth`.
//! - `upsert.rs`: POST and PUT: their checks in order, then a new or replaced record.
//! - `query.rs`: GET by id and of a collection ([`Query`]), records as the API returns them.
//! - `changes.rs`: Change Queries: the change version window ([`ChangeWindow`]) and `/deletes`.

mod changes;
mod descriptors;
mod errors;
mod keys;
mod query;
mod records;
mod references;
mod relationships;
mod schema;
mod upsert;

pub use changes::ChangeWindow;
pub use errors::{ApiError, ErrorStyle};
pub use query::Query;
pub use records::{EndpointData, Record, Store};
pub use relationships::CALLER_EDUCATION_ORGANIZATION_ID;
pub use schema::Api;
pub use upsert::Upserted;

#[cfg(test)]
mod tests {
    use super::*;
    use lightbeam_core::api::openapi::{Document, Model};
    use serde_json::json;

    /// The API of two OpenAPI documents of `shared/edfi/openapi`.
    pub(super) fn api_of(resources: &str, descriptors: &str) -> Api {
        let load = |name: &str| {
            let p = format!(
                "{}/../../../shared/edfi/openapi/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            Document::new(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
                .unwrap()
        };
        Api::new(
            Model::new(vec![load(resources), load(descriptors)]),
            ErrorStyle::V72,
        )
    }

    fn api() -> Api {
        api_of(
            "odsapi-7.x_resources_openapi3_ds5.0.json",
            "odsapi-7.x_descriptors_openapi3_ds5.0.json",
        )
    }

    #[test]
    fn upsert_reference_descriptor_delete() {
        let api = api();
        let mut s = Store::new(&api);
        let ep = |n: &str| api.model.find("ed-fi", n).unwrap();
        let d = json!({"codeValue": "Ninth grade", "namespace": "uri://ed-fi.org/GradeLevelDescriptor", "shortDescription": "Ninth grade"});
        assert!(
            s.upsert(&api, ep("gradeLevelDescriptors"), d.clone())
                .unwrap()
                .created
        );
        assert!(
            !s.upsert(&api, ep("gradeLevelDescriptors"), d)
                .unwrap()
                .created
        );
        let st = json!({"studentUniqueId": "604822", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B"});
        let created = s.upsert(&api, ep("students"), st).unwrap();
        // reference to a school that does not exist
        let ssa = json!({"entryDate": "2023-08-23", "entryGradeLevelDescriptor": "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade",
            "schoolReference": {"schoolId": 255901001}, "studentReference": {"studentUniqueId": "604822"}});
        assert_eq!(
            s.upsert(&api, ep("studentSchoolAssociations"), ssa)
                .unwrap_err(),
            ApiError::UnresolvedReference {
                resource: "School".into()
            }
        );
        let bad = json!({"studentUniqueId": "x", "birthDate": "2010-01-01", "firstName": "A", "lastSurname": "B", "birthCountryDescriptor": "00"});
        match s.upsert(&api, ep("students"), bad).unwrap_err() {
            ApiError::Validation(m) => {
                assert!(m["$.birthCountryDescriptor"][0].contains("is not a valid value"))
            }
            e => panic!("{e:?}"),
        }
        let missing = json!({"studentUniqueId": "x", "firstName": "A"});
        match s.upsert(&api, ep("students"), missing).unwrap_err() {
            ApiError::Validation(m) => {
                assert_eq!(m["$.lastSurname"], vec!["LastSurname is required."])
            }
            e => panic!("{e:?}"),
        }
        let (items, total) = s.list(
            &api,
            ep("students"),
            &Query {
                offset: 0,
                limit: 25,
                filters: vec![("StudentUniqueId".into(), "604822".into())],
                ..Query::default()
            },
        );
        assert_eq!((items.len(), total), (1, 1));
        s.delete(&api, ep("students"), &created.id).unwrap();
        assert_eq!(s.count(ep("students")), 0);
    }
}
