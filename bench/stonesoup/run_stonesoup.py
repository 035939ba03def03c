#!/usr/bin/env python3
"""Stone Soup GNN baseline on tripoint's simulated radar detections.

Usage:
    python3 run_stonesoup.py SIM_DIR OUT_DIR [--max-detections N] [--q Q] ...

SIM_DIR is a folder written by `tripoint sim run` (detections.csv,
sensors.json).  Only `kind == radar` rows are used, and only the measured
quantities (time, range, azimuth, elevation) plus the sensor id: the tracker
never sees `truth_id` (it is not even copied into the per-sensor CSVs).

Outputs in OUT_DIR:
    detections/<sensor_id>.csv  per-sensor measurement files in Stone Soup's
                                convention (read back by CSVDetectionReader)
    tracks.csv                  one row per track update (state + 21
                                upper-triangle covariance entries)
    stonesoup_stats.json        counts and wall-clock of the tracking loop

The tracker is Stone Soup's canonical GNN wiring (see the "Multi-target
tracking" tutorials): ExtendedKalman predictor/updater, DistanceHypothesiser
with a Mahalanobis gate, GNNWith2DAssignment, MultiMeasurementInitiator and a
time-since-update deleter, driven by MultiTargetTracker.

Conventions (see README.md for the derivation):
  * state: ECEF Cartesian [x, vx, y, vy, z, vz] (m, m/s), Stone Soup's usual
    interleaved order;
  * one CartesianToElevationBearingRange per radar, translation_offset = the
    site's ECEF position, rotation_offset = [pi/2 - lat, 0, pi/2 + lon], which
    makes Stone Soup's rotation matrix the ECEF->ENU matrix, so Stone Soup's
    x/y/z axes are East/North/Up at the site;
  * measurement [elevation, bearing, range] with
        elevation = tripoint el (up from the geodetic horizontal),
        bearing   = wrap(pi/2 - tripoint az)   (CCW from East, in (-pi, pi]).
"""

import argparse
import csv
import json
import math
import os
import sys
import time as walltime
from datetime import datetime, timedelta

import numpy as np

from stonesoup.base import Property
from stonesoup.buffered_generator import BufferedGenerator
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.time import UpdateTimeDeleter
from stonesoup.feeder.base import DetectionFeeder
from stonesoup.feeder.multi import MultiDataFeeder
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.base import MeasurementModel
from stonesoup.models.measurement.nonlinear import CartesianToElevationBearingRange
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel, ConstantVelocity)
from stonesoup.predictor.kalman import ExtendedKalmanPredictor
from stonesoup.reader.generic import CSVDetectionReader
from stonesoup.tracker.simple import MultiTargetTracker
from stonesoup.types.array import CovarianceMatrix, StateVector
from stonesoup.types.state import GaussianState
from stonesoup.types.update import Update
from stonesoup.updater.kalman import ExtendedKalmanUpdater

# Stone Soup's CSV reader turns epoch seconds into naive UTC datetimes.
EPOCH = datetime(1970, 1, 1)

STATE_NAMES = ["x", "vx", "y", "vy", "z", "vz"]
# Upper triangle of the 6x6 covariance, row-major: (0,0),(0,1),...,(5,5).
COV_INDEX = [(i, j) for i in range(6) for j in range(i, 6)]
COV_NAMES = [f"c_{STATE_NAMES[i]}_{STATE_NAMES[j]}" for i, j in COV_INDEX]
TRACK_HEADER = ["time", "track_id"] + STATE_NAMES + COV_NAMES

# Column names of the per-sensor CSVs; the order of the first three is the
# order of CartesianToElevationBearingRange's measurement vector.
MEAS_FIELDS = ["elevation", "bearing", "range"]


def to_epoch(dt):
    """Naive-UTC datetime -> Unix epoch seconds (float)."""
    return (dt - EPOCH) / timedelta(seconds=1)


def wrap_pi(angle):
    """Wrap an angle (rad) into (-pi, pi]."""
    wrapped = math.remainder(angle, 2.0 * math.pi)
    return math.pi if wrapped == -math.pi else wrapped


def tripoint_to_stonesoup_angles(az_rad, el_rad):
    """tripoint (az clockwise from North, el up) -> Stone Soup (elevation, bearing).

    In the site's ENU frame a unit line of sight is
        (E, N, U) = (cos el sin az, cos el cos az, sin el),
    and Stone Soup measures bearing = atan2(y, x) = atan2(N, E) = pi/2 - az,
    elevation = asin(z / r) = el.
    """
    return el_rad, wrap_pi(math.pi / 2.0 - az_rad)


def enu_rotation_offset(lat_deg, lon_deg):
    """rotation_offset making Stone Soup's rotation matrix the ECEF->ENU matrix.

    Stone Soup builds R = rotx(-a) @ roty(b) @ rotz(-c) from [a, b, c].  The
    ECEF->ENU matrix is the frame rotation R1(pi/2 - lat) R3(pi/2 + lon), and
    a frame rotation by t about an axis is the active rotation by -t, so
    a = pi/2 - lat, b = 0, c = pi/2 + lon (geodetic lat/lon, WGS-84).
    """
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    return StateVector([[math.pi / 2.0 - lat], [0.0], [math.pi / 2.0 + lon]])


def ecef_to_enu_matrix(lat_deg, lon_deg):
    """Textbook ECEF->ENU rotation matrix (rows are E, N, U in ECEF)."""
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    sl, cl = math.sin(lat), math.cos(lat)
    so, co = math.sin(lon), math.cos(lon)
    return np.array([[-so, co, 0.0],
                     [-sl * co, -sl * so, cl],
                     [cl * co, cl * so, sl]])


def radar_measurement_model(sensor):
    """CartesianToElevationBearingRange for one radar entry of sensors.json."""
    site, noise = sensor["site"], sensor["noise"]
    return CartesianToElevationBearingRange(
        ndim_state=6,
        mapping=(0, 2, 4),  # x, y, z in [x, vx, y, vy, z, vz]
        noise_covar=CovarianceMatrix(np.diag([
            noise["sigma_el_rad"] ** 2,
            noise["sigma_az_rad"] ** 2,  # bearing = pi/2 - az: same sigma
            noise["sigma_range_m"] ** 2])),
        translation_offset=StateVector([[c] for c in site["ecef_m"]]),
        rotation_offset=enu_rotation_offset(site["lat_deg"], site["lon_deg"]),
    )


def load_radars(sim_dir):
    """Radar entries of sensors.json, keyed by sensor id."""
    with open(os.path.join(sim_dir, "sensors.json")) as f:
        sensors = json.load(f)
    return {s["id"]: s for s in sensors if s.get("kind") == "radar"}


def write_sensor_csvs(sim_dir, out_dir, radar_ids):
    """Split detections.csv into one Stone Soup-convention CSV per radar.

    Only time, elevation, bearing, range (and the sensor id, as metadata) are
    written: truth_id, range rate and the other columns are dropped so the
    tracker cannot see them.  Rows are sorted by time within each file, as
    CSVDetectionReader groups consecutive rows with equal time into a scan.
    Returns {sensor_id: (path, n_rows)}.
    """
    rows = {sid: [] for sid in radar_ids}
    with open(os.path.join(sim_dir, "detections.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] != "radar":
                continue
            sid = row["sensor_id"]
            if sid not in rows:
                raise ValueError(f"radar {sid!r} missing from sensors.json")
            el, bearing = tripoint_to_stonesoup_angles(
                float(row["az_rad"]), float(row["el_rad"]))
            # Keep the time string verbatim (no float round trip).
            rows[sid].append((float(row["time"]), row["time"], el, bearing,
                              row["range_m"]))

    det_dir = os.path.join(out_dir, "detections")
    os.makedirs(det_dir, exist_ok=True)
    files = {}
    for sid, sensor_rows in rows.items():
        if not sensor_rows:
            continue
        sensor_rows.sort(key=lambda r: r[0])
        path = os.path.join(det_dir, f"{sid}.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["time"] + MEAS_FIELDS + ["sensor_id"])
            for _, t, el, bearing, rng in sensor_rows:
                w.writerow([t, repr(el), repr(bearing), rng, sid])
        files[sid] = (path, len(sensor_rows))
    return files


class MeasurementModelFeeder(DetectionFeeder):
    """Attach a measurement model to every detection of the wrapped reader.

    CSVDetectionReader builds bare Detections (it has no measurement_model
    property), and with several radars every detection must carry its own
    sensor's model, which the initiator, hypothesiser and updater then use.
    """
    measurement_model: MeasurementModel = Property(
        doc="Measurement model given to every detection")

    @BufferedGenerator.generator_method
    def data_gen(self):
        for time, detections in self.reader:
            for detection in detections:
                detection.measurement_model = self.measurement_model
            yield time, detections


def build_feeder(sensor_files, models):
    """One CSVDetectionReader per radar, merged in time order."""
    readers = []
    for sid, (path, _) in sorted(sensor_files.items()):
        reader = CSVDetectionReader(
            path=path,
            state_vector_fields=MEAS_FIELDS,
            time_field="time",
            timestamp=True,  # epoch seconds -> naive UTC datetime
            metadata_fields=["sensor_id"],
        )
        readers.append(MeasurementModelFeeder(reader=reader,
                                              measurement_model=models[sid]))
    # MultiDataFeeder heap-merges the readers' (time, detections) scans.
    return MultiDataFeeder(readers=readers)


def build_tracker(scans, args):
    """Stone Soup's canonical GNN tracker (one EKF per track)."""
    transition_model = CombinedLinearGaussianTransitionModel(
        [ConstantVelocity(args.q)] * 3)
    predictor = ExtendedKalmanPredictor(transition_model)
    # No default measurement model: each detection carries its radar's model.
    # force_symmetric_covariance: without it the posterior covariance drifts
    # asymmetric over long tracks (fine X-band updates on ECEF states) until
    # it is indefinite and Mahalanobis distances turn negative/NaN (seen on
    # irbm-overflight); the option symmetrises each posterior, (P + P^T) / 2.
    updater = ExtendedKalmanUpdater(measurement_model=None,
                                    force_symmetric_covariance=True)
    hypothesiser = DistanceHypothesiser(
        predictor, updater, measure=Mahalanobis(), missed_distance=args.gate)
    data_associator = GNNWith2DAssignment(hypothesiser)

    # Single-detection prior: position (and its covariance) come from the
    # inverted measurement; velocity is unknown, zero mean with sigma_v.
    sv2 = args.prior_vel_sigma ** 2
    prior = GaussianState(StateVector(np.zeros((6, 1))),
                          CovarianceMatrix(np.diag([0.0, sv2] * 3)))
    initiator = MultiMeasurementInitiator(
        prior_state=prior,
        measurement_model=None,
        deleter=UpdateTimeDeleter(timedelta(seconds=args.tentative_delete_s)),
        data_associator=GNNWith2DAssignment(hypothesiser),
        updater=updater,
        min_points=args.min_points,
    )
    deleter = UpdateTimeDeleter(timedelta(seconds=args.delete_s))
    return MultiTargetTracker(
        initiator=initiator,
        deleter=deleter,
        detector=scans,  # any iterable of (time, set[Detection]) works
        data_associator=data_associator,
        updater=updater,
    )


def write_tracks(tracks, path):
    """One row per Update (state built from a detection) of every track.

    Track ids are small integers assigned in order of first update time.
    Returns (rows written, rows whose covariance is not positive semi-definite).
    """
    ordered = sorted(tracks, key=lambda t: (t.states[0].timestamp, t.id))
    n_rows = n_indefinite = 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(TRACK_HEADER)
        for track_id, track in enumerate(ordered, start=1):
            for state in track.states:
                if not isinstance(state, Update):
                    continue  # skip coasted predictions
                sv = np.asarray(state.state_vector, dtype=float).ravel()
                cov = np.asarray(state.covar, dtype=float)
                if np.linalg.eigvalsh((cov + cov.T) / 2.0)[0] < 0.0:
                    n_indefinite += 1  # numerical health, reported in stats
                w.writerow([f"{to_epoch(state.timestamp):.6f}", track_id]
                           + [f"{v:.6f}" for v in sv]
                           + [f"{cov[i, j]:.9g}" for i, j in COV_INDEX])
                n_rows += 1
    return n_rows, n_indefinite


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("sim_dir", help="folder written by `tripoint sim run`")
    p.add_argument("out_dir", help="output folder (created)")
    p.add_argument("--max-detections", type=int, default=None,
                   help="stop after this many radar detections (whole scans)")
    p.add_argument("--q", type=float, default=1000.0,
                   help="ConstantVelocity noise diffusion coefficient per "
                        "axis, m^2/s^3 (default 1000, see README)")
    p.add_argument("--gate", type=float, default=4.0,
                   help="Mahalanobis gate = missed-detection distance")
    p.add_argument("--min-points", type=int, default=3,
                   help="MultiMeasurementInitiator updates to confirm")
    p.add_argument("--prior-vel-sigma", type=float, default=3000.0,
                   help="initial velocity sigma per axis, m/s")
    p.add_argument("--tentative-delete-s", type=float, default=6.0,
                   help="delete a tentative track after this long without "
                        "an update, s")
    p.add_argument("--delete-s", type=float, default=20.0,
                   help="delete a confirmed track after this long without "
                        "an update, s")
    p.add_argument("--progress-every", type=int, default=2000,
                   help="print progress every N scans (0: never)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)

    radars = load_radars(args.sim_dir)
    models = {sid: radar_measurement_model(s) for sid, s in radars.items()}
    sensor_files = write_sensor_csvs(args.sim_dir, args.out_dir, radars)

    # Read every scan up front so the timed loop measures tracking only.
    t0 = walltime.perf_counter()
    scans, n_det = [], 0
    for time, detections in build_feeder(sensor_files, models):
        if args.max_detections is not None \
                and n_det + len(detections) > args.max_detections:
            break
        scans.append((time, detections))
        n_det += len(detections)
    read_s = walltime.perf_counter() - t0

    tracker = build_tracker(scans, args)
    all_tracks = set()
    t0 = walltime.perf_counter()
    for i, (time, tracks) in enumerate(tracker, start=1):
        all_tracks |= tracks  # deleted tracks leave tracker.tracks
        if args.progress_every and i % args.progress_every == 0:
            print(f"  scan {i}/{len(scans)} {time.isoformat()} "
                  f"live={len(tracks)} total={len(all_tracks)} "
                  f"{walltime.perf_counter() - t0:.1f}s", file=sys.stderr)
    loop_s = walltime.perf_counter() - t0

    n_rows, n_indefinite = write_tracks(
        all_tracks, os.path.join(args.out_dir, "tracks.csv"))
    stats = {
        "sim_dir": os.path.abspath(args.sim_dir),
        "radar_detections": n_det,
        "scans": len(scans),
        "first_time": to_epoch(scans[0][0]) if scans else None,
        "last_time": to_epoch(scans[-1][0]) if scans else None,
        "tracking_loop_s": loop_s,
        "read_s": read_s,
        "measurements_per_s": n_det / loop_s if loop_s > 0 else None,
        "tracks": len(all_tracks),
        "track_update_rows": n_rows,
        "indefinite_covariance_rows": n_indefinite,
        "params": {
            "q_m2_s3": args.q, "gate_mahalanobis": args.gate,
            "min_points": args.min_points,
            "prior_vel_sigma_m_s": args.prior_vel_sigma,
            "tentative_delete_s": args.tentative_delete_s,
            "delete_s": args.delete_s,
            "max_detections": args.max_detections,
        },
        "stonesoup_version": __import__("stonesoup").__version__,
    }
    with open(os.path.join(args.out_dir, "stonesoup_stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
        f.write("\n")
    print(f"radar detections: {n_det} in {len(scans)} scans")
    print(f"tracking loop: {loop_s:.2f} s  ({stats['measurements_per_s']:.1f} "
          f"measurements/s; reading {read_s:.2f} s not included)")
    print(f"tracks: {len(all_tracks)}  update rows: {n_rows}"
          f"  (indefinite covariances: {n_indefinite})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
