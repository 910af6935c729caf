//! Which profile a data request is under, as the ODS/API decides it:
//!
//! 1. a profile media type (`application/vnd.ed-fi.{resource}.{profile}.{readable|writable}+json`)
//!    in `Accept` (GET) or `Content-Type` (POST, PUT) is checked: its form, its usage against the
//!    method, and that the profile exists (Ed-Fi-ODS `ProfileContentTypeContextMiddleware`:
//!    400, or 406/415 for an unknown profile);
//! 2. a client with assigned profiles that cover the resource for the usage must use one of
//!    them; with exactly one and no profile media type, it is applied; else 403
//!    (`EnforceAssignedProfileUsageFilter`, not for DELETE);
//! 3. the media type's resource must be the requested one and the profile must have the
//!    resource's content type for the usage (`MappingContractProvider`: 400, 405).
//!
//! The profile's content type then shapes what a GET returns and what a POST or PUT writes
//! (`data.rs`, with `crate::profiles`).

use super::state::Sandbox;
use crate::profiles::{media_type, Profile, Selection, Usage};
use crate::store::ApiError;
use axum::http::{header, HeaderMap, Method};

const PREFIX: &str = "application/vnd.ed-fi.";

/// The profile a data request is under.
#[derive(Debug, Clone)]
pub(super) struct Applied {
    /// The profile's name as the request gave it (or as assigned).
    pub name: String,
    /// Its content type for the resource and usage.
    pub content: Selection,
    /// The profile media type (the `Content-Type` of a readable answer).
    pub media_type: String,
}

/// What the request asks for: a profile, a resource and a usage.
struct Requested {
    profile: String,
    resource: String,
    usage: Usage,
}

/// The usage of a method: GET reads, POST and PUT write; others have none.
fn usage_of(method: &Method) -> Option<Usage> {
    match *method {
        Method::GET => Some(Usage::Readable),
        Method::POST | Method::PUT => Some(Usage::Writable),
        _ => None,
    }
}

fn invalid_usage(status: u16, error: String) -> ApiError {
    ApiError::Profile {
        status,
        urn: "profile:invalid-profile-usage",
        title: "Invalid Profile Usage",
        detail: "The request construction was invalid with respect to usage of a data policy."
            .into(),
        error,
    }
}

/// Step 1: the profile media type of the request, if it has one.
fn requested(
    sb: &Sandbox,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Option<Requested>, ApiError> {
    let Some(usage) = usage_of(method) else {
        return Ok(None);
    };
    let (header_name, value) = if usage == Usage::Readable {
        let value = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(PREFIX));
        ("Accept", value)
    } else {
        let value = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.starts_with(PREFIX));
        ("Content-Type", value)
    };
    let Some(value) = value else {
        return Ok(None);
    };
    // one media type, without parameters; the facets of its subtype after `vnd.ed-fi`
    let media = value.split(',').next().unwrap_or("");
    let media = media.split(';').next().unwrap_or("").trim();
    let subtype = media.split_once('/').map_or("", |(_, s)| s);
    let subtype = subtype.split('+').next().unwrap_or("");
    let facets: Vec<&str> = subtype.split('.').skip(2).collect();
    let [resource, profile, usage_facet] = facets.as_slice() else {
        return Err(invalid_usage(
            400,
            format!("The format of the profile-based '{header_name}' header was invalid."),
        ));
    };
    let asked = if usage_facet.eq_ignore_ascii_case("readable") {
        Usage::Readable
    } else if usage_facet.eq_ignore_ascii_case("writable") {
        Usage::Writable
    } else {
        return Err(invalid_usage(
            400,
            format!("The profile usage segment in the profile-based '{header_name}' header was not recognized."),
        ));
    };
    if asked != usage {
        let error = if usage == Usage::Readable {
            "A profile-based content type that is writable cannot be used with GET requests."
                .to_string()
        } else {
            format!("A profile-based content type that is readable cannot be used with {method} requests.")
        };
        return Err(invalid_usage(400, error));
    }
    if find(sb, profile).is_none() {
        let status = if usage == Usage::Readable { 406 } else { 415 };
        return Err(invalid_usage(
            status,
            format!("The profile specified by the content type in the '{header_name}' header is not supported by this host."),
        ));
    }
    Ok(Some(Requested {
        profile: profile.to_string(),
        resource: resource.to_string(),
        usage,
    }))
}

/// A loaded profile by name (case-insensitive).
fn find<'a>(sb: &'a Sandbox, name: &str) -> Option<&'a Profile> {
    sb.cfg
        .profiles
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Only step 1, for the data routes profiles do not shape (`/deletes`, `/keyChanges`,
/// `/partitions`, DELETE): a malformed or unknown profile media type is still refused.
pub(super) fn check_media_type(
    sb: &Sandbox,
    method: &Method,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    requested(sb, method, headers).map(|_| ())
}

/// Steps 1 to 3 for a GET, POST or PUT of endpoint `ep` by a client assigned `assigned`: the
/// profile it is under, if any.
pub(super) fn negotiate(
    sb: &Sandbox,
    assigned: &[String],
    method: &Method,
    headers: &HeaderMap,
    ep: usize,
) -> Result<Option<Applied>, ApiError> {
    let asked = requested(sb, method, headers)?;
    let Some(usage) = usage_of(method) else {
        return Ok(None);
    };
    let entity = sb.api.endpoint(ep).entity_name();
    // step 2: the assigned profiles that cover this resource for this usage
    let mut relevant: Vec<&str> = assigned
        .iter()
        .filter(|a| find(sb, a).is_some_and(|p| p.content(ep, usage).is_some()))
        .map(String::as_str)
        .collect();
    let asked = if relevant.is_empty() {
        asked
    } else {
        match asked {
            None if relevant.len() == 1 => Some(Requested {
                profile: relevant[0].to_string(),
                resource: entity.clone(),
                usage,
            }),
            Some(r) if relevant.iter().any(|a| a.eq_ignore_ascii_case(&r.profile)) => Some(r),
            _ => {
                relevant.sort();
                return Err(incorrect_usage(&entity, &relevant, usage));
            }
        }
    };
    let Some(asked) = asked else {
        return Ok(None);
    };
    // step 3: the media type's resource, the profile's content type for it
    if !asked.resource.eq_ignore_ascii_case(&entity) {
        return Err(invalid_usage(
            400,
            format!(
                "The resource specified by the profile-based content type ('{}') does not match the requested resource ('{entity}').",
                asked.resource
            ),
        ));
    }
    let profile = find(sb, &asked.profile).expect("checked in step 1 or assigned");
    if profile.resource(ep).is_none() {
        return Err(ApiError::Profile {
            status: 400,
            urn: "profile:invalid-profile-usage",
            title: "Invalid Profile Usage",
            detail: "The request construction was invalid with respect to usage of a data policy. The resource is not contained by the profile used by (or applied to) the request.".into(),
            error: format!(
                "Resource '{entity}' is not accessible through the '{}' profile specified by the content type.",
                asked.profile
            ),
        });
    }
    let Some(content) = profile.content(ep, asked.usage) else {
        let usage = asked.usage.as_str();
        return Err(ApiError::Profile {
            status: 405,
            urn: "profile:method-usage",
            title: "Method Not Allowed with Profile",
            detail: format!("The request construction was invalid with respect to usage of a data policy. An attempt was made to access a resource that is not {usage} using the profile."),
            error: format!(
                "Resource class '{entity}' is not {usage} using API profile '{}'.",
                asked.profile
            ),
        });
    };
    Ok(Some(Applied {
        media_type: media_type(&entity, &asked.profile, asked.usage),
        name: asked.profile,
        content: content.clone(),
    }))
}

/// The ODS's 403 of a client that does not use (one of) its assigned profiles.
fn incorrect_usage(entity: &str, assigned: &[&str], usage: Usage) -> ApiError {
    let one = assigned.len() == 1;
    let types: Vec<String> = assigned
        .iter()
        .map(|p| media_type(entity, p, usage))
        .collect();
    let error = format!(
        "Based on profile assignments, {}the following profile-specific content type{} is required when {} this resource: '{}'",
        if one { "" } else { "one of " },
        if one { "" } else { "s" },
        if usage == Usage::Readable { "requesting" } else { "creating or updating" },
        types.join("', '")
    );
    ApiError::Profile {
        status: 403,
        urn: "security:data-policy:incorrect-usage",
        title: "Data Policy Failure Due to Incorrect Usage",
        detail: "A data policy failure was encountered. The request was not constructed correctly for the data policy that has been applied to this data for the caller.".into(),
        error,
    }
}
