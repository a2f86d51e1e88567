//! Building blocks of user sign-ins: client selection, locations, failures, authentication steps and the
//! stripping of late-arriving fields for republished records.

use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::{Value, json};

use super::signin::Kind;
use super::{Ctx, Origin};
use crate::catalog::{self, CITIES, City, FirstParty};
use crate::tenant::{Tenant, User};
use crate::util::{pick, pick_by};

/// The client application and the resource of a sign-in.
pub(crate) struct Client {
    pub(crate) app_name: String,
    pub(crate) app_id: String,
    pub(crate) res_name: String,
    pub(crate) res_id: String,
    pub(crate) client_app: &'static str,
}

/// Picks the client and resource of a user sign-in.
pub(crate) fn client(ctx: &Ctx<'_>, rng: &mut SmallRng, user: &User, kind: Kind) -> Client {
    let tenant = ctx.tenant;
    let custom = kind == Kind::Interactive && rng.random_bool(0.08);
    let own = |name: &str, app_id: &str, res_id: String| Client {
        app_name: name.to_owned(),
        app_id: app_id.to_owned(),
        res_name: name.to_owned(),
        res_id,
        client_app: "Browser",
    };
    let microsoft = |a: FirstParty, r: FirstParty, client_app: &'static str| Client {
        app_name: a.name.to_owned(),
        app_id: a.app_id.to_owned(),
        res_name: r.name.to_owned(),
        res_id: r.app_id.to_owned(),
        client_app,
    };
    match kind {
        Kind::Adfs => {
            let rp = pick(rng, &tenant.apps);
            let slug = rp.display_name.to_ascii_lowercase().replace(' ', "-");
            own(
                &rp.display_name,
                &rp.app_id,
                format!("https://{slug}.{}", tenant.federated_domain),
            )
        }
        _ if custom => {
            let app = pick(rng, &tenant.apps);
            own(&app.display_name, &app.app_id, app.app_id.clone())
        }
        Kind::Interactive => {
            let portal_boost = |a: &FirstParty, w: u32| {
                if user.is_admin() && a.name == "Azure Portal" {
                    w * 6
                } else {
                    w
                }
            };
            let (a, r, c, _) = *pick_by(rng, catalog::INTERACTIVE_APPS, |(a, _, _, w)| {
                portal_boost(a, *w)
            });
            microsoft(a, r, c)
        }
        Kind::NonInteractive => {
            let (a, r, _) = *pick_by(rng, catalog::NON_INTERACTIVE_APPS, |(_, _, w)| *w);
            microsoft(a, r, "Mobile Apps and Desktop clients")
        }
    }
}

pub(crate) fn location(rng: &mut SmallRng, city: &City) -> Value {
    let jitter = |rng: &mut SmallRng| rng.random_range(-0.04..0.04);
    obj! {
        "city" => city.name,
        "state" => city.state,
        "countryOrRegion" => city.country,
        "geoCoordinates" => obj! {
            "altitude" => Value::Null,
            "latitude" => city.lat + jitter(rng),
            "longitude" => city.lon + jitter(rng),
        },
    }
}

pub(crate) fn empty_location() -> Value {
    obj! {
        "city" => "", "state" => "", "countryOrRegion" => "",
        "geoCoordinates" => obj! { "latitude" => 0.0, "longitude" => 0.0 },
    }
}

pub(crate) fn asn(rng: &mut SmallRng, o: &Origin) -> u32 {
    if o.hostile {
        *pick(rng, &[9009, 60068, 208_091, 51_167])
    } else {
        let i = CITIES
            .iter()
            .position(|c| c.name == o.city.name)
            .unwrap_or(0);
        [
            7922, 7018, 7018, 22773, 812, 28573, 5089, 6830, 3215, 3320, 1136, 3301, 3352, 37457,
            5384, 24560, 4773, 2516, 1221, 9500,
        ][i % 20]
    }
}

pub(crate) fn failure(
    rng: &mut SmallRng,
    table: &[(u32, &'static str, u32)],
) -> (u32, &'static str) {
    let (code, reason, _) = *pick_by(rng, table, |(_, _, w)| *w);
    (code, reason)
}

pub(crate) fn federated_user<'a>(ctx: &Ctx<'a>, rng: &mut SmallRng) -> &'a User {
    let t: &'a Tenant = ctx.tenant;
    if let Some(list) = t.by_city.get(ctx.slot as usize) {
        for _ in 0..32 {
            if list.is_empty() {
                break;
            }
            let u = &t.users[*pick(rng, list) as usize];
            if u.federated {
                return u;
            }
        }
    }
    for _ in 0..256 {
        let u = &t.users[rng.random_range(0..t.users.len())];
        if u.federated {
            return u;
        }
    }
    &t.users[0]
}

pub(crate) fn step(
    at: &str,
    method: &str,
    detail: &str,
    ok: bool,
    result: &str,
    requirement: &str,
    seq: u32,
) -> Value {
    obj! {
        "authenticationStepDateTime" => at,
        "authenticationMethod" => method,
        "authenticationMethodDetail" => detail,
        "succeeded" => ok,
        "authenticationStepResultDetail" => result,
        "authenticationStepRequirement" => requirement,
        "StatusSequence" => 0,
        "RequestSequence" => seq,
    }
}

/// Removes what Entra fills in after the first publication.
pub(crate) fn strip(g: &mut Value) {
    let Some(m) = g.as_object_mut() else { return };
    if m.contains_key("mfaDetail") {
        m.insert("mfaDetail".into(), json!({}));
    }
    if let Some(Value::Array(steps)) = m.get_mut("authenticationDetails") {
        steps.truncate(1);
    }
    for k in ["riskLevelAggregated", "riskLevelDuringSignIn", "riskState"] {
        if m.contains_key(k) {
            m.insert(k.into(), "none".into());
        }
    }
    for k in [
        "riskEventTypes",
        "riskEventTypes_v2",
        "authenticationMethodsUsed",
    ] {
        if m.contains_key(k) {
            m.insert(k.into(), json!([]));
        }
    }
    if let Some(Value::Array(d)) = m.get_mut("authenticationProcessingDetails") {
        d.truncate(1);
    }
}
