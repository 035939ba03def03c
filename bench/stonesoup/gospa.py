#!/usr/bin/env python3
"""Independent GOSPA scorer for tripoint truth vs. a tracks.csv.

Usage:
    python3 gospa.py TRUTH_CSV TRACKS_CSV [--c-m C] [--p 1] [--alpha 2]
                     [--dt 1.0] [--t-min T] [--t-max T] [--json OUT]

GOSPA (Rahmathullah, Garcia-Fernandez & Svensson, "Generalized optimal
sub-pattern assignment metric", FUSION 2017) with alpha = 2, which splits
into localisation, missed-target and false-target parts:

    GOSPA(X, Y) = ( min_A  sum_{(i,j) in A} d(x_i, y_j)^p
                    + c^p / 2 * (|X| - |A|)           # missed truths
                    + c^p / 2 * (|Y| - |A|) )^(1/p)   # false tracks

where A ranges over assignments whose pairs are all closer than c, and d is
the Euclidean distance between ECEF positions (m).  The minimum is found with
scipy.optimize.linear_sum_assignment on the cost min(d, c)^p: an assigned
pair at d >= c costs c^p = c^p/2 + c^p/2, exactly a missed plus a false
target, so it is counted as such.

Time grid and states (a cross-check for the Rust scorer; keep in sync):
  * grid = the distinct times of truth.csv rows (optionally clipped to
    [--t-min, --t-max]);
  * a truth object exists at t if its first row <= t <= its last row; its
    position is the cubic-Hermite interpolation of its rows (exact at rows);
  * a track exists at t if its first update <= t <= its last update.  Its
    position is its last update at or before t propagated at constant
    velocity (x + vx (t - t_u)): what the tracker had said by then, as the
    Rust scorer does (`--dt` is kept for compatibility and unused).

Reported: means over the grid of the total and of each part (for p = 1 the
parts add up to the total; for p > 1 they are the p-th-power parts), and
mean counts of assigned, missed and false objects.
"""

import argparse
import csv
import json
import sys
from collections import defaultdict

import numpy as np
from scipy.optimize import linear_sum_assignment


def _group(path, id_field, time_field="time"):
    """{id: (times[k], states[k, 6])} in [x, vx, y, vy, z, vz], time sorted."""
    rows = defaultdict(list)
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows[r[id_field]].append(
                [float(r[time_field])]
                + [float(r[k]) for k in ("x", "vx", "y", "vy", "z", "vz")])
    out = {}
    for key, rs in rows.items():
        a = np.array(sorted(rs))
        out[key] = (a[:, 0], a[:, 1:])
    return out


def truth_position(times, states, t):
    """Cubic-Hermite position of a truth path at t (times[0] <= t <= times[-1])."""
    if len(times) == 1:
        return states[0, 0::2]
    k = int(np.clip(np.searchsorted(times, t) - 1, 0, len(times) - 2))
    h = times[k + 1] - times[k]
    s = (t - times[k]) / h
    p0, v0 = states[k, 0::2], states[k, 1::2]
    p1, v1 = states[k + 1, 0::2], states[k + 1, 1::2]
    return ((2 * s**3 - 3 * s**2 + 1) * p0 + (s**3 - 2 * s**2 + s) * h * v0
            + (-2 * s**3 + 3 * s**2) * p1 + (s**3 - s**2) * h * v1)


def track_position(times, states, t, dt):
    """Track position at t (times[0] <= t <= times[-1]), see module doc."""
    k = int(np.searchsorted(times, t + 1e-6, side="right")) - 1  # times[k] <= t < times[k+1]
    k = max(k, 0)
    return states[k, 0::2] + states[k, 1::2] * (t - times[k])


def gospa_step(truth_pos, track_pos, c, p):
    """GOSPA (alpha = 2) between two (n, 3) position arrays.

    Returns (total, localisation, missed, false, n_assigned, n_missed, n_false)
    with the parts as p-th powers (so total = (loc + missed + false)^(1/p)).
    """
    m, n = len(truth_pos), len(track_pos)
    loc, n_assigned = 0.0, 0
    if m and n:
        d = np.linalg.norm(truth_pos[:, None, :] - track_pos[None, :, :], axis=2)
        rows, cols = linear_sum_assignment(np.minimum(d, c) ** p)
        good = d[rows, cols] < c
        loc = float(np.sum(d[rows, cols][good] ** p))
        n_assigned = int(good.sum())
    n_missed, n_false = m - n_assigned, n - n_assigned
    missed = c**p / 2.0 * n_missed
    false = c**p / 2.0 * n_false
    total = (loc + missed + false) ** (1.0 / p)
    return total, loc, missed, false, n_assigned, n_missed, n_false


def score(truth, tracks, c, p, dt, t_min=None, t_max=None):
    grid = np.unique(np.concatenate([times for times, _ in truth.values()]))
    if t_min is not None:
        grid = grid[grid >= t_min]
    if t_max is not None:
        grid = grid[grid <= t_max]
    per_step = []
    for t in grid:
        tp = [truth_position(ts, ss, t) for ts, ss in truth.values()
              if ts[0] <= t <= ts[-1]]
        kp = [track_position(ts, ss, t, dt) for ts, ss in tracks.values()
              if ts[0] <= t <= ts[-1]]
        per_step.append(gospa_step(np.reshape(tp, (-1, 3)),
                                   np.reshape(kp, (-1, 3)), c, p))
    a = np.array(per_step).reshape(-1, 7)
    mean = a.mean(axis=0) if len(a) else np.full(7, np.nan)
    return {
        "steps": int(len(a)),
        "t_first": float(grid[0]) if len(grid) else None,
        "t_last": float(grid[-1]) if len(grid) else None,
        "c_m": c, "p": p, "alpha": 2, "dt_s": dt,
        "truth_objects": len(truth), "tracks": len(tracks),
        "mean_gospa": float(mean[0]),
        "mean_localisation": float(mean[1]),
        "mean_missed": float(mean[2]),
        "mean_false": float(mean[3]),
        "mean_n_assigned": float(mean[4]),
        "mean_n_missed": float(mean[5]),
        "mean_n_false": float(mean[6]),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("truth_csv")
    ap.add_argument("tracks_csv")
    ap.add_argument("--c-m", type=float, default=10_000.0,
                    help="cut-off distance c, metres (default 10 km)")
    ap.add_argument("--p", type=float, default=1.0, help="order p >= 1")
    ap.add_argument("--alpha", type=float, default=2.0, choices=[2.0],
                    help="only alpha = 2 (the missed/false decomposition)")
    ap.add_argument("--dt", type=float, default=1.0,
                    help="use CV propagation from the nearest track update "
                         "within +-dt s; interpolate across longer gaps")
    ap.add_argument("--t-min", type=float, default=None,
                    help="ignore grid times before this epoch time")
    ap.add_argument("--t-max", type=float, default=None,
                    help="ignore grid times after this epoch time")
    ap.add_argument("--json", default=None, help="also write results here")
    args = ap.parse_args(argv)
    if args.p < 1:
        ap.error("p must be >= 1")

    truth = _group(args.truth_csv, "id")
    tracks = _group(args.tracks_csv, "track_id")
    res = score(truth, tracks, args.c_m, args.p, args.dt, args.t_min, args.t_max)
    unit = "m" if args.p == 1 else f"m^{args.p:g}"
    print(f"GOSPA c={args.c_m:g} m p={args.p:g} alpha=2 over {res['steps']} "
          f"steps ({res['truth_objects']} truth objects, {res['tracks']} tracks)")
    print(f"  mean total        {res['mean_gospa']:12.1f} m")
    print(f"  mean localisation {res['mean_localisation']:12.1f} {unit}")
    print(f"  mean missed       {res['mean_missed']:12.1f} {unit}  "
          f"({res['mean_n_missed']:.2f} truths/step)")
    print(f"  mean false        {res['mean_false']:12.1f} {unit}  "
          f"({res['mean_n_false']:.2f} tracks/step)")
    print(f"  mean assigned     {res['mean_n_assigned']:12.2f} pairs/step")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
