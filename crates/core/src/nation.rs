//! Nations and the real/exercise mode that every piece of data carries.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// A nation, by its ISO 3166-1 alpha-3 code. Any number of nations may take part: the reference
/// deployment has three (USA, JPN, KOR), but nothing depends on that.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nation([u8; 3]);

impl Nation {
    pub const USA: Nation = Nation(*b"USA");
    pub const JPN: Nation = Nation(*b"JPN");
    pub const KOR: Nation = Nation(*b"KOR");

    /// The upper-case alpha-3 code.
    pub fn code(&self) -> &str {
        // The constructor only admits ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl FromStr for Nation {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(Nation([
                b[0].to_ascii_uppercase(),
                b[1].to_ascii_uppercase(),
                b[2].to_ascii_uppercase(),
            ]))
        } else {
            Err(CoreError::InvalidNation { code: s.to_owned() })
        }
    }
}

impl TryFrom<String> for Nation {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Nation> for String {
    fn from(n: Nation) -> String {
        n.code().to_owned()
    }
}

impl fmt::Display for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Nation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nation({})", self.code())
    }
}

/// Whether data comes from the real world or from an exercise. Carried from the scenario or
/// sensor through every message, so exercise data can never be taken for real.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Real,
    Exercise,
}

impl FromStr for Mode {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "real" => Ok(Mode::Real),
            "exercise" => Ok(Mode::Exercise),
            _ => Err(CoreError::InvalidMode {
                value: s.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Real => "real",
            Mode::Exercise => "exercise",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nation_codes_parse_case_insensitively_and_reject_garbage() {
        assert_eq!("usa".parse::<Nation>(), Ok(Nation::USA));
        assert_eq!(
            "KOR".parse::<Nation>().map(|n| n.to_string()),
            Ok("KOR".into())
        );
        assert!("US".parse::<Nation>().is_err());
        assert!("U1A".parse::<Nation>().is_err());
        assert!("日本国".parse::<Nation>().is_err());
    }

    #[test]
    fn mode_round_trips_through_text() {
        for m in [Mode::Real, Mode::Exercise] {
            assert_eq!(m.to_string().parse::<Mode>(), Ok(m));
        }
        assert!("Real".parse::<Mode>().is_err());
    }
}
