//! Earth constants: the WGS-84 ellipsoid and rotation, and the EGM96 zonal J2.

/// WGS-84 semi-major axis (m).
pub const WGS84_A_M: f64 = 6_378_137.0;
/// WGS-84 flattening.
pub const WGS84_F: f64 = 1.0 / 298.257_223_563;
/// WGS-84 semi-minor axis (m).
pub const WGS84_B_M: f64 = WGS84_A_M * (1.0 - WGS84_F);
/// First eccentricity squared.
pub const WGS84_E2: f64 = WGS84_F * (2.0 - WGS84_F);
/// WGS-84 gravitational parameter including the atmosphere (m³/s²).
pub const GM_M3_S2: f64 = 3.986_004_418e14;
/// WGS-84 nominal mean angular velocity of the Earth (rad/s).
pub const OMEGA_EARTH_RAD_S: f64 = 7.292_115e-5;
/// Second zonal harmonic (unnormalised), EGM96: J2 = −√5·C̄20.
pub const J2: f64 = 1.082_626_683_553_15e-3;
/// Standard gravity for specific impulse (m/s²).
pub const G0_M_S2: f64 = 9.806_65;
