//! Global Secure Access: traffic logs, connection events, remote network health and alerts
//! (Graph beta `networkaccess` objects, camelCase).

use chrono::TimeDelta;
use rand::Rng;
use rand::rngs::SmallRng;
use serde_json::Value;

use super::{Built, Ctx, keep, origin};
use crate::catalog::{CITIES, WEB_DESTINATIONS};
use crate::tenant::{Device, User};
use crate::util::{guid, guid_of, iso7, mix2, pick, pick_weighted};

const AGENT_VERSION: &str = "2.1.36";

struct Flow<'a> {
    user: &'a User,
    device: &'a Device,
    fqdn: &'static str,
    category: &'static str,
    traffic_type: &'static str,
    source_ip: String,
    dest_ip: String,
    process: &'static str,
    region: &'static str,
}

fn dest_ip(rng: &mut SmallRng, fqdn: &str, traffic_type: &str) -> String {
    let h = fqdn
        .bytes()
        .fold(7u8, |h, b| h.wrapping_mul(31).wrapping_add(b));
    match traffic_type {
        "microsoft365" => format!("13.107.{}.{}", h % 64, rng.random_range(1..250u8)),
        "private" => format!("10.20.{}.{}", h % 16, rng.random_range(2..250u8)),
        _ => format!("140.82.{}.{}", h, rng.random_range(1..250u8)),
    }
}

fn flow<'a>(ctx: &Ctx<'a>, rng: &mut SmallRng) -> Flow<'a> {
    let user = ctx.user(rng);
    let device = &user.devices[0];
    let (fqdn, category, traffic_type) = *pick_weighted(
        rng,
        &WEB_DESTINATIONS
            .iter()
            .map(|(f, c, t, w)| ((*f, *c, *t), *w))
            .collect::<Vec<_>>(),
    );
    let o = origin(rng, ctx.tenant, user, 0.0);
    let dest_ip = dest_ip(rng, fqdn, traffic_type);
    let process = match traffic_type {
        "microsoft365" => *pick(
            rng,
            &["msedge.exe", "Teams.exe", "OUTLOOK.EXE", "OneDrive.exe"],
        ),
        "private" => *pick(rng, &["msedge.exe", "mstsc.exe", "explorer.exe"]),
        _ => *pick(rng, &["msedge.exe", "chrome.exe", "firefox.exe", "git.exe"]),
    };
    Flow {
        user,
        device,
        fqdn,
        category,
        traffic_type,
        source_ip: o.ip,
        dest_ip,
        process,
        region: CITIES[user.home_city].region,
    }
}

fn os_version(device: &Device) -> &'static str {
    match device.os {
        "Windows 11" => "10.0.22631",
        "MacOs" => "14.3.1",
        "Linux" => "6.5.0",
        _ => "10.0.19045",
    }
}

pub(crate) fn traffic(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let f = flow(ctx, rng);
    let blocked = matches!(f.category, "Gambling" | "PeerToPeer");
    let private = f.traffic_type == "private";
    let drawn = (
        rng.random_range(400..40_000),
        rng.random_range(1_000..2_500_000),
    );
    // Draw unconditionally: a partial record must consume the same random numbers as the complete one.
    let (sent, received) = if ctx.partial || blocked {
        (0, 0)
    } else {
        drawn
    };
    let profile_id = guid_of(mix2(t.seed, 0xF117));
    let policy_id = guid_of(mix2(t.seed, if blocked { 0xB10C } else { 0xA110 }));
    let private_details = if private {
        obj! {
            "accessType" => "quickAccess",
            "connectorId" => guid_of(mix2(t.seed, 0xC0EC)),
            "connectorIp" => "10.20.0.4",
            "connectorName" => format!("{}-connector-01", t.name.to_ascii_lowercase()),
            "processingRegion" => f.region,
        }
    } else {
        Value::Null
    };
    let g = obj! {
        "transactionId" => guid(rng),
        "connectionId" => guid(rng),
        "sessionId" => guid(rng),
        "createdDateTime" => iso7(ctx.at),
        "trafficType" => f.traffic_type,
        "action" => if blocked { "block" } else { "allow" },
        "agentVersion" => AGENT_VERSION,
        "destinationFQDN" => f.fqdn,
        "destinationIp" => f.dest_ip.as_str(),
        "destinationPort" => if private && f.process == "mstsc.exe" { 3389 } else { 443 },
        "destinationUrl" => format!("https://{}/", f.fqdn),
        "destinationWebCategory" => obj! { "id" => f.category, "displayName" => f.category, "group" => if private { "Private" } else { "General" } },
        "deviceCategory" => "client",
        "deviceId" => f.device.id.as_str(),
        "deviceOperatingSystem" => f.device.os,
        "deviceOperatingSystemVersion" => os_version(f.device),
        "filteringProfileId" => profile_id,
        "filteringProfileName" => "Baseline profile",
        "headers" => obj! { "origin" => "", "referrer" => "", "xForwardedFor" => f.source_ip.as_str() },
        "initiatingProcessName" => f.process,
        "networkProtocol" => "ipv4",
        "policyId" => policy_id,
        "policyName" => if blocked { "Block risky categories" } else { "Allow business traffic" },
        "policyRuleId" => guid_of(mix2(t.seed, 0x5E1)),
        "policyRuleName" => if blocked { "Block gambling and P2P" } else { "Default allow" },
        "popProcessingRegion" => f.region,
        "privateAccessDetails" => private_details,
        "accessType" => if private { "quickAccess" } else { "" },
        "connectionStatus" => if ctx.partial { "open" } else { "closed" },
        "receivedBytes" => received,
        "sentBytes" => sent,
        "resourceTenantId" => t.tenant_id.as_str(),
        "sourceIp" => f.source_ip.as_str(),
        "sourcePort" => rng.random_range(49_152..65_535),
        "tenantId" => t.tenant_id.as_str(),
        "threatType" => "",
        "description" => "",
        "transportProtocol" => "tcp",
        "userId" => f.user.id.as_str(),
        "userPrincipalName" => f.user.upn.as_str(),
        "applicationSnapshot" => obj! { "appId" => if f.traffic_type == "microsoft365" { crate::catalog::EXCHANGE.app_id } else { "" } },
    };
    Built::entra(ctx.at, g)
}

pub(crate) fn connection(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let f = flow(ctx, rng);
    let id = guid(rng);
    let duration = TimeDelta::seconds(rng.random_range(1..1800));
    let g = obj! {
        "id" => id.as_str(),
        "connectionId" => id.as_str(),
        "createdDateTime" => iso7(ctx.at),
        "endDateTime" => if ctx.partial { None } else { Some(iso7(ctx.at + duration)) },
        "lastUpdateDateTime" => iso7(ctx.at + if ctx.partial { TimeDelta::zero() } else { duration }),
        "status" => if ctx.partial { "active" } else { "closed" },
        "sourceIp" => f.source_ip.as_str(),
        "sourcePort" => rng.random_range(49_152..65_535),
        "destinationIp" => f.dest_ip.as_str(),
        "destinationPort" => 443,
        "destinationFqdn" => f.fqdn,
        "transportProtocol" => "tcp",
        "networkProtocol" => "ipv4",
        "trafficType" => f.traffic_type,
        "userId" => f.user.id.as_str(),
        "userPrincipalName" => f.user.upn.as_str(),
        "deviceId" => f.device.id.as_str(),
        "deviceCategory" => "client",
        "deviceOperatingSystem" => f.device.os,
        "deviceOperatingSystemVersion" => os_version(f.device),
        "agentVersion" => AGENT_VERSION,
        "initiatingProcessName" => f.process,
        "popProcessingRegion" => f.region,
        "sentBytes" => keep(ctx.partial, rng.random_range(1_000..500_000)),
        "receivedBytes" => keep(ctx.partial, rng.random_range(5_000..20_000_000)),
        "transactionBlockCount" => 0,
        "tenantId" => t.tenant_id.as_str(),
    };
    Built::entra(ctx.at, g)
}

pub(crate) fn remote_health(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let rn = &t.remote_networks[ctx.slot as usize % t.remote_networks.len()];
    let (odata, status, description) = match rng.random_range(0..100) {
        0..=93 => (
            "remoteNetworkHealthStatusEvent",
            "remoteNetworkAlive",
            "Remote network is alive.",
        ),
        94..=95 => (
            "tunnelConnectivityHealthEvent",
            "tunnelDisconnected",
            "IPsec tunnel disconnected: IKE SA deleted by peer.",
        ),
        96..=97 => (
            "tunnelConnectivityHealthEvent",
            "tunnelConnected",
            "IPsec tunnel connected.",
        ),
        98 => (
            "bgpRoutingHealthEvent",
            "bgpDisconnected",
            "BGP session down: hold timer expired.",
        ),
        _ => (
            "bgpRoutingHealthEvent",
            "bgpConnected",
            "BGP session established.",
        ),
    };
    let g = obj! {
        "@odata.type" => format!("#microsoft.graph.networkaccess.{odata}"),
        "id" => guid(rng),
        "remoteNetworkId" => rn.id.as_str(),
        "createdDateTime" => iso7(ctx.at),
        "status" => status,
        "sourceIp" => rn.source_ip.as_str(),
        "destinationIp" => rn.destination_ip.as_str(),
        "description" => description,
        "bgpRoutesAdvertisedCount" => if status.starts_with("bgp") || status == "remoteNetworkAlive" { rng.random_range(2..12) } else { 0 },
        "sentBytes" => keep(ctx.partial, rng.random_range(100_000..90_000_000i64)),
        "receivedBytes" => keep(ctx.partial, rng.random_range(100_000..400_000_000i64)),
    };
    Built::entra(ctx.at, g)
}

/// (alertType, severity, displayName, category, technique, weight).
/// (alertType, severity, displayName, category, technique).
type AlertKind = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const ALERTS: &[(AlertKind, u32)] = &[
    (
        (
            "threatIntelligenceTransactions",
            "high",
            "Traffic to a known malicious destination",
            "CommandAndControl",
            "T1071",
        ),
        3,
    ),
    (
        (
            "webContentBlocked",
            "low",
            "Repeated access to blocked web content",
            "Exfiltration",
            "T1567",
        ),
        5,
    ),
    (
        (
            "malware",
            "high",
            "Malware download blocked",
            "Execution",
            "T1204",
        ),
        2,
    ),
    (
        (
            "unhealthyRemoteNetworks",
            "medium",
            "Remote network is unhealthy",
            "Availability",
            "",
        ),
        2,
    ),
    (
        (
            "crossTenantAnomaly",
            "medium",
            "Access to an unusual external tenant",
            "Exfiltration",
            "T1537",
        ),
        1,
    ),
    (
        (
            "suspiciousProcess",
            "medium",
            "Suspicious process generating network traffic",
            "Execution",
            "T1059",
        ),
        1,
    ),
];

pub(crate) fn alert(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let user = ctx.any_user(rng);
    let (alert_type, severity, name, category, technique) = *pick_weighted(rng, ALERTS);
    let first = ctx.at - TimeDelta::minutes(rng.random_range(5..90));
    let fqdn = *pick(
        rng,
        &[
            "malicious-c2.example",
            "evil-download.example",
            "casino-online.example",
            "free-file-share.example",
        ],
    );
    let mut related = vec![
        obj! { "@odata.type" => "#microsoft.graph.networkaccess.relatedUser", "userId" => user.id.as_str(), "userPrincipalName" => user.upn.as_str() },
    ];
    if !ctx.partial {
        related.push(obj! { "@odata.type" => "#microsoft.graph.networkaccess.relatedDestination", "fqdn" => fqdn, "ip" => "192.0.2.66" });
        related.push(obj! { "@odata.type" => "#microsoft.graph.networkaccess.relatedDevice", "deviceId" => user.devices[0].id.as_str() });
    }
    let created = iso7(ctx.at);
    let g = obj! {
        "id" => guid(rng),
        "alertType" => alert_type,
        "severity" => severity,
        "displayName" => name,
        "description" => format!("{name}: {} reached {fqdn}.", user.upn),
        "createdDateTime" => created.as_str(),
        "creationDateTime" => created.as_str(),
        "firstActivityDateTime" => iso7(first),
        "lastActivityDateTime" => iso7(ctx.at - TimeDelta::minutes(1)),
        "detectionTechnology" => "Threat Intelligence",
        "vendorName" => "Microsoft",
        "productName" => "Global Secure Access",
        "categories" => vec![category],
        "techniques" => if technique.is_empty() { vec![] } else { vec![technique] },
        "subTechniques" => Vec::<Value>::new(),
        "isPreview" => false,
        "actions" => vec![obj! { "actionText" => "Investigate the user's recent traffic", "actionLink" => "https://entra.microsoft.com/#view/Microsoft_Azure_Network_Access/TrafficLogs.ReactView" }],
        "relatedResources" => related,
    };
    Built::entra(ctx.at, g)
}
