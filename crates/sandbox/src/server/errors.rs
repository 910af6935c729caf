//! The bodies of error responses, in both styles: the problem details
//! (`application/problem+json`) of ODS/API 7.2+ and the `{"message": ...}` of ODS/API up to
//! 7.1, for every [`ApiError`] and for a failed bearer check.

use crate::store::{ApiError, ErrorStyle, CALLER_EDUCATION_ORGANIZATION_ID};
use axum::body::Body;
use axum::http::{header, Response, StatusCode};
use axum::response::IntoResponse;
use serde_json::{json, Value};

/// The response of an [`ApiError`] in `style`.
pub(super) fn api_error(style: ErrorStyle, e: &ApiError) -> Response<Body> {
    if style == ErrorStyle::V71 {
        return match e {
            ApiError::Validation(m) => {
                let ms: serde_json::Map<String, Value> = m
                    .iter()
                    .map(|(k, v)| (format!("request{}", k.trim_start_matches('$')), json!(v)))
                    .collect();
                message(
                    StatusCode::BAD_REQUEST,
                    "The request is invalid.",
                    Some(Value::Object(ms)),
                )
            }
            other => {
                let (status, text) = older_message(other);
                message(status, &text, None)
            }
        };
    }
    let (status, typ, title, detail, extra) = problem_parts(e);
    problem(status, &typ, title, &detail, extra)
}

/// The 401 of a data request without a valid bearer token; `why` is told in the 7.2 style only.
pub(super) fn unauthorized(style: ErrorStyle, why: &str) -> Response<Body> {
    if style == ErrorStyle::V72 {
        problem(
            StatusCode::UNAUTHORIZED,
            "urn:ed-fi:api:security:authentication",
            "Authentication Failed",
            "The caller could not be authenticated.",
            Some(("errors", json!([why]))),
        )
    } else {
        message(
            StatusCode::UNAUTHORIZED,
            "Authorization has been denied for this request.",
            None,
        )
    }
}

/// A problem-details body (7.2+ style), with one extra member such as `validationErrors`.
pub(super) fn problem(
    status: StatusCode,
    typ: &str,
    title: &str,
    detail: &str,
    extra: Option<(&str, Value)>,
) -> Response<Body> {
    let mut body = serde_json::Map::new();
    body.insert("detail".into(), json!(detail));
    body.insert("type".into(), json!(typ));
    body.insert("title".into(), json!(title));
    body.insert("status".into(), json!(status.as_u16()));
    body.insert(
        "correlationId".into(),
        json!(uuid::Uuid::new_v4().to_string()),
    );
    if let Some((k, v)) = extra {
        body.insert(k.into(), v);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        Value::Object(body).to_string(),
    )
        .into_response()
}

/// A `{"message": ...}` body (7.1 style), with its `modelState` when given.
pub(super) fn message(status: StatusCode, msg: &str, model_state: Option<Value>) -> Response<Body> {
    let mut body = json!({ "message": msg });
    if let Some(ms) = model_state {
        body["modelState"] = ms;
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Status, type, title, detail and extra member of the ODS/API 7.2+ problem details for an error.
fn problem_parts(
    e: &ApiError,
) -> (
    StatusCode,
    String,
    &'static str,
    String,
    Option<(&'static str, Value)>,
) {
    const VALIDATION: &str = "urn:ed-fi:api:bad-request:data-validation-failed";
    match e {
        ApiError::Validation(m) => (
            StatusCode::BAD_REQUEST,
            VALIDATION.into(),
            "Data Validation Failed",
            "Data validation failed. See 'validationErrors' for details.".into(),
            Some(("validationErrors", json!(m))),
        ),
        ApiError::BadRequest { detail, errors } => (
            StatusCode::BAD_REQUEST,
            "urn:ed-fi:api:bad-request".into(),
            "Bad Request",
            detail.clone(),
            (!errors.is_empty()).then(|| ("errors", json!(errors))),
        ),
        ApiError::Parameter(msg) => (
            StatusCode::BAD_REQUEST,
            "urn:ed-fi:api:bad-request:parameter-validation-failed".into(),
            "Parameter Validation Failed",
            "The request construction was invalid.".into(),
            Some(("errors", json!([msg]))),
        ),
        ApiError::ParametersInvalid(msgs) => (
            StatusCode::BAD_REQUEST,
            "urn:ed-fi:api:bad-request:parameter-validation-failed".into(),
            "Parameter Validation Failed",
            "Parameters supplied to the request were invalid.".into(),
            Some(("errors", json!(msgs))),
        ),
        ApiError::IdInBody => (
            StatusCode::BAD_REQUEST,
            VALIDATION.into(),
            "Data Validation Failed",
            "The request data was constructed incorrectly.".into(),
            Some(("errors", json!([ID_IN_BODY]))),
        ),
        ApiError::UnknownResource => (
            StatusCode::NOT_FOUND,
            "urn:ed-fi:api:not-found".into(),
            "Not Found",
            "The specified data could not be found.".into(),
            None,
        ),
        ApiError::NotFound { .. } => (
            StatusCode::NOT_FOUND,
            "urn:ed-fi:api:not-found".into(),
            "Not Found",
            "The specified item could not be found.".into(),
            None,
        ),
        ApiError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            "urn:ed-fi:api:method-not-allowed".into(),
            "Method Not Allowed",
            "The request construction was invalid.".into(),
            None,
        ),
        ApiError::UnresolvedReference { resource } => (
            StatusCode::CONFLICT,
            "urn:ed-fi:api:data-conflict:unresolved-reference".into(),
            "Unresolved Reference",
            format!("The referenced '{resource}' item does not exist."),
            None,
        ),
        // 7.2+ reports unknown descriptor values as validation errors; kept for completeness
        ApiError::UnresolvedDescriptor { path, descriptor, value } => (
            StatusCode::BAD_REQUEST,
            VALIDATION.into(),
            "Data Validation Failed",
            "Data validation failed. See 'validationErrors' for details.".into(),
            Some(("validationErrors", json!({ path.clone(): [format!("{descriptor} value '{value}' does not exist.")] }))),
        ),
        ApiError::DependentItemExists { entity } => (
            StatusCode::CONFLICT,
            "urn:ed-fi:api:data-conflict:dependent-item-exists".into(),
            "Dependent Item Exists",
            format!("The requested action cannot be performed because this item is referenced by an existing '{entity}' item."),
            None,
        ),
        ApiError::OptimisticLock => (
            StatusCode::PRECONDITION_FAILED,
            "urn:ed-fi:api:optimistic-lock-failed".into(),
            "Optimistic Lock Failed",
            "The item has been modified by another user.".into(),
            None,
        ),
        ApiError::Profile { status, urn, title, detail, error } => (
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            format!("urn:ed-fi:api:{urn}"),
            title,
            detail.clone(),
            Some(("errors", json!([error]))),
        ),
        ApiError::NoRelationship { property, hint } => (
            StatusCode::FORBIDDEN,
            "urn:ed-fi:api:security:authorization".into(),
            "Authorization Denied",
            format!("Access to the requested data could not be authorized. Hint: {hint}"),
            Some(("errors", json!([no_relationships(property)]))),
        ),
    }
}

/// The ODS's words for a person not related to the caller, naming the property (`StudentUniqueId`).
fn no_relationships(property: &str) -> String {
    format!(
        "No relationships have been established between the caller's education organization id claim ({CALLER_EDUCATION_ORGANIZATION_ID}) and the resource item's '{property}' value."
    )
}

const ID_IN_BODY: &str =
    "Resource identifiers cannot be assigned by the client. The 'id' property should not be included in the request body.";

/// Status and `message` of the ODS/API up to 7.1 for an error (validation has its modelState).
fn older_message(e: &ApiError) -> (StatusCode, String) {
    match e {
        ApiError::Validation(_) => (StatusCode::BAD_REQUEST, "The request is invalid.".into()),
        ApiError::BadRequest { detail, errors } => {
            (StatusCode::BAD_REQUEST, if errors.is_empty() { detail.clone() } else { errors.join(" ") })
        }
        ApiError::Parameter(msg) => (StatusCode::BAD_REQUEST, msg.clone()),
        ApiError::ParametersInvalid(msgs) => (StatusCode::BAD_REQUEST, msgs.join(" ")),
        ApiError::IdInBody => (StatusCode::BAD_REQUEST, ID_IN_BODY.into()),
        ApiError::UnknownResource => (StatusCode::NOT_FOUND, "The specified data could not be found.".into()),
        ApiError::NotFound { entity } => (
            StatusCode::NOT_FOUND,
            format!("Entity of type '{entity}' with the specified id was not found."),
        ),
        ApiError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            "The requested resource does not support this method.".into(),
        ),
        ApiError::UnresolvedReference { resource: name } | ApiError::UnresolvedDescriptor { descriptor: name, .. } => (
            StatusCode::CONFLICT,
            format!("The value supplied for the related '{name}' resource does not exist."),
        ),
        ApiError::DependentItemExists { entity } => (
            StatusCode::CONFLICT,
            format!("The resource (or a subordinate entity of the resource) cannot be deleted because it is a dependency of the '{entity}' entity."),
        ),
        ApiError::OptimisticLock => (StatusCode::PRECONDITION_FAILED, "Resource was modified by another consumer.".into()),
        ApiError::NoRelationship { property, .. } => {
            (StatusCode::FORBIDDEN, format!("Authorization denied. {}", no_relationships(property)))
        }
        ApiError::Profile { status, error, .. } => {
            (StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST), error.clone())
        }
    }
}
