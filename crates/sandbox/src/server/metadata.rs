//! The unauthenticated pages around the data: discovery (`/`), the metadata listing, the
//! OpenAPI and dependencies documents (served verbatim), and the sandbox's own
//! `/_sandbox/stats`.

use super::roots::Root;
use super::state::Shared;
use crate::store::ErrorStyle;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{header, Response};
use axum::response::IntoResponse;
use serde_json::json;

/// `/`: versions, the data model and the URLs of the other parts (Change Queries among them, as
/// ODS/API 7.3 and the DMS list them), as an ODS/API tells them (or the DMS, `--dms`), below the
/// request's root (tenant and context, templates where not given).
pub(super) async fn discovery(
    State(sb): State<Shared>,
    Extension(root): Extension<Root>,
) -> Response<Body> {
    let base = root.url(&sb);
    let paths = sb.doc_paths();
    let model = json!([{"name": "Ed-Fi", "version": sb.cfg.data_model_version, "informationalVersion": format!("Ed-Fi Data Standard {}", sb.cfg.data_model_version)}]);
    if sb.cfg.dms {
        return axum::Json(json!({
            "version": "1.0.0",
            "applicationName": "Ed-Fi Alliance Data Management Service",
            "informationalVersion": "edfi-sandbox",
            "dataModels": model,
            "urls": {
                "dependencies": format!("{base}{}", paths.dependencies),
                "openApiMetadata": format!("{base}{}", paths.listing),
                "oauth": format!("{base}/oauth/token"),
                "dataManagementApi": format!("{base}/data"),
                "changeQueries": format!("{base}/changeQueries/v1/"),
                "xsdMetadata": format!("{base}/metadata/xsd"),
            }
        }))
        .into_response();
    }
    // cursor paging came with ODS/API 7.3
    let version = match sb.api.style {
        _ if sb.cfg.cursor_paging => "7.3",
        ErrorStyle::V72 => "7.2",
        ErrorStyle::V71 => "7.1",
    };
    axum::Json(json!({
        "version": version,
        "informationalVersion": version,
        "suite": "3",
        "build": format!("{version}.0.0"),
        "apiMode": "Sandbox",
        "dataModels": model,
        "urls": {
            "dependencies": format!("{base}{}", paths.dependencies),
            "openApiMetadata": format!("{base}{}/", paths.listing),
            "oauth": format!("{base}/oauth/token"),
            "dataManagementApi": format!("{base}/data/v3/"),
            "xsdMetadata": format!("{base}/metadata/xsd"),
            "changeQueries": format!("{base}/changeQueries/v1/"),
        }
    }))
    .into_response()
}

/// `/metadata` of the DMS: where its parts are.
pub(super) async fn dms_metadata(
    State(sb): State<Shared>,
    Extension(root): Extension<Root>,
) -> Response<Body> {
    let base = root.url(&sb);
    axum::Json(json!({
        "dependencies": format!("{base}{}", sb.doc_paths().dependencies),
        "specifications": format!("{base}{}", sb.doc_paths().listing),
        "xsdMetadata": format!("{base}/metadata/xsd"),
    }))
    .into_response()
}

/// The listing of the two OpenAPI documents (`/metadata` of the ODS/API, `/metadata/specifications`
/// of the DMS).
pub(super) async fn metadata_list(
    State(sb): State<Shared>,
    Extension(root): Extension<Root>,
) -> Response<Body> {
    let base = root.url(&sb);
    let paths = sb.doc_paths();
    let (resources, descriptors) = (
        format!("{base}{}", paths.resources),
        format!("{base}{}", paths.descriptors),
    );
    axum::Json(json!([
        {"name": "Resources", "endpointUri": resources, "prefix": ""},
        {"name": "Descriptors", "endpointUri": descriptors, "prefix": ""},
    ]))
    .into_response()
}

/// A JSON document served as it was read.
fn json_bytes(b: &Bytes) -> Response<Body> {
    ([(header::CONTENT_TYPE, "application/json")], b.clone()).into_response()
}

/// The resources OpenAPI document (`--resources-openapi`).
pub(super) async fn resources_doc(State(sb): State<Shared>) -> Response<Body> {
    json_bytes(&sb.docs.resources)
}

/// The descriptors OpenAPI document (`--descriptors-openapi`).
pub(super) async fn descriptors_doc(State(sb): State<Shared>) -> Response<Body> {
    json_bytes(&sb.docs.descriptors)
}

/// The dependencies document (`--dependencies`).
pub(super) async fn dependencies_doc(State(sb): State<Shared>) -> Response<Body> {
    json_bytes(&sb.docs.dependencies)
}

/// `/_sandbox/stats`: the sandbox's counters and record counts.
pub(super) async fn stats(State(sb): State<Shared>) -> Response<Body> {
    axum::Json(sb.stats_json()).into_response()
}
