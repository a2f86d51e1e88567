//! Provisioning records (Graph `provisioningObjectSummary`): the Entra provisioning service exporting users
//! to SaaS applications, in cycles.

use rand::Rng;
use serde_json::{Value, json};

use super::{Built, Ctx};
use crate::util::{guid, iso7, mix2, pick};

const TARGETS: &[&str] = &[
    "Dropbox Business",
    "Salesforce",
    "ServiceNow",
    "Slack",
    "Workday",
    "Zoom",
];

pub(crate) fn build(ctx: &Ctx<'_>) -> Built {
    let mut rng = ctx.rng();
    let rng = &mut rng;
    let t = ctx.tenant;
    let user = ctx.any_user(rng);
    let target = *pick(rng, TARGETS);
    let target_key = target.replace(' ', "");
    let action = *pick(
        rng,
        &["create", "update", "update", "update", "disable", "delete"],
    );
    let outcome = match rng.random_range(0..100) {
        0..=84 => "success",
        85..=94 => "skipped",
        _ => "failure",
    };
    // Provisioning runs in 40-minute cycles: every record of a cycle shares the cycle id.
    let cycle = (ctx.at.timestamp() / 2400) as u64;
    let cycle_id =
        crate::util::guid_of(mix2(t.seed ^ 0xC1C1E, cycle ^ mix2(0, target.len() as u64)));
    let sp_id = t.sp_id_for(target);
    let duration = rng.random_range(200..6000);
    let error = if outcome == "failure" {
        obj! {
            "errorCode" => format!("{target_key}EntryConflict"),
            "reason" => format!("{target} returned an error response with the HTTP status code 409. A user with the same name already exists."),
            "additionalDetails" => Value::Null,
            "errorCategory" => "nonServiceFailure",
            "recommendedAction" => "Remove the conflicting user from the target application or from the scope of provisioning.",
        }
    } else {
        Value::Null
    };
    let step = |name: &str, kind: &str, status: &str, desc: String| {
        obj! { "name" => name, "provisioningStepType" => kind, "status" => status, "description" => desc, "details" => json!({}) }
    };
    let mut steps = vec![
        step(
            "EntryImport",
            "import",
            "success",
            format!(
                "Received User '{}' change of type (Update) from Azure Active Directory",
                user.upn
            ),
        ),
        step(
            "EntrySynchronizationScoping",
            "scoping",
            "success",
            "Determine if User in scope by evaluating against each scoping filter".to_owned(),
        ),
    ];
    if !ctx.partial {
        steps.push(step(
            "EntryExport",
            "export",
            outcome,
            format!(
                "User '{}' was {} in {target}",
                user.upn,
                if outcome == "success" {
                    "updated"
                } else {
                    "not updated"
                }
            ),
        ));
    }
    let g = obj! {
        "id" => guid(rng),
        "activityDateTime" => iso7(ctx.at),
        "tenantId" => t.tenant_id.as_str(),
        "jobId" => format!("{target_key}OutDelta.{}.{}", t.tenant_id.replace('-', ""), sp_id),
        "cycleId" => cycle_id,
        "changeId" => guid(rng),
        "provisioningAction" => action,
        "durationInMilliseconds" => duration,
        "provisioningStatusInfo" => obj! { "status" => outcome, "errorInformation" => error },
        "provisioningSteps" => steps,
        "modifiedProperties" => vec![
            obj! { "displayName" => "userName", "oldValue" => Value::Null, "newValue" => user.upn.as_str() },
            obj! { "displayName" => "active", "oldValue" => Value::Null, "newValue" => if action == "disable" { "False" } else { "True" } },
            obj! { "displayName" => "name.givenName", "oldValue" => Value::Null, "newValue" => user.given_name.as_str() },
        ],
        "servicePrincipal" => obj! { "id" => sp_id.as_str(), "displayName" => target },
        "sourceSystem" => obj! { "id" => t.sp_id_for("aad-source"), "displayName" => "Azure Active Directory", "details" => json!({}) },
        "targetSystem" => obj! { "id" => t.sp_id_for(&format!("{target}-system")), "displayName" => target, "details" => obj! { "ServicePrincipalId" => sp_id.as_str(), "ServicePrincipalDisplayName" => target } },
        "initiatedBy" => obj! { "initiatingType" => "system", "id" => "", "displayName" => "Azure AD Provisioning Service" },
        "sourceIdentity" => obj! { "identityType" => "User", "id" => user.id.as_str(), "displayName" => user.display_name.as_str(), "details" => obj! { "UserPrincipalName" => user.upn.as_str() } },
        "targetIdentity" => obj! { "identityType" => "urn:ietf:params:scim:schemas:core:2.0:User", "id" => format!("dbmid:{}", crate::util::hex(rng, 24)), "displayName" => "", "details" => json!({}) },
    };
    Built::entra(ctx.at, g)
}
