#!/usr/bin/env bash
# Regenerates the GeographicLib reference vectors used by crates/physics/tests/geodesy_reference.rs.
# Needs Debian's geographiclib-tools (CartConvert, GeodSolve: C++ GeographicLib by C. F. F. Karney)
# and python3 (only to draw the seeded random points). The outputs are committed; CI does not run this.
set -euo pipefail
out=crates/physics/tests/data
mkdir -p "$out"
python3 - > /tmp/tp_geo_points.txt <<'PY'
import random
random.seed(20221004)
alts = [-1000.0, 0.0, 1.0, 1000.0, 10_000.0, 86_000.0, 500_000.0, 1_000_000.0, 6_000_000.0,
        20_200_000.0, 35_786_000.0, 40_000_000.0]
pts = []
for lat in (-90.0, -89.9999, -45.0, 0.0, 45.0, 89.9999, 90.0):
    for lon in (-180.0, -90.0, 0.0, 135.0):
        for h in alts:
            pts.append((lat, lon, h))
for _ in range(600):
    lat = random.uniform(-90, 90)
    lon = random.uniform(-180, 180)
    h = random.choice([random.uniform(-1000, 100_000), random.uniform(100_000, 2_000_000),
                       random.uniform(2_000_000, 40_000_000)])
    pts.append((lat, lon, h))
for p in pts:
    print("%.12f %.12f %.6f" % p)
PY
{
  echo "lat_deg,lon_deg,h_m,x_m,y_m,z_m"
  CartConvert -p 9 < /tmp/tp_geo_points.txt | paste -d' ' /tmp/tp_geo_points.txt - | awk '{print $1","$2","$3","$4","$5","$6}'
} > "$out/geocentric.csv"
python3 - > /tmp/tp_geod_pairs.txt <<'PY'
import random
random.seed(20231213)
pairs = [(40.61, 126.43, 40.89, 140.19), (39.66, 124.71, 26.14, 127.71), (0, 0, 0.5, 179.7),
         (0, 0, 0, 90), (10, 20, 10, 20.000001), (-30, 0, 30, 180)]
for _ in range(300):
    pairs.append((random.uniform(-89, 89), random.uniform(-180, 180),
                  random.uniform(-89, 89), random.uniform(-180, 180)))
for p in pairs:
    print("%.10f %.10f %.10f %.10f" % p)
PY
{
  echo "lat1_deg,lon1_deg,lat2_deg,lon2_deg,azi1_deg,azi2_deg,s12_m"
  GeodSolve -i -p 6 < /tmp/tp_geod_pairs.txt | paste -d' ' /tmp/tp_geod_pairs.txt - | awk '{print $1","$2","$3","$4","$5","$6","$7}'
} > "$out/geodesic_inverse.csv"
wc -l "$out"/*.csv
