//! Identifiers of sensors and flying objects, and what kind of thing they are.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::CoreError;

fn valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        // Shared, not owned: ids are cloned into every observation and track update.
        pub struct $name(std::sync::Arc<str>);

        impl $name {
            /// Checks the identifier: 1-64 characters from `A-Z a-z 0-9 . _ / -`.
            pub fn new(s: impl Into<String>) -> Result<Self, CoreError> {
                let s = s.into();
                if valid_id(&s) { Ok(Self(s.into())) } else { Err(CoreError::InvalidId { value: s }) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = CoreError;
            fn try_from(s: String) -> Result<Self, CoreError> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

string_id!(
    /// A sensor, unique within a deployment (e.g. `jpn-fps5-sado`).
    SensorId
);
string_id!(
    /// A flying object: a launch's payload keeps the launch id; separated stages and fragments
    /// get `<launch>/s<n>` and `<launch>/f<nnn>`.
    ObjectId
);

/// What a flying object is. Only the simulator and scoring know this for sure; the tracker
/// must infer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// The payload of a ballistic launch (re-entry vehicle).
    Warhead,
    /// A spent rocket stage that separated and flies on.
    Stage,
    /// A fragment of a breakup.
    Debris,
    /// The payload of a satellite launch vehicle.
    Satellite,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Warhead => "warhead",
            ObjectKind::Stage => "stage",
            ObjectKind::Debris => "debris",
            ObjectKind::Satellite => "satellite",
        })
    }
}

/// What a sensor measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// Ground or ship radar: range, azimuth, elevation, optionally range rate.
    Radar,
    /// Space-based infrared: bearings only, burning stages only.
    SpaceIr,
}

impl fmt::Display for SensorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SensorKind::Radar => "radar",
            SensorKind::SpaceIr => "space_ir",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_empty_long_and_odd_characters() {
        assert!(SensorId::new("kor-greenpine-1").is_ok());
        assert!(ObjectId::new("irbm-1/s1").is_ok());
        assert!(SensorId::new("").is_err());
        assert!(SensorId::new("a b").is_err());
        assert!(SensorId::new("x".repeat(65)).is_err());
        assert!(
            ObjectId::new("a,b").is_err(),
            "commas would break CSV output"
        );
    }
}
