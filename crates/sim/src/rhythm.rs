//! Daily and weekly activity curves. A curve gives a relative intensity for a local hour and weekday;
//! [`Profile::mean`] normalises it so that a stream's configured daily rate is its weekly average.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};

/// The shape of a stream's activity over the day and week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// People at work: peaks 9-17 local, lunch dip, low night floor, quiet weekends.
    Office,
    /// Devices refreshing tokens: follows office hours but with a high floor.
    Device,
    /// Automation: constant around the clock, every day.
    Flat,
    /// Change activity by administrators: office hours, almost nothing at weekends.
    Change,
}

/// Office intensity per local hour (0-23).
const OFFICE: [f64; 24] = [
    0.04, 0.03, 0.03, 0.03, 0.04, 0.06, 0.15, 0.45, 0.85, 1.0, 1.0, 1.0, 0.75, 0.95, 1.0, 1.0,
    0.95, 0.6, 0.35, 0.22, 0.18, 0.14, 0.09, 0.06,
];

impl Profile {
    fn hour_weight(self, hour: usize) -> f64 {
        match self {
            Profile::Office | Profile::Change => OFFICE[hour],
            Profile::Device => 0.3 + 0.7 * OFFICE[hour],
            Profile::Flat => 1.0,
        }
    }

    fn weekend_factor(self) -> f64 {
        match self {
            Profile::Office => 0.15,
            Profile::Device => 0.45,
            Profile::Flat => 1.0,
            Profile::Change => 0.05,
        }
    }

    /// Relative intensity at `t` for someone whose clock is `offset_min` minutes from UTC.
    pub(crate) fn intensity(self, t: DateTime<Utc>, offset_min: i32) -> f64 {
        let local = t + TimeDelta::minutes(i64::from(offset_min));
        let weekend = local.weekday().number_from_monday() >= 6;
        let w = self.hour_weight(local.hour() as usize);
        if weekend {
            w * self.weekend_factor()
        } else {
            w
        }
    }

    /// The weekly average of [`Profile::intensity`].
    pub(crate) fn mean(self) -> f64 {
        let day: f64 = (0..24).map(|h| self.hour_weight(h)).sum::<f64>() / 24.0;
        day * (5.0 + 2.0 * self.weekend_factor()) / 7.0
    }

    /// The largest value [`Profile::intensity`] takes (for rejection sampling).
    pub(crate) fn max(self) -> f64 {
        (0..24).map(|h| self.hour_weight(h)).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn office_hours_and_weekends() {
        let monday_10 = Utc.with_ymd_and_hms(2024, 3, 4, 10, 0, 0).unwrap();
        let monday_3 = Utc.with_ymd_and_hms(2024, 3, 4, 3, 0, 0).unwrap();
        let sunday_10 = Utc.with_ymd_and_hms(2024, 3, 10, 10, 0, 0).unwrap();
        let p = Profile::Office;
        assert!(p.intensity(monday_10, 0) > 10.0 * p.intensity(monday_3, 0));
        assert!(p.intensity(monday_10, 0) > 3.0 * p.intensity(sunday_10, 0));
        // 10:00 UTC is 02:00 in Seattle.
        assert!(p.intensity(monday_10, -480) < 0.1);
        assert!((Profile::Flat.mean() - 1.0).abs() < 1e-9);
    }
}
