//! Microsoft Graph activity logs (export only: diagnostic and Log Analytics shapes) → MicrosoftGraphActivityLogs
//! (wire-formats.md §1, §2.2, §9).
//!
//! `durationMs` and `clientAuthMethod` arrive as strings and are read as integers. The internal
//! `__UDI_RequiredFields_*`, `C_Iat`, `C_Idtyp` and `UserPrincipalObjectID` properties have no column (the raw
//! record keeps them). `TenantId` is the Log Analytics workspace column and is filled from the envelope only.

use super::engine::{Mapping, Src};
use Src::{E, G};

/// Canonical column ← sources, in order of preference.
const COLUMNS: &[(&str, &[Src])] = &[
    ("AadTenantId", &[G("tenantId"), E("tenantId")]),
    ("ApiVersion", &[G("apiVersion")]),
    ("AppId", &[G("appId")]),
    ("ATContent", &[G("atContent")]),
    ("ATContentH", &[G("atContentH")]),
    ("ATContentP", &[G("atContentP")]),
    ("ClientAuthMethod", &[G("clientAuthMethod")]),
    ("ClientRequestId", &[G("clientRequestId")]),
    ("DurationMs", &[G("durationMs")]),
    ("IdentityProvider", &[G("identityProvider")]),
    ("IPAddress", &[G("ipAddress")]),
    ("Location", &[G("location"), E("location")]),
    ("OperationId", &[G("operationId")]),
    ("RequestId", &[G("requestId")]),
    ("RequestMethod", &[G("requestMethod")]),
    ("RequestUri", &[G("requestUri")]),
    ("ResponseSizeBytes", &[G("responseSizeBytes")]),
    ("ResponseStatusCode", &[G("responseStatusCode")]),
    ("Roles", &[G("roles")]),
    ("Scopes", &[G("scopes")]),
    ("ServicePrincipalId", &[G("servicePrincipalId")]),
    ("SignInActivityId", &[G("signInActivityId")]),
    ("TenantId", &[E("tenantId")]),
    ("TokenIssuedAt", &[G("tokenIssuedAt")]),
    ("UserAgent", &[G("userAgent")]),
    ("UserId", &[G("userId")]),
    ("Wids", &[G("wids")]),
];

/// The Graph activity mapping.
pub(crate) const MAPPING: Mapping = Mapping {
    columns: COLUMNS,
    unhashed: &[],
    ..Mapping::EMPTY
};
