//! Enriched Office 365 audit records: the unified audit log's common schema (PascalCase, as the Office 365
//! Management Activity API writes it) plus the network fields Global Secure Access adds.

use rand::Rng;

use super::{Built, Ctx, origin};
use crate::util::{guid, iso0, pick_weighted};

/// (Workload, Operation, RecordType, weight).
const OPERATIONS: &[((&str, &str, u32), u32)] = &[
    (("SharePoint", "FileAccessed", 6), 25),
    (("SharePoint", "FileModified", 6), 8),
    (("SharePoint", "FileDownloaded", 6), 6),
    (("SharePoint", "FileUploaded", 6), 4),
    (("SharePoint", "SharingSet", 14), 1),
    (("OneDrive", "FileSyncDownloadedFull", 6), 6),
    (("OneDrive", "FilePreviewed", 6), 6),
    (("Exchange", "MailItemsAccessed", 50), 20),
    (("Exchange", "Send", 2), 8),
    (("Exchange", "MoveToDeletedItems", 2), 4),
    (("MicrosoftTeams", "ChatRetrieved", 25), 8),
    (("MicrosoftTeams", "MessageSent", 25), 6),
];

pub(crate) fn build(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let user = ctx.user(rng);
    let (workload, operation, record_type) = *pick_weighted(rng, OPERATIONS);
    let o = origin(rng, t, user, 0.0);
    let device = &user.devices[0];
    let site = format!(
        "https://{}.sharepoint.com/sites/{}",
        t.name.to_ascii_lowercase(),
        user.department.replace(' ', "")
    );
    let object_id = match workload {
        "SharePoint" => format!(
            "{site}/Shared Documents/Report-{}.docx",
            rng.random_range(100..999)
        ),
        "OneDrive" => format!(
            "https://{}-my.sharepoint.com/personal/{}/Documents/notes.xlsx",
            t.name.to_ascii_lowercase(),
            user.upn.replace(['@', '.'], "_")
        ),
        "Exchange" => format!("<{}@{}>", guid(rng), t.domain),
        _ => format!("19:{}@thread.v2", guid(rng).replace('-', "")),
    };
    let enriched = !ctx.partial;
    let g = obj! {
        "Id" => guid(rng),
        "CreationTime" => iso0(ctx.at).trim_end_matches('Z').to_owned(),
        "RecordType" => record_type,
        "Operation" => operation,
        "OrganizationId" => t.tenant_id.as_str(),
        "UserType" => 0,
        "UserKey" => format!("1003{:012X}", rng.random_range(0..0xFFFF_FFFF_FFFFu64)),
        "UserId" => user.upn.as_str(),
        "Workload" => workload,
        "ObjectId" => object_id,
        "ClientIP" => o.ip.as_str(),
        "ResultStatus" => "Succeeded",
        "AppId" => match workload {
            "Exchange" => crate::catalog::EXCHANGE.app_id,
            "MicrosoftTeams" => "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
            _ => crate::catalog::SHAREPOINT.app_id,
        },
        "SourceIp" => if enriched { o.ip.as_str() } else { "" },
        "DeviceId" => if enriched { device.id.as_str() } else { "" },
        "DeviceOperatingSystem" => device.os,
        "DeviceOperatingSystemVersion" => if device.os == "Windows 11" { "10.0.22631" } else { "10.0.19045" },
        "IsManagedDevice" => device.is_managed,
        "UniqueTokenId" => crate::util::token_id(rng),
        "ActorUserType" => if user.is_admin() { "Admin" } else { "Regular" },
        "AdditionalProperties" => obj! {
            "UserAgent" => device.user_agent,
            "SiteUrl" => if workload == "SharePoint" { site.as_str() } else { "" },
            "IsThroughGlobalSecureAccess" => enriched,
        },
    };
    Built {
        time: ctx.at,
        graph: g,
        envelope: None,
    }
}
