//! Reading JSON input with one error shape: the size limit is checked before
//! parsing, and a syntax or shape error names the path of the bad field
//! (`segments[3].rule.all[1].min_score`). The taxonomy, the decay policy, the
//! segment definitions and the whole engine configuration all read JSON
//! through here, and their errors carry a [`JsonError`].

use serde::de::DeserializeOwned;
use thiserror::Error;

/// The largest JSON text accepted (4 MiB): larger input is refused before it
/// is parsed.
pub const MAX_JSON_BYTES: usize = 4 << 20;

/// Why a JSON text was not read. The one JSON error of the crate: the
/// taxonomy ([`TaxonomyError::Json`](crate::TaxonomyError::Json)), segment
/// definitions ([`SegmentError::Json`](crate::SegmentError::Json)), a policy
/// ([`DecayPolicy::from_json`](crate::DecayPolicy::from_json)) and a whole
/// configuration ([`ConfigError::Json`](crate::config::ConfigError::Json))
/// report it.
///
/// # Example
/// ```
/// use tactful::{DecayPolicy, JsonError};
///
/// let err = DecayPolicy::from_json(r#"{"half_life": "soon"}"#).unwrap_err();
/// let JsonError::Syntax { path, .. } = &err else { panic!("{err}") };
/// assert_eq!(path, "half_life");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The text is larger than [`MAX_JSON_BYTES`]. Split the input or check
    /// that the right file was passed.
    #[error("json of {size} bytes exceeds the limit of {max} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The text is not valid JSON of the expected shape, or a value in it
    /// is invalid (a zero half-life); `path` names the field, `(top level)`
    /// for the document itself.
    #[error("{path}: {message}")]
    Syntax {
        /// Where: `segments[3].rule.all[1].min_score`.
        path: String,
        /// What is wrong, with the line and column.
        message: String,
    },
}

/// Parses JSON into `T`, naming the path of the first bad field.
///
/// # Errors
/// [`JsonError::TooLarge`] or [`JsonError::Syntax`].
pub fn parse_json<T: DeserializeOwned>(json: &str) -> Result<T, JsonError> {
    if json.len() > MAX_JSON_BYTES {
        return Err(JsonError::TooLarge {
            size: json.len(),
            max: MAX_JSON_BYTES,
        });
    }
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        JsonError::Syntax {
            path: if path == "." {
                "(top level)".to_owned()
            } else {
                path
            },
            message: e.into_inner().to_string(),
        }
    })
}
