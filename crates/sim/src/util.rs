//! Small deterministic helpers: seed mixing, ids (GUIDs, hex, base64url), timestamp formats and a
//! Poisson sampler. Nothing here allocates more than the string it returns.

use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc};
use rand::Rng;
use rand::rngs::SmallRng;

/// SplitMix64 finaliser: a bijective, well-spread hash of one `u64`.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes two values into one seed (order matters).
pub(crate) const fn mix2(a: u64, b: u64) -> u64 {
    mix(a ^ mix(b).rotate_left(17))
}

/// Mixes three values into one seed.
pub(crate) const fn mix3(a: u64, b: u64, c: u64) -> u64 {
    mix2(mix2(a, b), c)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, v: u64, digits: u32) {
    for i in (0..digits).rev() {
        let nibble = ((v >> (i * 4)) & 0xF) as usize;
        out.push(HEX[nibble] as char);
    }
}

/// A version-4 style GUID in lower-case 8-4-4-4-12 form from two random words.
pub(crate) fn guid_from(a: u64, b: u64) -> String {
    let mut s = String::with_capacity(36);
    push_hex(&mut s, a >> 32, 8);
    s.push('-');
    push_hex(&mut s, (a >> 16) & 0xFFFF, 4);
    s.push('-');
    push_hex(&mut s, 0x4000 | (a & 0x0FFF), 4);
    s.push('-');
    push_hex(&mut s, 0x8000 | ((b >> 48) & 0x3FFF), 4);
    s.push('-');
    push_hex(&mut s, b & 0xFFFF_FFFF_FFFF, 12);
    s
}

/// A random GUID.
pub(crate) fn guid(rng: &mut SmallRng) -> String {
    let a: u64 = rng.random();
    let b: u64 = rng.random();
    guid_from(a, b)
}

/// A GUID derived from a seed without touching any RNG stream.
pub(crate) fn guid_of(seed: u64) -> String {
    guid_from(mix(seed), mix(seed ^ 0x5555_5555_5555_5555))
}

/// `n` lower-case hex digits (n a multiple of 16 is not required).
pub(crate) fn hex(rng: &mut SmallRng, n: usize) -> String {
    let mut s = String::with_capacity(n);
    while s.len() < n {
        let v: u64 = rng.random();
        let take = (n - s.len()).min(16) as u32;
        push_hex(&mut s, v, take);
    }
    s
}

/// `n` upper-case letters, like the `_ULAYA_` part of audit ids.
pub(crate) fn upper_letters(rng: &mut SmallRng, n: usize) -> String {
    (0..n)
        .map(|_| (b'A' + rng.random_range(0..26u8)) as char)
        .collect()
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 16 random bytes as unpadded base64url (22 characters), like `uniqueTokenIdentifier`.
pub(crate) fn token_id(rng: &mut SmallRng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    let mut s = String::with_capacity(22);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            s.push(B64URL[((n >> (18 - 6 * i)) & 0x3F) as usize] as char);
        }
    }
    s
}

/// A 12-digit upper-case MAC address without separators (`00224871C205`).
pub(crate) fn mac_of(seed: u64) -> String {
    let v = mix(seed) & 0xFFFF_FFFF;
    format!("000D3A{v:06X}").chars().take(12).collect()
}

/// Appends `v` as exactly `width` decimal digits.
fn push_digits(out: &mut Vec<u8>, v: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(b'0' + ((v / 10u32.pow(i)) % 10) as u8);
    }
}

/// ISO-8601 UTC with 7 fractional digits, as Graph writes it: `2024-03-07T11:47:00.6442361Z`.
pub(crate) fn iso7(t: DateTime<Utc>) -> String {
    let mut b = Vec::with_capacity(28);
    push_digits(&mut b, t.year().unsigned_abs(), 4);
    b.push(b'-');
    push_digits(&mut b, t.month(), 2);
    b.push(b'-');
    push_digits(&mut b, t.day(), 2);
    b.push(b'T');
    push_digits(&mut b, t.hour(), 2);
    b.push(b':');
    push_digits(&mut b, t.minute(), 2);
    b.push(b':');
    push_digits(&mut b, t.second(), 2);
    b.push(b'.');
    push_digits(&mut b, (t.nanosecond() / 100).min(9_999_999), 7);
    b.push(b'Z');
    String::from_utf8(b).unwrap_or_default()
}

/// ISO-8601 UTC with 3 fractional digits (`2022-08-22T18:05:06.133Z`), as Identity Protection writes it.
pub(crate) fn iso3(t: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 1_000_000
    )
}

/// ISO-8601 UTC without fractions (`2024-03-07T11:42:00Z`).
pub(crate) fn iso0(t: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The same instant written with a fixed offset and 7 fractional digits: `2019-10-18T04:45:48.0729893-05:00`.
pub(crate) fn iso7_offset(t: DateTime<Utc>, offset_minutes: i32) -> String {
    let local = t + TimeDelta::minutes(i64::from(offset_minutes));
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}{sign}{:02}:{:02}",
        local.year(),
        local.month(),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.nanosecond() / 100,
        off / 60,
        off % 60
    )
}

/// US-locale timestamp without zone: `3/24/2022 2:42:35 PM`.
pub(crate) fn us_locale(t: DateTime<Utc>) -> String {
    let (pm, h12) = t.hour12();
    format!(
        "{}/{}/{} {}:{:02}:{:02} {}",
        t.month(),
        t.day(),
        t.year(),
        h12,
        t.minute(),
        t.second(),
        if pm { "PM" } else { "AM" }
    )
}

/// Adds `ticks` of 100 ns.
pub(crate) fn add_ticks(t: DateTime<Utc>, ticks: i64) -> DateTime<Utc> {
    t + TimeDelta::nanoseconds(ticks.saturating_mul(100))
}

/// Adds milliseconds (may be negative).
pub(crate) fn add_ms(t: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    t + TimeDelta::milliseconds(ms)
}

/// Poisson sample: Knuth's method for small means, a rounded normal approximation above 30.
pub(crate) fn poisson(rng: &mut SmallRng, lambda: f64) -> u32 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut k = 0u32;
        let mut p = 1.0;
        loop {
            p *= rng.random::<f64>();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
    let z = normal(rng);
    let v = (lambda + lambda.sqrt() * z).round();
    if v <= 0.0 { 0 } else { v as u32 }
}

/// Standard normal sample (Box-Muller).
pub(crate) fn normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Picks an element; the slice must not be empty (callers pass static non-empty tables).
pub(crate) fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// Picks by integer weights: `items` pairs each value with its weight.
pub(crate) fn pick_weighted<'a, T>(rng: &mut SmallRng, items: &'a [(T, u32)]) -> &'a T {
    let total: u32 = items.iter().map(|(_, w)| *w).sum();
    let mut r = rng.random_range(0..total.max(1));
    for (item, w) in items {
        if r < *w {
            return item;
        }
        r -= *w;
    }
    &items[items.len() - 1].0
}

/// Picks by a weight accessor (no allocation; same draws as [`pick_weighted`]).
pub(crate) fn pick_by<'a, T>(
    rng: &mut SmallRng,
    items: &'a [T],
    weight: impl Fn(&T) -> u32,
) -> &'a T {
    let total: u32 = items.iter().map(&weight).sum();
    let mut r = rng.random_range(0..total.max(1));
    for item in items {
        let w = weight(item);
        if r < w {
            return item;
        }
        r -= w;
    }
    &items[items.len() - 1]
}

/// Whether a per-record decision with probability `permille`/1000 hits, from the record seed and a salt.
pub(crate) const fn hit(seed: u64, salt: u64, permille: u64) -> bool {
    mix2(seed, salt) % 1000 < permille
}

/// Whether a probability `p` (0..=1) hits, from the record seed and a salt.
pub(crate) fn hit_p(seed: u64, salt: u64, p: f64) -> bool {
    if p <= 0.0 {
        return false;
    }
    let r = (mix2(seed, salt) >> 11) as f64 / (1u64 << 53) as f64;
    r < p
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;

    #[test]
    fn formats() {
        let t = Utc.with_ymd_and_hms(2022, 3, 24, 14, 42, 35).unwrap()
            + TimeDelta::nanoseconds(644_236_100);
        assert_eq!(iso7(t), "2022-03-24T14:42:35.6442361Z");
        assert_eq!(iso3(t), "2022-03-24T14:42:35.644Z");
        assert_eq!(iso0(t), "2022-03-24T14:42:35Z");
        assert_eq!(us_locale(t), "3/24/2022 2:42:35 PM");
        assert_eq!(iso7_offset(t, -300), "2022-03-24T09:42:35.6442361-05:00");
    }

    #[test]
    fn ids() {
        let mut rng = SmallRng::seed_from_u64(1);
        let g = guid(&mut rng);
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        assert_eq!(token_id(&mut rng).len(), 22);
        assert_eq!(hex(&mut rng, 64).len(), 64);
        assert_eq!(mac_of(3).len(), 12);
    }

    #[test]
    fn poisson_mean() {
        let mut rng = SmallRng::seed_from_u64(7);
        for lambda in [0.3, 4.0, 80.0] {
            let n = 20_000;
            let sum: u64 = (0..n).map(|_| u64::from(poisson(&mut rng, lambda))).sum();
            let mean = sum as f64 / f64::from(n);
            assert!(
                (mean - lambda).abs() < lambda * 0.05 + 0.02,
                "{lambda}: {mean}"
            );
        }
    }
}
