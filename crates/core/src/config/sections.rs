//! The sections of the config: their keys, types and the Python tool's defaults.

use indexmap::IndexMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The Ed-Fi API mode, which decides the data URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiMode {
    SharedInstance,
    Sandbox,
    DistrictSpecific,
    YearSpecific,
    InstanceYearSpecific,
}

impl ApiMode {
    pub const ALL: [ApiMode; 5] = [
        ApiMode::SharedInstance,
        ApiMode::Sandbox,
        ApiMode::DistrictSpecific,
        ApiMode::YearSpecific,
        ApiMode::InstanceYearSpecific,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ApiMode::SharedInstance => "shared_instance",
            ApiMode::Sandbox => "sandbox",
            ApiMode::DistrictSpecific => "district_specific",
            ApiMode::YearSpecific => "year_specific",
            ApiMode::InstanceYearSpecific => "instance_year_specific",
        }
    }

    /// Whether the data URL carries a year.
    pub fn needs_year(self) -> bool {
        matches!(self, ApiMode::YearSpecific | ApiMode::InstanceYearSpecific)
    }
}

impl fmt::Display for ApiMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret (the OAuth client secret): never shown by `Debug` and serialized as `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (the token request).
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Secret(\"\")")
        } else {
            f.write_str("Secret(***)")
        }
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "***" })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// `edfi_api` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdfiApi {
    pub base_url: String,
    /// Empty: taken from the discovery document (`urls.oauth`).
    pub oauth_url: String,
    /// Empty: taken from the discovery document (`urls.dependencies`).
    pub dependencies_url: String,
    /// Empty: taken from the discovery document (`urls.openApiMetadata`).
    pub open_api_metadata_url: String,
    pub descriptors_swagger_url: String,
    pub resources_swagger_url: String,
    /// Empty: the data URL comes from discovery's route layout and the mode
    /// ([`crate::api::routes`]); set, it is used as it is.
    pub data_url: String,
    pub version: u32,
    pub mode: ApiMode,
    /// Defaults to the current year (given to [`Config::from_yaml`]).
    pub year: Option<i32>,
    pub instance_code: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    /// An ODS/API profile every data request goes through (its media types
    /// `application/vnd.ed-fi.{resource}.{profile}.readable|writable+json`); empty: none.
    pub profile: String,
    /// Profiles by endpoint (`studentSchoolAssociations: Sample-Profile`), over `profile`; an
    /// empty name: no profile for that endpoint.
    pub profiles: IndexMap<String, String>,
}

impl EdfiApi {
    /// The profile requests to `endpoint` go through, if any.
    pub fn profile_for(&self, endpoint: &str) -> Option<&str> {
        let name = self
            .profiles
            .iter()
            .find(|(e, _)| e.eq_ignore_ascii_case(endpoint))
            .map(|(_, p)| p.as_str())
            .unwrap_or(&self.profile)
            .trim();
        (!name.is_empty()).then_some(name)
    }
}

impl Default for EdfiApi {
    fn default() -> Self {
        EdfiApi {
            base_url: String::new(),
            oauth_url: String::new(),
            dependencies_url: String::new(),
            open_api_metadata_url: String::new(),
            descriptors_swagger_url: String::new(),
            resources_swagger_url: String::new(),
            data_url: String::new(),
            version: 3,
            mode: ApiMode::YearSpecific,
            year: None,
            instance_code: None,
            client_id: String::new(),
            client_secret: Secret::default(),
            profile: String::new(),
            profiles: IndexMap::new(),
        }
    }
}

/// `connection` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connection {
    /// Requests in flight at once.
    pub pool_size: u32,
    /// Seconds for a whole request.
    pub timeout: f64,
    /// Retries after the first attempt.
    pub num_retries: u32,
    /// Growth factor of the exponential backoff.
    pub backoff_factor: f64,
    pub retry_statuses: Vec<u16>,
    pub verify_ssl: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            pool_size: 8,
            timeout: 60.0,
            num_retries: 10,
            backoff_factor: 1.5,
            retry_statuses: vec![429, 500, 501, 503, 504],
            verify_ssl: true,
        }
    }
}

/// `count` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CountConfig {
    pub separator: String,
}

impl Default for CountConfig {
    fn default() -> Self {
        CountConfig {
            separator: "\t".to_string(),
        }
    }
}

/// `fetch` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    pub page_size: u32,
    pub paging: Paging,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            page_size: 100,
            paging: Paging::Auto,
        }
    }
}

/// How `fetch`, `truncate` and `delete` (descriptor values) read an endpoint's records
/// (`fetch.paging`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Paging {
    /// Cursor paging where the API offers it (ODS/API 7.3 and the Ed-Fi DMS: the OpenAPI
    /// documents list the endpoint's `/partitions`), offset paging elsewhere.
    #[default]
    Auto,
    /// `limit`/`offset` everywhere (the Python tool's paging).
    Offset,
    /// `/partitions`, `pageToken` and `pageSize` everywhere (offset paging for an endpoint whose
    /// `/partitions` cannot be read).
    Cursor,
}

/// The order in which `send` lets payloads go (`send.order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendOrder {
    /// A payload goes as soon as the payloads of this run it needs first have their outcome
    /// (those it references, and the person's payloads of earlier endpoints).
    #[default]
    Records,
    /// A dependency level goes when the previous one has finished (the Python tool's order).
    Levels,
}

/// `send` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendConfig {
    pub order: SendOrder,
}

/// A validation method: `json` is always checked; `validate.methods` chooses the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationMethod {
    /// The line is a JSON object (always checked, not chosen).
    #[serde(skip_deserializing)]
    Json,
    Schema,
    Descriptors,
    Uniqueness,
    References,
}

impl ValidationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationMethod::Json => "json",
            ValidationMethod::Schema => "schema",
            ValidationMethod::Descriptors => "descriptors",
            ValidationMethod::Uniqueness => "uniqueness",
            ValidationMethod::References => "references",
        }
    }

    /// A method `validate.methods` may name.
    fn parse(s: &str) -> Option<Self> {
        match s {
            "schema" => Some(ValidationMethod::Schema),
            "descriptors" => Some(ValidationMethod::Descriptors),
            "uniqueness" => Some(ValidationMethod::Uniqueness),
            "references" => Some(ValidationMethod::References),
            _ => None,
        }
    }
}

/// `validate.methods`: a list of methods, or `"*"`/`"all"` (the defaults plus references).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationMethods(pub Vec<ValidationMethod>);

impl ValidationMethods {
    pub fn all() -> Self {
        ValidationMethods(vec![
            ValidationMethod::Schema,
            ValidationMethod::Descriptors,
            ValidationMethod::Uniqueness,
            ValidationMethod::References,
        ])
    }

    pub fn contains(&self, m: ValidationMethod) -> bool {
        self.0.contains(&m)
    }
}

impl Default for ValidationMethods {
    fn default() -> Self {
        ValidationMethods(vec![
            ValidationMethod::Schema,
            ValidationMethod::Descriptors,
            ValidationMethod::Uniqueness,
        ])
    }
}

impl<'de> Deserialize<'de> for ValidationMethods {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str =
            "\"*\", \"all\", or a list of: schema, descriptors, uniqueness, references";
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ValidationMethods;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                if s == "*" || s.eq_ignore_ascii_case("all") {
                    return Ok(ValidationMethods::all());
                }
                match ValidationMethod::parse(s) {
                    Some(m) => Ok(ValidationMethods(vec![m])),
                    None => Err(E::custom(format!("expected {EXPECTED}, got {s:?}"))),
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(m) = seq.next_element::<ValidationMethod>()? {
                    if !out.contains(&m) {
                        out.push(m);
                    }
                }
                Ok(ValidationMethods(out))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(ValidationMethods::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// `validate.references.behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceBehavior {
    /// The selected references are not validated.
    #[default]
    Exclude,
    /// Only the selected references are validated.
    Include,
}

/// `validate.references` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReferencesConfig {
    /// `endpoint.path.to.someReference` entries.
    pub selector: Vec<String>,
    pub behavior: ReferenceBehavior,
    /// Look references up in the API when not found locally.
    pub remote: bool,
    /// Stop validating after this many failures.
    pub max_failures: Option<u64>,
}

impl Default for ReferencesConfig {
    fn default() -> Self {
        ReferencesConfig {
            selector: Vec::new(),
            behavior: ReferenceBehavior::Exclude,
            remote: true,
            max_failures: None,
        }
    }
}

/// `validate` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ValidateConfig {
    pub methods: ValidationMethods,
    pub references: ReferencesConfig,
    /// `validate+send` sends even when validation found failures (the Python tool's behaviour);
    /// by default it sends only when every payload is valid.
    pub send_on_failure: bool,
}
