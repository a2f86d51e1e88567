//! What family builders get (the tenant, the record's time, slot and seed) and return, plus shared helpers
//! for picking users and network origins.

use chrono::{DateTime, Utc};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use crate::catalog::{CITIES, City, FOREIGN, HOSTILE_PREFIXES};
use crate::tenant::{Tenant, User};
use crate::util::pick;

/// What a family builder returns.
pub(crate) struct Built {
    pub(crate) time: DateTime<Utc>,
    pub(crate) graph: Value,
    pub(crate) envelope: Option<Map<String, Value>>,
}

impl Built {
    /// An Entra record: the envelope is derived at render time.
    pub(crate) fn entra(time: DateTime<Utc>, graph: Value) -> Built {
        Built {
            time,
            graph,
            envelope: None,
        }
    }
}

/// The map inside an object value (empty for anything else).
pub(crate) fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Everything a family builder may read.
pub(crate) struct Ctx<'a> {
    pub(crate) tenant: &'a Tenant,
    /// When the record is produced (scheduled time).
    pub(crate) at: DateTime<Utc>,
    /// Stream-specific slot: home-city index, NSG index, remote-network index…
    pub(crate) slot: u32,
    /// The record seed.
    pub(crate) seed: u64,
    /// Build the first, incomplete version of a record that will be republished.
    pub(crate) partial: bool,
}

impl<'a> Ctx<'a> {
    /// A fresh RNG for this record.
    pub(crate) fn rng(&self) -> SmallRng {
        SmallRng::seed_from_u64(self.seed)
    }

    /// Any enabled user of the tenant.
    pub(crate) fn any_user(&self, rng: &mut SmallRng) -> &'a User {
        let t = self.tenant;
        for _ in 0..8 {
            let u = &t.users[rng.random_range(0..t.users.len())];
            if u.enabled {
                return u;
            }
        }
        &t.users[0]
    }

    /// A user living in the slot's city (any user if that city is empty); prefers enabled accounts.
    pub(crate) fn user(&self, rng: &mut SmallRng) -> &'a User {
        let t = self.tenant;
        let list = t.by_city.get(self.slot as usize).filter(|l| !l.is_empty());
        for _ in 0..4 {
            let i = match list {
                Some(l) => *pick(rng, l) as usize,
                None => rng.random_range(0..t.users.len()),
            };
            let u = &t.users[i];
            if u.enabled {
                return u;
            }
        }
        &t.users[rng.random_range(0..t.users.len())]
    }
}

/// `v` for a complete record, the default for a partial one. The value is always computed, so a partial
/// record consumes the same random numbers as its complete republication (same ids).
pub(crate) fn keep<T: Default>(partial: bool, v: T) -> T {
    if partial { T::default() } else { v }
}

/// Where a sign-in or request comes from.
pub(crate) struct Origin {
    pub(crate) ip: String,
    pub(crate) city: &'static City,
    pub(crate) hostile: bool,
}

/// The network origin of a user's activity: office, home, phone, another network around home or (rarely,
/// `hostile_p`) an attacker.
pub(crate) fn origin(rng: &mut SmallRng, tenant: &Tenant, user: &User, hostile_p: f64) -> Origin {
    let home = &CITIES[user.home_city];
    if rng.random_bool(hostile_p) {
        let [a, b, c] = *pick(rng, HOSTILE_PREFIXES);
        return Origin {
            ip: format!("{a}.{b}.{c}.{}", rng.random_range(2..250u8)),
            city: pick(rng, FOREIGN),
            hostile: true,
        };
    }
    let _ = tenant;
    match rng.random_range(0..100) {
        0..=44 => Origin {
            ip: office_ip(user.home_city, rng),
            city: home,
            hostile: false,
        },
        45..=74 => Origin {
            ip: user.home_ip.clone(),
            city: home,
            hostile: false,
        },
        75..=92 => Origin {
            ip: user.mobile_ip.clone(),
            city: home,
            hostile: false,
        },
        _ => {
            // Another network around home (café, hotel, a friend's Wi-Fi). The city drawn is not used: a
            // user does not teleport between continents from one sign-in to the next (that made every
            // benign week full of impossible travel); the draw stays so other records keep their values.
            let _ = pick(rng, CITIES);
            let [a, b] = home.ip_prefix;
            Origin {
                ip: format!(
                    "{a}.{b}.{}.{}",
                    rng.random_range(0..=255u8),
                    rng.random_range(1..=254u8)
                ),
                city: home,
                hostile: false,
            }
        }
    }
}

/// Office egress address of a city (documentation ranges, RFC 5737).
pub(crate) fn office_ip(city: usize, rng: &mut SmallRng) -> String {
    if rng.random_bool(0.5) {
        format!("203.0.113.{}", 10 + city)
    } else {
        format!("198.51.100.{}", 10 + city)
    }
}
