//! Unit tests of the directory-audit analytics: credentials and consent, roles and privileged
//! authentication methods, federation, Conditional Access, cross-tenant access and diagnostic settings.

use super::*;

#[test]
fn credentials_consent_and_credential_after_consent() {
    let mut a = Analytics::new(100);
    let key = |old: &str, new: &str| {
        json!([{"id": "app1", "displayName": "Payroll", "type": "Application", "modifiedProperties": [
            {"displayName": "KeyDescription", "oldValue": old, "newValue": new}]}])
    };
    let k1 = "[\"[KeyIdentifier=k1,KeyType=Password,KeyUsage=Verify,DisplayName=ci]\"]";
    let k12 = "[\"[KeyIdentifier=k1,KeyType=Password]\",\"[KeyIdentifier=k2,KeyType=Password]\"]";
    let name = "Update application – Certificates and secrets management ";
    // The first credential of an app, added by a user: routine.
    assert!(
        ids(
            &mut a,
            &audit("a1", 0, name, admin("adm@x", "1.1.1.1"), key("[]", k1))
        )
        .is_empty()
    );
    // A second credential next to an existing one: fires.
    assert_eq!(
        ids(
            &mut a,
            &audit("a2", 1, name, admin("adm@x", "1.1.1.1"), key(k1, k12))
        ),
        [APP_CREDENTIAL]
    );
    // Removing one does not.
    assert!(
        ids(
            &mut a,
            &audit("a3", 2, name, admin("adm@x", "1.1.1.1"), key(k12, k1))
        )
        .is_empty()
    );
    // High-privilege admin consent, then a first credential on the same app.
    let consent = json!([{"id": "sp1", "displayName": "Payroll", "type": "ServicePrincipal", "modifiedProperties": [
        {"displayName": "ConsentContext.IsAdminConsent", "oldValue": null, "newValue": "\"True\""},
        {"displayName": "ConsentAction.Permissions", "oldValue": null,
         "newValue": "[] => [[Id: x, Scope: Mail.ReadWrite openid]]"}]}]);
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "c1",
                10,
                "Consent to application",
                admin("u@x", "2.2.2.2"),
                consent
            )
        ),
        [HIGH_PRIVILEGE_CONSENT]
    );
    assert_eq!(
        ids(
            &mut a,
            &audit("a4", 20, name, admin("adm@x", "1.1.1.1"), key("[]", k1))
        ),
        [CREDENTIAL_AFTER_CONSENT]
    );
    let low = json!([{"id": "sp2", "displayName": "Wiki", "type": "ServicePrincipal", "modifiedProperties": [
        {"displayName": "ConsentAction.Permissions", "newValue": "Scope: User.Read openid profile offline_access"}]}]);
    assert!(
        ids(
            &mut a,
            &audit(
                "c2",
                30,
                "Consent to application",
                admin("u@x", "2.2.2.2"),
                low
            )
        )
        .is_empty()
    );
}

#[test]
fn roles_and_privileged_auth_methods() {
    let mut a = Analytics::new(100);
    let role = json!([
        {"id": "r1", "displayName": "Global Administrator", "type": "Role", "modifiedProperties": []},
        {"id": "u1", "type": "User", "userPrincipalName": "boss@x", "modifiedProperties": []}]);
    let pim =
        json!({"app": {"displayName": "MS-PIM", "appId": "01fc33a7-78ba-4d2f-a4b7-768e336e890e"}});
    assert!(
        ids(
            &mut a,
            &audit("r1", 0, "Add member to role", pim, role.clone())
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "r2",
                1,
                "Add member to role",
                admin("adm@x", "1.1.1.1"),
                role
            )
        ),
        [ROLE_OUTSIDE_PIM]
    );
    // boss@x now holds a role. Own change from its usual network: fine; from a new one: fires.
    let signin = rec(
        Category::SignInLogs,
        "s",
        2,
        &[
            ("UserPrincipalName", "boss@x".to_owned()),
            ("ResultType", "0".to_owned()),
            ("IPAddress", "20.1.1.7".to_owned()),
        ],
    );
    assert!(ids(&mut a, &signin).is_empty());
    let me = json!([{"id": "u1", "type": "User", "userPrincipalName": "boss@x", "modifiedProperties": []}]);
    let later = 2 * 24 * 60;
    assert!(
        ids(
            &mut a,
            &audit(
                "m1",
                later,
                "User registered security info",
                admin("boss@x", "20.1.1.9"),
                me.clone()
            )
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "m2",
                later + 5,
                "User registered security info",
                admin("boss@x", "45.9.9.9"),
                me.clone()
            )
        ),
        [PRIVILEGED_AUTH_METHODS]
    );
    // Someone else changing a privileged account's methods fires; a non-privileged account does not.
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "m3",
                later + 6,
                "Admin deleted security info",
                admin("help@x", "20.1.1.9"),
                me
            )
        ),
        [PRIVILEGED_AUTH_METHODS]
    );
    let other = json!([{"id": "u9", "type": "User", "userPrincipalName": "joe@x", "modifiedProperties": []}]);
    assert!(
        ids(
            &mut a,
            &audit(
                "m4",
                later + 7,
                "Admin deleted security info",
                admin("help@x", "20.1.1.9"),
                other
            )
        )
        .is_empty()
    );
}

#[test]
fn federation_ca_cross_tenant_and_diagnostic_settings() {
    let mut a = Analytics::new(100);
    let domain = json!([{"id": "d", "displayName": "contoso.com", "type": "Domain", "modifiedProperties": []}]);
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "f",
                0,
                "Set domain authentication",
                admin("adm@x", "1.1.1.1"),
                domain
            )
        ),
        [FEDERATION_CHANGED]
    );
    let ca = |state: &str| {
        json!([{"id": "p", "displayName": "Require MFA", "type": "Policy", "modifiedProperties": [
        {"displayName": "ConditionalAccessPolicy", "oldValue": "{\"state\":\"enabled\"}",
         "newValue": format!("{{\"state\": \"{state}\"}}")}]}])
    };
    let up = "Update conditional access policy";
    assert!(
        ids(
            &mut a,
            &audit("c1", 1, up, admin("adm@x", "1.1.1.1"), ca("enabled"))
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &audit("c2", 2, up, admin("adm@x", "1.1.1.1"), ca("disabled"))
        ),
        [CA_POLICY_DISABLED]
    );
    assert_eq!(
        ids(
            &mut a,
            &audit(
                "c3",
                3,
                "Delete conditional access policy",
                admin("adm@x", "1.1.1.1"),
                ca("enabled")
            )
        ),
        [CA_POLICY_DISABLED]
    );
    let partner = json!([{"id": "9f0e3c1a-0000-4000-8000-000000000001", "displayName": "", "type": "Policy", "modifiedProperties": [
        {"displayName": "tenantId", "newValue": "\"9f0e3c1a-0000-4000-8000-000000000001\""}]}]);
    let add = "Add a partner to cross-tenant access setting";
    assert_eq!(
        ids(
            &mut a,
            &audit("x", 4, add, admin("adm@x", "1.1.1.1"), partner.clone())
        ),
        [CROSS_TENANT_PARTNER]
    );
    let mut allowed = Analytics::with_config(
        AnalyticsConfig {
            allowed_partner_tenants: vec!["9F0E3C1A-0000-4000-8000-000000000001".into()],
            ..AnalyticsConfig::default()
        },
        100,
    );
    assert!(
        ids(
            &mut allowed,
            &audit("x", 4, add, admin("adm@x", "1.1.1.1"), partner)
        )
        .is_empty()
    );
    let diag = |op: &str, status: &str| {
        rec(
            Category::AzureActivity,
            "d",
            5,
            &[
                ("OperationNameValue", op.to_owned()),
                ("ActivityStatusValue", status.to_owned()),
                (
                    "ResourceId",
                    "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KEYVAULT/VAULTS/KV"
                        .to_owned(),
                ),
            ],
        )
    };
    assert!(
        ids(
            &mut a,
            &diag("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "Start")
        )
        .is_empty()
    );
    assert!(
        ids(
            &mut a,
            &diag("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/READ", "Success")
        )
        .is_empty()
    );
    assert_eq!(
        ids(
            &mut a,
            &diag("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "Success")
        ),
        [DIAGNOSTIC_SETTINGS]
    );
    assert_eq!(
        ids(
            &mut a,
            &diag("microsoft.aadiam/diagnosticSettings/write", "Succeeded")
        ),
        [DIAGNOSTIC_SETTINGS]
    );
}
