//! Impossible travel: two successful sign-ins of one user whose locations are too far apart for the time
//! between them (great-circle distance, faster than an airliner).

use model::Record;

/// Faster than this between two sign-ins is impossible travel, km/h.
const MAX_SPEED_KMH: f64 = 900.0;
/// Closer than this is never impossible travel (IP geolocation is coarse), km.
const MIN_DISTANCE_KM: f64 = 500.0;

/// Latitude and longitude of a sign-in (`LocationDetails.geoCoordinates`).
pub(super) fn coordinates(r: &Record) -> Option<(f64, f64)> {
    let text = r.get("LocationDetails")?.as_str()?;
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let g = v.get("geoCoordinates")?;
    let lat = g.get("latitude")?.as_f64()?;
    let lon = g.get("longitude")?.as_f64()?;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

/// Great-circle distance in km (haversine).
fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

/// The speed needed to go from one sign-in to the other, km/h (a minute at least).
pub fn speed_kmh(lat1: f64, lon1: f64, t1: i64, lat2: f64, lon2: f64, t2: i64) -> f64 {
    let hours = ((t2 - t1).abs() as f64 / 3.6e9).max(1.0 / 60.0);
    distance_km(lat1, lon1, lat2, lon2) / hours
}

/// Whether going from one sign-in to the other is impossible.
pub(super) fn impossible(lat1: f64, lon1: f64, t1: i64, lat2: f64, lon2: f64, t2: i64) -> bool {
    distance_km(lat1, lon1, lat2, lon2) >= MIN_DISTANCE_KM
        && speed_kmh(lat1, lon1, t1, lat2, lon2, t2) > MAX_SPEED_KMH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_and_speeds() {
        // Seattle → London is about 7,700 km.
        let d = distance_km(47.6, -122.3, 51.5, -0.1);
        assert!((7600.0..7800.0).contains(&d), "{d}");
        let hour = 3_600_000_000;
        assert!(impossible(47.6, -122.3, 0, 51.5, -0.1, 2 * hour));
        assert!(!impossible(47.6, -122.3, 0, 51.5, -0.1, 12 * hour));
        // Seattle → Portland in ten minutes: far too close to call.
        assert!(!impossible(47.6, -122.3, 0, 45.5, -122.7, hour / 6));
    }
}
