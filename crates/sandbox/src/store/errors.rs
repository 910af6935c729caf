//! What a data request can end in besides success ([`ApiError`]), and which generation of
//! ODS/API error bodies the server renders it as ([`ErrorStyle`]). The bodies themselves are
//! the server's business (`server/errors.rs`).

use std::collections::BTreeMap;

/// Which generation of ODS/API error bodies to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// ODS/API 7.2+: RFC 9457 problem details.
    V72,
    /// ODS/API up to 7.1: `{"message": ...}`.
    V71,
}

/// An error outcome of a data request, rendered by the server in the configured style.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400 data validation: JSON path → messages.
    Validation(BTreeMap<String, Vec<String>>),
    /// 400 bad request with `errors`.
    BadRequest { detail: String, errors: Vec<String> },
    /// 400 parameter validation.
    Parameter(String),
    /// 400 parameter validation of the Change Queries routes (`/deletes`, `/keyChanges`),
    /// which the ODS words differently and reports all at once.
    ParametersInvalid(Vec<String>),
    /// 400 id in POST body.
    IdInBody,
    /// 404 unknown resource route.
    UnknownResource,
    /// 404 unknown id.
    NotFound { entity: String },
    /// 405
    MethodNotAllowed,
    /// 409 unresolved reference to `resource` (PascalCase, e.g. `School`).
    UnresolvedReference { resource: String },
    /// 409 unknown descriptor value, pre-7.2 (7.2+ reports it as a 400 validation error).
    UnresolvedDescriptor {
        path: String,
        descriptor: String,
        value: String,
    },
    /// 409 delete while referenced by an `entity`.
    DependentItemExists { entity: String },
    /// 412
    OptimisticLock,
    /// 403 of `--relationship-auth`: the person named by `property` (`StudentUniqueId`) is not
    /// related to the caller; `hint` is the ODS's advice (which association to create).
    NoRelationship {
        property: &'static str,
        hint: &'static str,
    },
    /// A refusal of the ODS/API's profiles (data policies): its status, its problem type after
    /// `urn:ed-fi:api:`, title, detail and its one error (the `message` before 7.2).
    Profile {
        status: u16,
        urn: &'static str,
        title: &'static str,
        detail: String,
        error: String,
    },
}

impl ApiError {
    /// A data validation error of one message at one JSON path (`$`, `$.id`, ...).
    pub fn validation(path: &str, message: String) -> ApiError {
        ApiError::Validation(BTreeMap::from([(path.to_string(), vec![message])]))
    }

    /// The validation error of a body that is not a JSON object.
    pub fn not_an_object() -> ApiError {
        ApiError::validation("$", "The request body must be a JSON object.".to_string())
    }
}
