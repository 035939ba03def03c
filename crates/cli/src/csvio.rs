//! Reading the CSV files tripoint writes (truth, detections, tracks), with errors that name the
//! file, the line and the field. Malformed rows are rejected one by one and counted; a wrong
//! header is an error.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use tripoint_core::{Detection, Epoch, Measurement, MeasurementNoise, Mode, ObjectId, SensorId};
use tripoint_track::score::StateRow;

pub const DETECTIONS_HEADER: &str = "time,sensor_id,truth_id,kind,range_m,az_rad,el_rad,range_rate_m_s,east_rad,north_rad,sensor_x_m,sensor_y_m,sensor_z_m,sigma_range_m,sigma_az_rad,sigma_el_rad,sigma_range_rate_m_s,mode";
pub const TRUTH_HEADER: &str = "time,id,x,vx,y,vy,z,vz";

/// The 21 upper-triangle covariance columns of [x, vx, y, vy, z, vz].
pub fn covariance_columns() -> Vec<String> {
    let names = ["x", "vx", "y", "vy", "z", "vz"];
    let mut out = Vec::new();
    for i in 0..6 {
        for j in i..6 {
            out.push(format!("c_{}_{}", names[i], names[j]));
        }
    }
    out
}

pub fn tracks_header() -> String {
    format!(
        "time,track_id,x,vx,y,vy,z,vz,{}",
        covariance_columns().join(",")
    )
}

/// Detection times outside [Sputnik 1's launch, 2100) are corrupt, not measurements (UNIX s).
const EARLIEST_UNIX_S: f64 = -386_380_800.0;
const LATEST_UNIX_S: f64 = 4_102_444_800.0;

/// A row that could not be used.
#[derive(Debug)]
pub struct RowError {
    pub line: usize,
    pub reason: String,
}

fn num(fields: &[&str], i: usize, name: &str) -> Result<f64, String> {
    let s = fields
        .get(i)
        .ok_or_else(|| format!("missing field {name}"))?;
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{name}: {s:?} is not a number"))?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{name}: {s} is not finite"))
    }
}

fn opt_num(fields: &[&str], i: usize, name: &str) -> Result<Option<f64>, String> {
    match fields.get(i).map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some(_) => num(fields, i, name).map(Some),
    }
}

fn check_header(path: &Path, got: Option<&str>, want: &str) -> Result<()> {
    let got = got.unwrap_or("").trim_end_matches('\r');
    if got != want {
        let g: Vec<&str> = got.split(',').collect();
        let w: Vec<&str> = want.split(',').collect();
        let missing: Vec<&&str> = w.iter().filter(|c| !g.contains(c)).collect();
        let extra: Vec<&&str> = g.iter().filter(|c| !w.contains(c)).collect();
        bail!(
            "{}: unexpected header (missing columns {:?}, unexpected columns {:?}); expected:\n  {want}",
            path.display(),
            missing,
            extra
        );
    }
    Ok(())
}

/// Reads detections; returns the good ones (in file order) and the rejected rows.
pub fn read_detections(path: &Path) -> Result<(Vec<Detection>, Vec<RowError>)> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines();
    check_header(path, lines.next(), DETECTIONS_HEADER)?;
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in lines.enumerate() {
        let lineno = i + 2;
        if line.trim().is_empty() {
            continue;
        }
        match parse_detection(line) {
            Ok(d) => out.push(d),
            Err(reason) => bad.push(RowError {
                line: lineno,
                reason,
            }),
        }
    }
    Ok((out, bad))
}

fn parse_detection(line: &str) -> Result<Detection, String> {
    let f: Vec<&str> = line.split(',').collect();
    if f.len() != 18 {
        return Err(format!("{} fields, expected 18", f.len()));
    }
    let t = num(&f, 0, "time")?;
    if !(EARLIEST_UNIX_S..=LATEST_UNIX_S).contains(&t) {
        return Err(format!(
            "time: {t} is not a UTC epoch between 1957 and 2100 (seconds since 1970)"
        ));
    }
    let time = Epoch::from_unix_seconds(t);
    let sensor = SensorId::new(f[1].trim()).map_err(|e| format!("sensor_id: {e}"))?;
    let truth = match f[2].trim() {
        "" => None,
        s => Some(ObjectId::new(s).map_err(|e| format!("truth_id: {e}"))?),
    };
    let noise = MeasurementNoise {
        sigma_range_m: opt_num(&f, 13, "sigma_range_m")?.unwrap_or(0.0),
        sigma_az_rad: num(&f, 14, "sigma_az_rad")?,
        sigma_el_rad: num(&f, 15, "sigma_el_rad")?,
        sigma_range_rate_m_s: opt_num(&f, 16, "sigma_range_rate_m_s")?.unwrap_or(0.0),
    };
    let measurement = match f[3].trim() {
        "radar" => Measurement::Radar {
            range_m: num(&f, 4, "range_m")?,
            az_rad: num(&f, 5, "az_rad")?,
            el_rad: num(&f, 6, "el_rad")?,
            range_rate_m_s: opt_num(&f, 7, "range_rate_m_s")?,
        },
        "space_ir" => Measurement::Bearings {
            east_rad: num(&f, 8, "east_rad")?,
            north_rad: num(&f, 9, "north_rad")?,
        },
        other => return Err(format!("kind: {other:?} is neither radar nor space_ir")),
    };
    let mode: Mode = f[17].trim().parse().map_err(|e| format!("mode: {e}"))?;
    Ok(Detection {
        time,
        sensor,
        mode,
        measurement,
        noise,
        sensor_ecef_m: [
            num(&f, 10, "sensor_x_m")?,
            num(&f, 11, "sensor_y_m")?,
            num(&f, 12, "sensor_z_m")?,
        ],
        truth,
    })
}

/// Reads `time,id,x,vx,y,vy,z,vz` rows (truth or tracks; extra covariance columns allowed for
/// tracks).
pub fn read_states(path: &Path, tracks: bool) -> Result<Vec<StateRow>> {
    let text =
        fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines = text.lines();
    if tracks {
        check_header(path, lines.next(), &tracks_header())?;
    } else {
        check_header(path, lines.next(), TRUTH_HEADER)?;
    }
    let want = if tracks { 8 + 21 } else { 8 };
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        let ctx = || format!("{} line {}", path.display(), i + 2);
        if f.len() != want {
            bail!("{}: {} fields, expected {want}", ctx(), f.len());
        }
        let g = |k: usize, n: &str| num(&f, k, n).map_err(|e| anyhow::anyhow!("{}: {e}", ctx()));
        out.push(StateRow {
            t: g(0, "time")?,
            id: f[1].trim().to_owned(),
            state: [
                g(2, "x")?,
                g(4, "y")?,
                g(6, "z")?,
                g(3, "vx")?,
                g(5, "vy")?,
                g(7, "vz")?,
            ],
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;
    use tripoint_core::Nation;
    use tripoint_track::TrackerConfig;

    use super::*;

    /// Numbers a hostile or broken feed might send: ordinary values, zero, extremes, NaN and
    /// infinities, garbage.
    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (-1.0e7f64..1.0e7).prop_map(|v| v.to_string()),
            1 => (-10.0f64..10.0).prop_map(|v| v.to_string()),
            1 => Just("0".to_owned()),
            1 => Just("1e308".to_owned()),
            1 => Just("-1e308".to_owned()),
            1 => Just("NaN".to_owned()),
            1 => Just("inf".to_owned()),
            1 => Just(String::new()),
            1 => "[a-z ]{0,4}",
        ]
    }

    fn row() -> impl Strategy<Value = String> {
        (
            prop_oneof![(1.6e9f64..1.7e9).prop_map(|v| v.to_string()), field(),],
            prop_oneof![Just("r1"), Just("ir1"), Just("nobody"), Just("")],
            prop_oneof![Just("radar"), Just("space_ir"), Just("sonar")],
            proptest::collection::vec(field(), 13),
            prop_oneof![Just("real"), Just("exercise"), Just("?")],
            0usize..3,
        )
            .prop_map(|(t, sensor, kind, nums, mode, cut)| {
                let mut f = vec![t, sensor.to_owned(), String::new(), kind.to_owned()];
                f.extend(nums);
                f.push(mode.to_owned());
                // Sometimes a column short or long.
                match cut {
                    1 => {
                        f.pop();
                    }
                    2 => f.push("1".to_owned()),
                    _ => {}
                }
                f.join(",")
            })
    }

    /// A plausible radar row near Sado (so the tracker has something to track), one field of
    /// it sometimes spoilt.
    fn plausible() -> impl Strategy<Value = String> {
        (
            0.0f64..60.0,
            2.0e5f64..1.5e6,
            -3.1f64..3.1,
            0.05f64..1.4,
            proptest::option::of((0usize..17, field())),
        )
            .prop_map(|(t, r, az, el, spoil)| {
                let mut f: Vec<String> = vec![
                    (1.668e9 + t.floor()).to_string(),
                    "r1".into(),
                    String::new(),
                    "radar".into(),
                    r.to_string(),
                    az.to_string(),
                    el.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    "-3851000".into(),
                    "3135000".into(),
                    "3918000".into(),
                    "50".into(),
                    "0.002".into(),
                    "0.002".into(),
                    String::new(),
                    "real".into(),
                ];
                if let Some((i, v)) = spoil {
                    f[i] = v;
                }
                f.join(",")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Whatever the rows hold, reading them loses nothing silently (every row is a
        /// detection or an error naming its line) and nothing downstream panics: batching,
        /// tracking and products take what was read.
        #[test]
        fn arbitrary_detection_rows_never_panic_and_are_all_accounted_for(
            rows in proptest::collection::vec(prop_oneof![row(), plausible()], 1..80)
        ) {
            let dir = std::env::temp_dir().join(format!("tripoint-csv-{}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let path = dir.join("detections.csv");
            std::fs::write(&path, format!("{DETECTIONS_HEADER}\n{}\n", rows.join("\n")))
                .expect("write");
            let (good, bad) = read_detections(&path).expect("header is right");
            prop_assert_eq!(good.len() + bad.len(), rows.len());
            prop_assert!(bad.iter().all(|e| e.line >= 2 && e.line <= rows.len() + 1));
            let owners: HashMap<SensorId, Nation> = [("r1", Nation::JPN), ("ir1", Nation::USA)]
                .into_iter()
                .map(|(s, n)| (SensorId::new(s).expect("id"), n))
                .collect();
            // Real and exercise rows are never tracked together: keep the first row's world.
            let same: Vec<Detection> = match good.first() {
                Some(d) => good.iter().filter(|x| x.mode == d.mode).cloned().collect(),
                None => vec![],
            };
            let mut finite = true;
            let run = crate::track_cmd::track_detections(
                &same,
                &owners,
                TrackerConfig::default(),
                0.0,
                &mut std::io::sink(),
                &mut |r, _| {
                    finite &= r.state.iter().all(|v| v.is_finite());
                    Ok(())
                },
                None,
            )
            .expect("tracks");
            // The feed loses nothing either: every detection is an observation or a rejection.
            let epoch = same.first().map_or(Epoch::from_unix_seconds(0.0), |d| d.time);
            let (batches, refused) = tripoint_track::feed::batches(&same, &owners, epoch);
            prop_assert_eq!(batches.iter().map(Vec::len).sum::<usize>() + refused.len(), same.len());
            prop_assert_eq!(run.observations, same.len() - refused.len());
            prop_assert!(finite);
        }
    }
}
