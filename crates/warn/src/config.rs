//! Warning configuration (TOML): forecast sampling, launch-event grouping and one warning
//! authority per nation with its regions, thresholds and languages. Every error names the field.

use serde::Deserialize;
use tripoint_core::Nation;

use crate::region::RegionSet;
use crate::WarnError;

/// The shipped defaults (`data/warn.toml`).
pub const DEFAULT_TOML: &str = include_str!("../data/warn.toml");

/// A CAP `info` language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Ja,
    Ko,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Ja, Lang::Ko];
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "en-US" => Some(Lang::En),
            "ja-JP" => Some(Lang::Ja),
            "ko-KR" => Some(Lang::Ko),
            _ => None,
        }
    }
    /// RFC 3066 tag for CAP's `language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en-US",
            Lang::Ja => "ja-JP",
            Lang::Ko => "ko-KR",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForecastConfig {
    pub samples: usize,
    pub every_s: f64,
    pub ground_step_s: f64,
    pub overflight_min_alt_m: f64,
    pub horizon_s: f64,
    pub orbit_horizon_s: f64,
    pub min_hits: u32,
    pub max_position_sigma_m: f64,
    pub max_velocity_sigma_m_s: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventConfig {
    pub gap_s: f64,
    pub min_hits: u32,
    pub min_speed_m_s: f64,
    pub min_alt_m: f64,
}

/// One warning authority, resolved against a region set.
#[derive(Clone, Debug, PartialEq)]
pub struct Authority {
    pub nation: Nation,
    pub name: String,
    pub sender: String,
    /// Indices into the region set.
    pub regions: Vec<usize>,
    pub announce_launches: bool,
    pub warn_probability: f64,
    pub cancel_probability: f64,
    pub dwell_s: f64,
    /// A region is warned only when a sampled future reaches it within this time (s).
    pub warn_horizon_s: f64,
    pub languages: Vec<Lang>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WarnConfig {
    pub forecast: ForecastConfig,
    pub event: EventConfig,
    pub authorities: Vec<Authority>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    forecast: ForecastFile,
    event: EventFile,
    authority: Vec<AuthorityFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForecastFile {
    samples: usize,
    every_s: f64,
    ground_step_s: f64,
    overflight_min_alt_m: f64,
    horizon_s: f64,
    orbit_horizon_s: f64,
    min_hits: u32,
    max_position_sigma_m: f64,
    max_velocity_sigma_m_s: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    gap_s: f64,
    min_hits: u32,
    min_speed_m_s: f64,
    min_alt_m: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorityFile {
    nation: String,
    name: String,
    sender: String,
    regions: Vec<String>,
    announce_launches: bool,
    warn_probability: f64,
    cancel_probability: f64,
    dwell_s: f64,
    warn_horizon_s: f64,
    languages: Vec<String>,
}

impl WarnConfig {
    /// The shipped defaults against the given regions.
    pub fn default_for(regions: &RegionSet) -> Result<Self, WarnError> {
        Self::from_toml(DEFAULT_TOML, "data/warn.toml", regions)
    }

    pub fn from_toml(text: &str, source: &str, regions: &RegionSet) -> Result<Self, WarnError> {
        let err = |field: &str, message: String| WarnError::Config {
            source_name: source.to_owned(),
            field: field.to_owned(),
            message,
        };
        let f: File = toml::from_str(text).map_err(|e| err("(file)", e.to_string()))?;
        let positive = |field: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(v)
            } else {
                Err(err(field, format!("must be a positive number, got {v}")))
            }
        };
        let fc = &f.forecast;
        if !(8..=4096).contains(&fc.samples) {
            return Err(err(
                "forecast.samples",
                format!("must be 8 to 4096, got {}", fc.samples),
            ));
        }
        let forecast = ForecastConfig {
            samples: fc.samples,
            every_s: positive("forecast.every_s", fc.every_s)?,
            ground_step_s: positive("forecast.ground_step_s", fc.ground_step_s)?,
            overflight_min_alt_m: if fc.overflight_min_alt_m.is_finite()
                && fc.overflight_min_alt_m >= 0.0
            {
                fc.overflight_min_alt_m
            } else {
                return Err(err(
                    "forecast.overflight_min_alt_m",
                    format!("must be ≥ 0, got {}", fc.overflight_min_alt_m),
                ));
            },
            horizon_s: positive("forecast.horizon_s", fc.horizon_s)?,
            orbit_horizon_s: positive("forecast.orbit_horizon_s", fc.orbit_horizon_s)?,
            min_hits: fc.min_hits,
            max_position_sigma_m: positive(
                "forecast.max_position_sigma_m",
                fc.max_position_sigma_m,
            )?,
            max_velocity_sigma_m_s: positive(
                "forecast.max_velocity_sigma_m_s",
                fc.max_velocity_sigma_m_s,
            )?,
        };
        let event = EventConfig {
            gap_s: positive("event.gap_s", f.event.gap_s)?,
            min_hits: f.event.min_hits,
            min_speed_m_s: positive("event.min_speed_m_s", f.event.min_speed_m_s)?,
            min_alt_m: positive("event.min_alt_m", f.event.min_alt_m)?,
        };
        if f.authority.is_empty() {
            return Err(err(
                "authority",
                "at least one [[authority]] is needed".into(),
            ));
        }
        let mut authorities = Vec::new();
        for (i, a) in f.authority.iter().enumerate() {
            let at = |k: &str| format!("authority[{i}].{k}");
            let nation: Nation = a
                .nation
                .parse()
                .map_err(|e: tripoint_core::CoreError| err(&at("nation"), e.to_string()))?;
            if authorities.iter().any(|x: &Authority| x.nation == nation) {
                return Err(err(&at("nation"), format!("{nation} has two authorities")));
            }
            if a.sender.is_empty()
                || a.sender
                    .chars()
                    .any(|c| c.is_whitespace() || c == ',' || c == '<' || c == '&')
            {
                return Err(err(
                    &at("sender"),
                    format!("{:?}: CAP senders have no spaces, commas, < or &", a.sender),
                ));
            }
            let mut idx = Vec::new();
            for (k, pat) in a.regions.iter().enumerate() {
                let matched: Vec<usize> = match pat.strip_suffix('*') {
                    Some(prefix) => (0..regions.len())
                        .filter(|&r| regions.get(r).id.as_str().starts_with(prefix))
                        .collect(),
                    None => regions.index_of(pat).into_iter().collect(),
                };
                if matched.is_empty() {
                    return Err(err(
                        &at(&format!("regions[{k}]")),
                        format!("{pat:?} matches no known region (ISO 3166-2 code or area id)"),
                    ));
                }
                for m in matched {
                    if !idx.contains(&m) {
                        idx.push(m);
                    }
                }
            }
            let p_warn = a.warn_probability;
            let p_cancel = a.cancel_probability;
            if !(p_warn > 0.0 && p_warn <= 1.0) {
                return Err(err(
                    &at("warn_probability"),
                    format!("must be in (0, 1], got {p_warn}"),
                ));
            }
            if !(p_cancel >= 0.0 && p_cancel < p_warn) {
                return Err(err(
                    &at("cancel_probability"),
                    format!(
                        "must be ≥ 0 and below warn_probability ({p_warn}) for hysteresis, got {p_cancel}"
                    ),
                ));
            }
            if !(a.dwell_s.is_finite() && a.dwell_s >= 0.0) {
                return Err(err(
                    &at("dwell_s"),
                    format!("must be ≥ 0, got {}", a.dwell_s),
                ));
            }
            let mut languages = Vec::new();
            for (k, l) in a.languages.iter().enumerate() {
                let lang = Lang::parse(l).ok_or_else(|| {
                    err(
                        &at(&format!("languages[{k}]")),
                        format!(
                            "unknown language {l:?}: expected \"en-US\", \"ja-JP\" or \"ko-KR\""
                        ),
                    )
                })?;
                if !languages.contains(&lang) {
                    languages.push(lang);
                }
            }
            if languages.is_empty() {
                return Err(err(
                    &at("languages"),
                    "at least one language is needed".into(),
                ));
            }
            authorities.push(Authority {
                nation,
                name: a.name.clone(),
                sender: a.sender.clone(),
                regions: idx,
                announce_launches: a.announce_launches,
                warn_probability: p_warn,
                cancel_probability: p_cancel,
                dwell_s: a.dwell_s,
                warn_horizon_s: if a.warn_horizon_s.is_finite() && a.warn_horizon_s > 0.0 {
                    a.warn_horizon_s
                } else {
                    return Err(err(
                        &at("warn_horizon_s"),
                        format!("must be a positive number, got {}", a.warn_horizon_s),
                    ));
                },
                languages,
            });
        }
        Ok(WarnConfig {
            forecast,
            event,
            authorities,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(from: &str, to: &str) -> String {
        assert!(DEFAULT_TOML.contains(from), "{from}");
        DEFAULT_TOML.replacen(from, to, 1)
    }

    #[test]
    fn defaults_load_and_bad_values_name_their_field() {
        let regions = RegionSet::builtin().unwrap();
        let c = WarnConfig::default_for(&regions).unwrap();
        assert_eq!(c.authorities.len(), 3);
        assert_eq!(c.authorities[0].regions.len(), 47);
        assert_eq!(c.authorities[1].regions.len(), 17);
        let cases = [
            (
                with("cancel_probability = 0.05", "cancel_probability = 0.5"),
                "authority[0].cancel_probability",
            ),
            (
                with("languages = [\"ja-JP\"", "languages = [\"fr-FR\""),
                "authority[0].languages[0]",
            ),
            (
                with("regions = [\"KR-*\"]", "regions = [\"KR-99\"]"),
                "authority[1].regions[0]",
            ),
            (with("samples = 48", "samples = 0"), "forecast.samples"),
            (
                with("nation = \"USA\"", "nation = \"U5A\""),
                "authority[2].nation",
            ),
            (
                with("dwell_s = 20.0", "dwell_s = -1.0"),
                "authority[0].dwell_s",
            ),
            (with("gap_s = 600.0", "gap_s = 600.0\nbogus = 1"), "(file)"),
        ];
        for (text, field) in cases {
            let e = WarnConfig::from_toml(&text, "w.toml", &regions)
                .unwrap_err()
                .to_string();
            assert!(e.contains(field) && e.contains("w.toml"), "{field}: {e}");
        }
    }
}
