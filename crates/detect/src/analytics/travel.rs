//! Impossible travel: two successful sign-ins of one user whose locations are too far apart for the time
//! between them (great-circle distance, faster than an airliner).

use model::Record;

/// Latitude and longitude of a sign-in (`LocationDetails.geoCoordinates`).
pub(super) fn coordinates(r: &Record) -> Option<(f64, f64)> {
    let text = r.get("LocationDetails")?.as_str()?;
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let g = v.get("geoCoordinates")?;
    let lat = g.get("latitude")?.as_f64()?;
    let lon = g.get("longitude")?.as_f64()?;
    // 0/0 is what Entra reports when it has no location (AD FS on-premises sign-ins, private addresses).
    let known = lat != 0.0 || lon != 0.0;
    (known && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon))
        .then_some((lat, lon))
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

/// Whether going from one sign-in (latitude, longitude, time) to the other is impossible: at least
/// `min_km` apart and faster than `max_kmh`.
pub(super) fn impossible(
    (lat1, lon1, t1): (f64, f64, i64),
    (lat2, lon2, t2): (f64, f64, i64),
    max_kmh: f64,
    min_km: f64,
) -> bool {
    distance_km(lat1, lon1, lat2, lon2) >= min_km
        && speed_kmh(lat1, lon1, t1, lat2, lon2, t2) > max_kmh
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
        let seattle = (47.6, -122.3, 0);
        assert!(impossible(seattle, (51.5, -0.1, 2 * hour), 900.0, 500.0));
        assert!(!impossible(seattle, (51.5, -0.1, 12 * hour), 900.0, 500.0));
        // Seattle → Portland in ten minutes: far too close to call.
        assert!(!impossible(seattle, (45.5, -122.7, hour / 6), 900.0, 500.0));
    }
}
