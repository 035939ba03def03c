//! Regions a warning can name: Japan's 47 prefectures and Korea's 17 provinces (Natural Earth
//! admin-1, ids are ISO 3166-2 codes such as `JP-02`), plus configurable areas (approximate
//! EEZs, Guam, open-sea zones) from TOML.
//!
//! Point queries are what the warning engine does most (every sub-point of every sampled
//! trajectory), so the admin-1 regions are indexed on a 0.05° grid: a cell that no region
//! boundary touches answers from the grid alone; a cell a boundary crosses keeps the short list
//! of regions whose edges touch it and answers by an exact even-odd test on those. Answers are
//! therefore exact, not rasterised. Longitudes are taken as-is (no antimeridian wrap): every
//! region here lies between 120°E and 155°E.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::WarnError;

/// A region id: an ISO 3166-2 subdivision code (`JP-02`, `KR-11`, `US-GU`) or, for a
/// configured area without one, a lower-case name (`jp-eez-approx`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionId(String);

impl RegionId {
    pub fn parse(s: &str) -> Result<Self, String> {
        if is_iso_3166_2(s) || is_area_name(s) {
            Ok(RegionId(s.to_owned()))
        } else {
            Err(format!(
                "invalid region id {s:?}: expected an ISO 3166-2 code such as \"JP-02\" or a lower-case area name such as \"jp-eez-approx\""
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// True for ISO 3166-2 codes (geocode `ISO3166-2` in CAP).
    pub fn is_iso(&self) -> bool {
        is_iso_3166_2(&self.0)
    }
}

fn is_iso_3166_2(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 4
        && b.len() <= 6
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_uppercase()
        && b[2] == b'-'
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn is_area_name(s: &str) -> bool {
    (2..=40).contains(&s.len())
        && s.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

impl TryFrom<String> for RegionId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        RegionId::parse(&s)
    }
}

impl From<RegionId> for String {
    fn from(r: RegionId) -> String {
        r.0
    }
}

impl std::fmt::Display for RegionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A region's names in the three alert languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub en: String,
    pub ja: String,
    pub ko: String,
}

/// What a region is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    /// A prefecture or province (land, ISO 3166-2).
    Admin1,
    /// A configured area (sea zone, EEZ approximation, territory).
    Area,
}

/// One polygon: an exterior ring and holes, `[lon_deg, lat_deg]` vertices (GeoJSON order).
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon {
    pub rings: Vec<Vec<[f64; 2]>>,
}

impl Polygon {
    /// Even-odd test over all rings (holes included).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        let mut inside = false;
        for ring in &self.rings {
            let n = ring.len();
            let mut j = n - 1;
            for i in 0..n {
                let [xi, yi] = ring[i];
                let [xj, yj] = ring[j];
                if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
                    inside = !inside;
                }
                j = i;
            }
        }
        inside
    }

    /// Unsigned area of the exterior ring in square degrees (for ranking islands).
    fn exterior_area(&self) -> f64 {
        let r = &self.rings[0];
        let mut a = 0.0;
        for i in 0..r.len() {
            let [x0, y0] = r[i];
            let [x1, y1] = r[(i + 1) % r.len()];
            a += x0 * y1 - x1 * y0;
        }
        0.5 * a.abs()
    }
}

/// A named region with its geometry.
#[derive(Clone, Debug)]
pub struct Region {
    pub id: RegionId,
    pub kind: RegionKind,
    pub names: Names,
    pub polygons: Vec<Polygon>,
    /// `[min_lon, min_lat, max_lon, max_lat]`.
    pub bbox: [f64; 4],
    /// A sea area (an object falling only here fell "at sea").
    pub sea: bool,
}

impl Region {
    pub fn contains(&self, lat_deg: f64, lon_deg: f64) -> bool {
        lon_deg >= self.bbox[0]
            && lon_deg <= self.bbox[2]
            && lat_deg >= self.bbox[1]
            && lat_deg <= self.bbox[3]
            && self.polygons.iter().any(|p| p.contains(lon_deg, lat_deg))
    }

    /// Polygons for a CAP `<polygon>`: at most `max_polygons` of the largest parts (islands
    /// below that rank are dropped; the ISO 3166-2 geocode stays authoritative), each
    /// Douglas–Peucker-simplified to at most `max_points` points, as closed `[lat, lon]` rings.
    pub fn cap_polygons(&self, max_polygons: usize, max_points: usize) -> Vec<Vec<[f64; 2]>> {
        let mut parts: Vec<&Polygon> = self.polygons.iter().collect();
        parts.sort_by(|a, b| b.exterior_area().total_cmp(&a.exterior_area()));
        parts
            .into_iter()
            .take(max_polygons)
            .filter_map(|p| {
                let ring = simplify_to(&p.rings[0], max_points.max(4));
                (ring.len() >= 4).then(|| ring.iter().map(|&[lon, lat]| [lat, lon]).collect())
            })
            .collect()
    }
}

/// Simplifies a closed ring until it has at most `max_points` points (closing point included),
/// doubling the Douglas–Peucker tolerance from 0.005°.
fn simplify_to(ring: &[[f64; 2]], max_points: usize) -> Vec<[f64; 2]> {
    let mut closed: Vec<[f64; 2]> = ring.to_vec();
    if closed.first() != closed.last() {
        if let Some(&f) = closed.first() {
            closed.push(f);
        }
    }
    if closed.len() <= max_points {
        return closed;
    }
    let mut tol = 0.005;
    loop {
        let s = douglas_peucker(&closed, tol);
        if s.len() <= max_points || tol > 10.0 {
            return s;
        }
        tol *= 2.0;
    }
}

fn douglas_peucker(pts: &[[f64; 2]], tol: f64) -> Vec<[f64; 2]> {
    // A closed ring: split at the point farthest from the start so both halves are open paths.
    let n = pts.len();
    if n < 4 {
        return pts.to_vec();
    }
    let far = (1..n - 1)
        .max_by(|&a, &b| dist2(pts[0], pts[a]).total_cmp(&dist2(pts[0], pts[b])))
        .unwrap_or(n / 2);
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[far] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0, far), (far, n - 1)];
    while let Some((a, b)) = stack.pop() {
        if b <= a + 1 {
            continue;
        }
        let (mut best, mut best_d) = (a, 0.0);
        for i in a + 1..b {
            let d = seg_dist(pts[i], pts[a], pts[b]);
            if d > best_d {
                best = i;
                best_d = d;
            }
        }
        if best_d > tol {
            keep[best] = true;
            stack.push((a, best));
            stack.push((best, b));
        }
    }
    pts.iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

fn dist2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

fn seg_dist(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    dist2(p, [a[0] + t * dx, a[1] + t * dy]).sqrt()
}

const CELL_DEG: f64 = 0.05;
const MIXED: u32 = 1 << 31;

/// Grid index over the admin-1 regions (see the module doc).
#[derive(Clone, Debug, Default)]
struct Grid {
    lon0: f64,
    lat0: f64,
    nx: usize,
    ny: usize,
    /// 0: no region; k: inside admin region k−1; MIXED|i: candidates[i].
    cells: Vec<u32>,
    candidates: Vec<Vec<u16>>,
}

/// All regions, admin-1 first, with the point index.
#[derive(Clone, Debug)]
pub struct RegionSet {
    regions: Vec<Region>,
    by_id: HashMap<RegionId, usize>,
    n_admin: usize,
    grid: Grid,
}

/// The regions shipped with tripoint: Natural Earth admin-1 for Japan and Korea and the areas
/// of `data/areas.toml` (provenance in `data/PROVENANCE.md`).
pub const BUILTIN_ADMIN1_GEOJSON: &str = include_str!("../data/jp_kr_admin1.geojson");
pub const BUILTIN_AREAS_TOML: &str = include_str!("../data/areas.toml");

#[derive(Deserialize)]
struct FeatureCollection {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreasFile {
    area: Vec<AreaEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaEntry {
    id: String,
    names: Names,
    #[serde(default)]
    sea: bool,
    /// `[lat_deg, lon_deg]` vertices (the CAP order; closed or not).
    polygon: Vec<[f64; 2]>,
}

fn bad(source: &str, field: String, msg: impl Into<String>) -> WarnError {
    WarnError::Regions {
        source_name: source.to_owned(),
        field,
        message: msg.into(),
    }
}

fn ring_from_json(
    v: &serde_json::Value,
    source: &str,
    field: &str,
) -> Result<Vec<[f64; 2]>, WarnError> {
    let arr = v
        .as_array()
        .ok_or_else(|| bad(source, field.to_owned(), "expected an array of positions"))?;
    let mut ring = Vec::with_capacity(arr.len());
    for (k, p) in arr.iter().enumerate() {
        let f = format!("{field}[{k}]");
        let pos = p.as_array().ok_or_else(|| {
            bad(
                source,
                f.clone(),
                "expected a position [lon, lat]".to_owned(),
            )
        })?;
        let lon = pos.first().and_then(|x| x.as_f64());
        let lat = pos.get(1).and_then(|x| x.as_f64());
        match (lon, lat) {
            (Some(lon), Some(lat))
                if lon.is_finite()
                    && lat.is_finite()
                    && (-180.0..=180.0).contains(&lon)
                    && (-90.0..=90.0).contains(&lat) =>
            {
                ring.push([lon, lat])
            }
            _ => {
                return Err(bad(
                    source,
                    f,
                    format!("expected [lon, lat] in degrees within range, got {p}"),
                ))
            }
        }
    }
    if ring.len() < 4 {
        return Err(bad(
            source,
            field.to_owned(),
            format!("a ring needs at least 4 positions, got {}", ring.len()),
        ));
    }
    Ok(ring)
}

fn polygon_from_json(
    v: &serde_json::Value,
    source: &str,
    field: &str,
) -> Result<Polygon, WarnError> {
    let rings = v
        .as_array()
        .ok_or_else(|| bad(source, field.to_owned(), "expected an array of rings"))?;
    if rings.is_empty() {
        return Err(bad(source, field.to_owned(), "a polygon needs a ring"));
    }
    let rings = rings
        .iter()
        .enumerate()
        .map(|(k, r)| ring_from_json(r, source, &format!("{field}[{k}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon { rings })
}

fn bbox_of(polys: &[Polygon]) -> [f64; 4] {
    let mut b = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    for p in polys {
        for &[lon, lat] in &p.rings[0] {
            b[0] = b[0].min(lon);
            b[1] = b[1].min(lat);
            b[2] = b[2].max(lon);
            b[3] = b[3].max(lat);
        }
    }
    b
}

impl RegionSet {
    /// The built-in regions.
    pub fn builtin() -> Result<Self, WarnError> {
        Self::from_sources(
            BUILTIN_ADMIN1_GEOJSON,
            "data/jp_kr_admin1.geojson",
            BUILTIN_AREAS_TOML,
            "data/areas.toml",
        )
    }

    /// Admin-1 regions from a GeoJSON FeatureCollection whose features carry `iso_3166_2`,
    /// `name_en`, `name_ja` and `name_ko`, plus areas from a TOML `[[area]]` list.
    pub fn from_sources(
        geojson: &str,
        geojson_name: &str,
        areas_toml: &str,
        areas_name: &str,
    ) -> Result<Self, WarnError> {
        let fc: FeatureCollection = serde_json::from_str(geojson)
            .map_err(|e| bad(geojson_name, "(file)".into(), e.to_string()))?;
        if fc.kind != "FeatureCollection" {
            return Err(bad(
                geojson_name,
                "type".into(),
                format!("expected \"FeatureCollection\", got {:?}", fc.kind),
            ));
        }
        let mut regions = Vec::new();
        for (i, f) in fc.features.iter().enumerate() {
            let at = |k: &str| format!("features[{i}].{k}");
            let props = f
                .get("properties")
                .ok_or_else(|| bad(geojson_name, at("properties"), "missing"))?;
            let text = |k: &str| -> Result<String, WarnError> {
                props
                    .get(k)
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.trim().is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        bad(
                            geojson_name,
                            at(&format!("properties.{k}")),
                            "missing or not a non-empty string",
                        )
                    })
            };
            let code = text("iso_3166_2")?;
            let id = RegionId::parse(&code)
                .ok()
                .filter(RegionId::is_iso)
                .ok_or_else(|| {
                    bad(
                        geojson_name,
                        at("properties.iso_3166_2"),
                        format!("{code:?} is not an ISO 3166-2 code"),
                    )
                })?;
            let names = Names {
                en: text("name_en")?,
                ja: text("name_ja")?,
                ko: text("name_ko")?,
            };
            let geom = f
                .get("geometry")
                .ok_or_else(|| bad(geojson_name, at("geometry"), "missing"))?;
            let coords = geom
                .get("coordinates")
                .ok_or_else(|| bad(geojson_name, at("geometry.coordinates"), "missing"))?;
            let polygons = match geom.get("type").and_then(|t| t.as_str()) {
                Some("Polygon") => vec![polygon_from_json(
                    coords,
                    geojson_name,
                    &at("geometry.coordinates"),
                )?],
                Some("MultiPolygon") => coords
                    .as_array()
                    .ok_or_else(|| {
                        bad(
                            geojson_name,
                            at("geometry.coordinates"),
                            "expected an array of polygons",
                        )
                    })?
                    .iter()
                    .enumerate()
                    .map(|(k, p)| {
                        polygon_from_json(
                            p,
                            geojson_name,
                            &at(&format!("geometry.coordinates[{k}]")),
                        )
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                other => {
                    return Err(bad(
                        geojson_name,
                        at("geometry.type"),
                        format!("expected \"Polygon\" or \"MultiPolygon\", got {other:?}"),
                    ))
                }
            };
            let bbox = bbox_of(&polygons);
            regions.push(Region {
                id,
                kind: RegionKind::Admin1,
                names,
                polygons,
                bbox,
                sea: false,
            });
        }
        let n_admin = regions.len();
        let areas: AreasFile = toml::from_str(areas_toml)
            .map_err(|e| bad(areas_name, "(file)".into(), e.to_string()))?;
        for (i, a) in areas.area.into_iter().enumerate() {
            let at = |k: &str| format!("area[{i}].{k}");
            let id = RegionId::parse(&a.id).map_err(|e| bad(areas_name, at("id"), e))?;
            if a.polygon.len() < 3 {
                return Err(bad(
                    areas_name,
                    at("polygon"),
                    format!("needs at least 3 vertices, got {}", a.polygon.len()),
                ));
            }
            let mut ring = Vec::with_capacity(a.polygon.len() + 1);
            for (k, &[lat, lon]) in a.polygon.iter().enumerate() {
                if !(lat.is_finite()
                    && lon.is_finite()
                    && (-90.0..=90.0).contains(&lat)
                    && (-180.0..=180.0).contains(&lon))
                {
                    return Err(bad(
                        areas_name,
                        at(&format!("polygon[{k}]")),
                        format!("expected [lat_deg, lon_deg], got [{lat}, {lon}]"),
                    ));
                }
                ring.push([lon, lat]);
            }
            if ring.first() != ring.last() {
                ring.push(ring[0]);
            }
            let polygons = vec![Polygon { rings: vec![ring] }];
            let bbox = bbox_of(&polygons);
            regions.push(Region {
                id,
                kind: RegionKind::Area,
                names: a.names,
                polygons,
                bbox,
                sea: a.sea,
            });
        }
        let mut by_id = HashMap::new();
        for (i, r) in regions.iter().enumerate() {
            if by_id.insert(r.id.clone(), i).is_some() {
                return Err(bad(
                    if i < n_admin {
                        geojson_name
                    } else {
                        areas_name
                    },
                    r.id.to_string(),
                    "region id appears twice",
                ));
            }
        }
        let grid = Grid::build(&regions[..n_admin]);
        Ok(RegionSet {
            regions,
            by_id,
            n_admin,
            grid,
        })
    }

    pub fn len(&self) -> usize {
        self.regions.len()
    }
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }
    pub fn get(&self, i: usize) -> &Region {
        &self.regions[i]
    }
    pub fn all(&self) -> &[Region] {
        &self.regions
    }
    pub fn index_of(&self, id: &str) -> Option<usize> {
        RegionId::parse(id)
            .ok()
            .and_then(|r| self.by_id.get(&r).copied())
    }

    /// The admin-1 region (prefecture/province) containing a point, if any: exact.
    pub fn admin_at(&self, lat_deg: f64, lon_deg: f64) -> Option<usize> {
        self.grid.lookup(&self.regions, lat_deg, lon_deg)
    }

    /// The configured areas containing a point.
    pub fn areas_at(&self, lat_deg: f64, lon_deg: f64) -> impl Iterator<Item = usize> + '_ {
        (self.n_admin..self.regions.len())
            .filter(move |&i| self.regions[i].contains(lat_deg, lon_deg))
    }

    /// Every region containing the point: the admin-1 one first, then areas.
    pub fn regions_at(&self, lat_deg: f64, lon_deg: f64) -> impl Iterator<Item = usize> + '_ {
        self.admin_at(lat_deg, lon_deg)
            .into_iter()
            .chain(self.areas_at(lat_deg, lon_deg))
    }
}

impl Grid {
    fn build(regions: &[Region]) -> Grid {
        if regions.is_empty() {
            return Grid::default();
        }
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for r in regions {
            b[0] = b[0].min(r.bbox[0]);
            b[1] = b[1].min(r.bbox[1]);
            b[2] = b[2].max(r.bbox[2]);
            b[3] = b[3].max(r.bbox[3]);
        }
        let lon0 = (b[0] / CELL_DEG).floor() * CELL_DEG;
        let lat0 = (b[1] / CELL_DEG).floor() * CELL_DEG;
        let nx = ((b[2] - lon0) / CELL_DEG).ceil() as usize + 1;
        let ny = ((b[3] - lat0) / CELL_DEG).ceil() as usize + 1;
        let mut g = Grid {
            lon0,
            lat0,
            nx,
            ny,
            cells: vec![0; nx * ny],
            candidates: Vec::new(),
        };
        // Cells touched by any edge's bounding box are boundary cells (conservative, so exact).
        let mut touched: HashMap<usize, Vec<u16>> = HashMap::new();
        for (k, r) in regions.iter().enumerate() {
            for p in &r.polygons {
                for ring in &p.rings {
                    for w in ring.windows(2) {
                        let (ix0, iy0) = g.cell(w[0][1], w[0][0]);
                        let (ix1, iy1) = g.cell(w[1][1], w[1][0]);
                        for iy in iy0.min(iy1)..=iy0.max(iy1) {
                            for ix in ix0.min(ix1)..=ix0.max(ix1) {
                                let list = touched.entry(iy * nx + ix).or_default();
                                if list.last() != Some(&(k as u16)) && !list.contains(&(k as u16)) {
                                    list.push(k as u16);
                                }
                            }
                        }
                    }
                }
            }
        }
        for (k, r) in regions.iter().enumerate() {
            let (ix0, iy0) = g.cell(r.bbox[1], r.bbox[0]);
            let (ix1, iy1) = g.cell(r.bbox[3], r.bbox[2]);
            for iy in iy0..=iy1 {
                for ix in ix0..=ix1 {
                    let c = iy * nx + ix;
                    if touched.contains_key(&c) || g.cells[c] != 0 {
                        continue;
                    }
                    let lat = lat0 + (iy as f64 + 0.5) * CELL_DEG;
                    let lon = lon0 + (ix as f64 + 0.5) * CELL_DEG;
                    if r.polygons.iter().any(|p| p.contains(lon, lat)) {
                        g.cells[c] = k as u32 + 1;
                    }
                }
            }
        }
        let mut touched: Vec<_> = touched.into_iter().collect();
        touched.sort_unstable_by_key(|(c, _)| *c);
        for (c, list) in touched {
            g.cells[c] = MIXED | g.candidates.len() as u32;
            g.candidates.push(list);
        }
        g
    }

    fn cell(&self, lat: f64, lon: f64) -> (usize, usize) {
        let ix = ((lon - self.lon0) / CELL_DEG).floor().max(0.0) as usize;
        let iy = ((lat - self.lat0) / CELL_DEG).floor().max(0.0) as usize;
        (ix.min(self.nx - 1), iy.min(self.ny - 1))
    }

    fn lookup(&self, regions: &[Region], lat: f64, lon: f64) -> Option<usize> {
        if self.nx == 0 {
            return None;
        }
        let fx = (lon - self.lon0) / CELL_DEG;
        let fy = (lat - self.lat0) / CELL_DEG;
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return None;
        }
        let v = self.cells[fy as usize * self.nx + fx as usize];
        if v == 0 {
            None
        } else if v & MIXED == 0 {
            Some(v as usize - 1)
        } else {
            self.candidates[(v & !MIXED) as usize]
                .iter()
                .map(|&k| k as usize)
                .find(|&k| regions[k].polygons.iter().any(|p| p.contains(lon, lat)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_regions_load_with_all_prefectures_and_provinces() {
        let set = RegionSet::builtin().unwrap();
        let jp = set
            .all()
            .iter()
            .filter(|r| r.id.as_str().starts_with("JP-"))
            .count();
        let kr = set
            .all()
            .iter()
            .filter(|r| r.id.as_str().starts_with("KR-"))
            .count();
        assert_eq!((jp, kr), (47, 17));
        // Cities well inside their prefectures / provinces.
        for (lat, lon, id) in [
            (40.82, 140.74, "JP-02"), // Aomori city
            (43.06, 141.35, "JP-01"), // Sapporo
            (26.21, 127.68, "JP-47"), // Naha
            (35.68, 139.69, "JP-13"), // Tokyo
            (37.57, 126.98, "KR-11"), // Seoul
            (35.18, 129.08, "KR-26"), // Busan
            (33.50, 126.53, "KR-49"), // Jeju city
        ] {
            let got = set.admin_at(lat, lon).map(|i| set.get(i).id.to_string());
            assert_eq!(got.as_deref(), Some(id), "{lat},{lon}");
        }
        // Open sea.
        assert_eq!(set.admin_at(40.0, 135.0), None);
        assert_eq!(set.admin_at(38.0, 150.0), None);
    }

    #[test]
    fn grid_answers_equal_the_exact_test_everywhere() {
        let set = RegionSet::builtin().unwrap();
        let mut n = 0;
        let mut lat = 24.0;
        while lat < 46.0 {
            let mut lon = 122.0;
            while lon < 146.0 {
                let exact = (0..set.n_admin).find(|&k| set.get(k).contains(lat, lon));
                assert_eq!(set.admin_at(lat, lon), exact, "{lat},{lon}");
                n += 1;
                lon += 0.0137;
            }
            lat += 0.0291;
        }
        assert!(n > 1_000_000);
    }

    #[test]
    fn cap_polygons_respect_limits_and_close() {
        let set = RegionSet::builtin().unwrap();
        for r in set.all() {
            let polys = r.cap_polygons(8, 100);
            assert!(!polys.is_empty(), "{}", r.id);
            for p in polys {
                assert!(p.len() >= 4 && p.len() <= 100, "{} {}", r.id, p.len());
                assert_eq!(p.first(), p.last());
            }
        }
    }

    #[test]
    fn malformed_region_files_name_the_field() {
        let e = RegionSet::from_sources("{\"type\":\"FeatureCollection\",\"features\":[{\"properties\":{\"iso_3166_2\":\"JP-99\",\"name_en\":\"x\",\"name_ja\":\"x\",\"name_ko\":\"x\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,\"a\"],[0,0]]]}}]}", "g.json", "area = []", "a.toml").unwrap_err().to_string();
        assert!(e.contains("features[0].geometry.coordinates[0][2]"), "{e}");
        let e = RegionSet::from_sources("{\"type\":\"FeatureCollection\",\"features\":[{\"properties\":{\"iso_3166_2\":\"Aomori\",\"name_en\":\"x\",\"name_ja\":\"x\",\"name_ko\":\"x\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[]}}]}", "g.json", "area = []", "a.toml").unwrap_err().to_string();
        assert!(e.contains("iso_3166_2") && e.contains("Aomori"), "{e}");
        let e = RegionSet::from_sources("not json", "g.json", "area = []", "a.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("g.json"), "{e}");
        let e = RegionSet::from_sources(
            "{\"type\":\"FeatureCollection\",\"features\":[]}",
            "g.json",
            "[[area]]\nid = \"Bad Id\"\nnames = { en = \"a\", ja = \"a\", ko = \"a\" }\npolygon = [[0,0],[0,1],[1,1]]",
            "a.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("area[0].id"), "{e}");
        assert!(RegionId::parse("JP-02").unwrap().is_iso());
        assert!(!RegionId::parse("jp-eez-approx").unwrap().is_iso());
        assert!(RegionId::parse("JP 02").is_err());
    }
}
