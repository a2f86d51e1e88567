//! Network flow logs (wire-formats.md §7): NSG flow logs v2 (one record per NSG per minute, tuples grouped
//! by rule) and VNet flow logs v4 (`flowRecords`, millisecond timestamps, encryption column).

use rand::Rng;
use rand::rngs::SmallRng;

use super::{Built, Ctx, into_map};
use crate::catalog::{CITIES, HOSTILE_PREFIXES};
use crate::rhythm::Profile;
use crate::tenant::{AzureResource, ResourceKind, Tenant};
use crate::util::{guid_of, iso7, mix2, pick, poisson};

#[derive(Clone, Copy)]
enum Kind {
    Outbound,
    InboundDenied,
    VnetInbound,
    HttpsInbound,
}

const RULES: &[(Kind, &str)] = &[
    (Kind::Outbound, "DefaultRule_AllowInternetOutBound"),
    (Kind::InboundDenied, "DefaultRule_DenyAllInBound"),
    (Kind::VnetInbound, "DefaultRule_AllowVnetInBound"),
    (Kind::HttpsInbound, "UserRule_Allow-HTTPS-Inbound"),
];

struct Tuple {
    kind: Kind,
    src: String,
    dst: String,
    sport: u16,
    dport: u16,
    udp: bool,
    state: char,
    counters: [u64; 4],
}

fn tuples(ctx: &Ctx<'_>, rng: &mut SmallRng, local_ip: &str) -> Vec<Tuple> {
    let p = Profile::Device;
    let lambda = 5.0 * p.intensity(ctx.at, CITIES[0].utc_offset_min) / p.mean();
    let n = 1 + poisson(rng, lambda) as usize;
    (0..n)
        .map(|_| {
            let kind = match rng.random_range(0..100) {
                0..=59 => Kind::Outbound,
                60..=79 => Kind::InboundDenied,
                80..=91 => Kind::VnetInbound,
                _ => Kind::HttpsInbound,
            };
            let remote = match kind {
                Kind::Outbound => format!(
                    "{}.{}.{}.{}",
                    *pick(rng, &[13u8, 52, 20, 140]),
                    rng.random_range(0..=255u8),
                    rng.random_range(0..=255u8),
                    rng.random_range(1..=254u8)
                ),
                Kind::InboundDenied => {
                    let [a, b, c] = *pick(rng, HOSTILE_PREFIXES);
                    format!("{a}.{b}.{c}.{}", rng.random_range(2..250u8))
                }
                Kind::VnetInbound => format!(
                    "10.{}.{}.{}",
                    rng.random_range(0..=3u8),
                    rng.random_range(0..=9u8),
                    rng.random_range(4..=250u8)
                ),
                Kind::HttpsInbound => format!(
                    "{}.{}.{}.{}",
                    rng.random_range(60..200u8),
                    rng.random_range(0..=255u8),
                    rng.random_range(0..=255u8),
                    rng.random_range(1..=254u8)
                ),
            };
            let ephemeral = rng.random_range(49_152..65_535u16);
            let (src, dst, sport, dport) = match kind {
                Kind::Outbound => (
                    local_ip.to_owned(),
                    remote,
                    ephemeral,
                    *pick(rng, &[443u16, 443, 443, 80, 53]),
                ),
                Kind::InboundDenied => (
                    remote,
                    local_ip.to_owned(),
                    ephemeral,
                    *pick(rng, &[22u16, 3389, 445, 23, 5900]),
                ),
                Kind::VnetInbound => (
                    remote,
                    local_ip.to_owned(),
                    ephemeral,
                    *pick(rng, &[1433u16, 443, 5986]),
                ),
                Kind::HttpsInbound => (remote, local_ip.to_owned(), ephemeral, 443),
            };
            let denied = matches!(kind, Kind::InboundDenied);
            let state = if denied {
                'B'
            } else {
                *pick(rng, &['B', 'C', 'E', 'C'])
            };
            let counters = if state == 'B' {
                [0; 4]
            } else {
                let out = rng.random_range(1..200u64);
                let inn = rng.random_range(1..400u64);
                [
                    out,
                    out * rng.random_range(60..1400),
                    inn,
                    inn * rng.random_range(60..1400),
                ]
            };
            Tuple {
                kind,
                src,
                dst,
                sport,
                dport,
                udp: dport == 53,
                state,
                counters,
            }
        })
        .collect()
}

fn nth(t: &Tenant, kind: ResourceKind, slot: u32) -> Option<&AzureResource> {
    let all: Vec<&AzureResource> = t.resources_of(kind).collect();
    if all.is_empty() {
        None
    } else {
        Some(all[slot as usize % all.len()])
    }
}

pub(crate) fn nsg(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let Some(nsg) =
        nth(t, ResourceKind::NetworkSecurityGroup, ctx.slot).or_else(|| t.resources.first())
    else {
        return Built {
            time: ctx.at,
            graph: serde_json::json!({}),
            envelope: None,
        };
    };
    let secs = ctx.at.timestamp();
    let all = tuples(ctx, rng, &nsg.private_ip);
    let flows: Vec<_> = RULES
        .iter()
        .filter_map(|(kind, rule)| {
            let ts: Vec<String> = all
                .iter()
                .filter(|x| std::mem::discriminant(&x.kind) == std::mem::discriminant(kind))
                .map(|x| {
                    let (proto, dir) = (if x.udp { 'U' } else { 'T' }, if matches!(x.kind, Kind::Outbound) { 'O' } else { 'I' });
                    let decision = if matches!(x.kind, Kind::InboundDenied) { 'D' } else { 'A' };
                    let c = if x.state == 'B' { ",,,".to_owned() } else { format!("{},{},{},{}", x.counters[0], x.counters[1], x.counters[2], x.counters[3]) };
                    format!("{},{},{},{},{},{proto},{dir},{decision},{},{c}", secs - rng.random_range(0..60), x.src, x.dst, x.sport, x.dport, x.state)
                })
                .collect();
            (!ts.is_empty()).then(|| obj! { "rule" => *rule, "flows" => vec![obj! { "mac" => nsg.mac.as_str(), "flowTuples" => ts }] })
        })
        .collect();
    let env = into_map(obj! {
        "time" => iso7(ctx.at),
        "systemId" => guid_of(mix2(t.seed, 0x5157 + u64::from(ctx.slot))),
        "macAddress" => nsg.mac.as_str(),
        "category" => "NetworkSecurityGroupFlowEvent",
        "resourceId" => nsg.id.to_ascii_uppercase(),
        "operationName" => "NetworkSecurityGroupFlowEvents",
    });
    Built {
        time: ctx.at,
        graph: obj! { "Version" => 2, "flows" => flows },
        envelope: Some(env),
    }
}

pub(crate) fn vnet(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let Some(vnet) = nth(t, ResourceKind::VirtualNetwork, ctx.slot).or_else(|| t.resources.first())
    else {
        return Built {
            time: ctx.at,
            graph: serde_json::json!({}),
            envelope: None,
        };
    };
    let local_ip = vnet.private_ip.replace("0.0/16", "1.4");
    let ms = ctx.at.timestamp_millis();
    let all = tuples(ctx, rng, &local_ip);
    let groups: Vec<_> = RULES
        .iter()
        .filter_map(|(kind, rule)| {
            let ts: Vec<String> = all
                .iter()
                .filter(|x| std::mem::discriminant(&x.kind) == std::mem::discriminant(kind))
                .map(|x| {
                    let dir = if matches!(x.kind, Kind::Outbound) {
                        'O'
                    } else {
                        'I'
                    };
                    let state = if matches!(x.kind, Kind::InboundDenied) {
                        'D'
                    } else {
                        x.state
                    };
                    let enc = if matches!(x.kind, Kind::VnetInbound) && rng.random_bool(0.3) {
                        "X"
                    } else {
                        "NX"
                    };
                    let [a, b, c, d] = x.counters;
                    format!(
                        "{},{},{},{},{},{},{dir},{state},{enc},{a},{b},{c},{d}",
                        ms - rng.random_range(0..60_000),
                        x.src,
                        x.dst,
                        x.sport,
                        x.dport,
                        if x.udp { 17 } else { 6 }
                    )
                })
                .collect();
            (!ts.is_empty()).then(|| obj! { "rule" => *rule, "flowTuples" => ts })
        })
        .collect();
    let sub = &t.subscriptions[vnet.subscription].id;
    let region = vnet.location.to_ascii_uppercase();
    let env = into_map(obj! {
        "time" => iso7(ctx.at),
        "flowLogVersion" => 4,
        "flowLogGUID" => guid_of(mix2(t.seed, 0xF10 + u64::from(ctx.slot))),
        "macAddress" => vnet.mac.as_str(),
        "category" => "FlowLogFlowEvent",
        "flowLogResourceID" => format!("/SUBSCRIPTIONS/{}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_{region}/FLOWLOGS/{}", sub.to_ascii_uppercase(), vnet.name.to_ascii_uppercase()),
        "targetResourceID" => vnet.id.as_str(),
        "operationName" => "FlowLogFlowEvent",
    });
    let acl = guid_of(mix2(t.seed, 0xAC1 + u64::from(ctx.slot)));
    Built {
        time: ctx.at,
        graph: obj! { "flows" => vec![obj! { "aclID" => acl, "flowGroups" => groups }] },
        envelope: Some(env),
    }
}
