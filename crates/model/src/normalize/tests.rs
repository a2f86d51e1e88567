//! Unit tests of the normalize module: mapping tables, detection rules, keys and hashes across shapes,
//! flow expansion and stream framing, on hand-written inputs (the wire-formats.md examples).

use super::*;
use crate::record::Value;
use serde_json::{Value as Json, json};

/// Detects a JSON value's shape and category.
fn detect_json(v: &Json) -> Result<detect::Detected, DecodeError> {
    let text = v.to_string();
    let node = Node::parse(&text).unwrap();
    detect::detect(node.as_obj().unwrap(), None, None, None)
}

fn cx() -> DecodeContext {
    DecodeContext {
        source: "test".into(),
        location: "mem".into(),
        ingest_time: 1,
        category: None,
        shape: None,
    }
}

fn one(raw: &str) -> Record {
    let mut v = decode_record(raw, &cx()).unwrap_or_else(|e| panic!("{e}: {raw}"));
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn get<'a>(r: &'a Record, col: &str) -> &'a Value {
    r.get(col)
        .unwrap_or_else(|| panic!("{} has no column {col}", r.category.table()))
}

fn s(v: &str) -> Value {
    Value::String(v.into())
}

/// wire-formats.md §5.3, SignInLogs (elastic test record).
pub(super) const SIGNIN_DIAG: &str = r#"{"Level":"4","callerIpAddress":"81.2.69.144","category":"SignInLogs","correlationId":"8a4de8b5-095c-47d0-a96f-a75130c61d53","durationMs":0,"identity":"Test LTest","location":"FR","operationName":"Sign-in activity","operationVersion":"1.0","properties":{"appDisplayName":"Office 365","appId":"8a4de8b5-...","clientAppUsed":"Browser","conditionalAccessStatus":"notApplied","correlationId":"8a4de8b5-...","createdDateTime":"2019-10-18T04:45:48.0729893-05:00","deviceDetail":{"browser":"Chrome 77.0.3865","deviceId":"","operatingSystem":"MacOs"},"id":"8a4de8b5-...","ipAddress":"81.2.69.144","isInteractive":false,"location":{"city":"Champs-Sur-Marne","countryOrRegion":"FR","geoCoordinates":{"latitude":48.12341234,"longitude":2.12341234},"state":"Seine-Et-Marne"},"originalRequestId":"8a4de8b5-...","processingTimeInMilliseconds":239,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","servicePrincipalId":"","status":{"errorCode":50140,"failureReason":"This error occurred due to 'Keep me signed in' interrupt when the user was signing-in."},"tokenIssuerName":"","tokenIssuerType":"AzureAD","userDisplayName":"Test LTest","userId":"8a4de8b5-...","userPrincipalName":"test@elastic.co"},"resourceId":"/tenants/8a4de8b5-095c-47d0-a96f-a75130c61d53/providers/Microsoft.aadiam","resultDescription":"This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.","resultSignature":"None","resultType":"50140","tenantId":"8a4de8b5-095c-47d0-a96f-a75130c61d53","time":"2019-10-18T09:45:48.0729893Z"}"#;

#[test]
fn signin_diagnostic_maps_every_column_it_can() {
    let r = one(SIGNIN_DIAG);
    assert_eq!(r.category, Category::SignInLogs);
    assert_eq!(r.shape, Shape::Diagnostic);
    assert_eq!(r.key, "8a4de8b5-...");
    assert_eq!(r.event_time, 1_571_391_948_072_989);
    assert_eq!(r.raw, SIGNIN_DIAG);
    let table: &[(&str, Value)] = &[
        ("UserPrincipalName", s("test@elastic.co")),
        ("IPAddress", s("81.2.69.144")),
        ("ResultType", s("50140")),
        ("ResultDescription", s("This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.")),
        ("Location", s("FR")),
        ("LocationDetails", Value::Dynamic(r#"{"city":"Champs-Sur-Marne","countryOrRegion":"FR","geoCoordinates":{"latitude":48.12341234,"longitude":2.12341234},"state":"Seine-Et-Marne"}"#.into())),
        ("DeviceDetail", Value::Dynamic(r#"{"browser":"Chrome 77.0.3865","deviceId":"","operatingSystem":"MacOs"}"#.into())),
        ("Status", Value::Dynamic(r#"{"errorCode":50140,"failureReason":"This error occurred due to 'Keep me signed in' interrupt when the user was signing-in."}"#.into())),
        ("CreatedDateTime", Value::DateTime(1_571_391_948_072_989)),
        ("TimeGenerated", Value::DateTime(1_571_391_948_072_989)),
        ("IsInteractive", Value::Bool(false)),
        ("Identity", s("Test LTest")),
        ("OperationName", s("Sign-in activity")),
        ("Category", s("SignInLogs")),
        ("Level", s("4")),
        ("ResourceId", s("/tenants/8a4de8b5-095c-47d0-a96f-a75130c61d53/providers/Microsoft.aadiam")),
        ("ResourceProvider", s("Microsoft.aadiam")),
        ("ResourceGroup", s("Microsoft.aadiam")),
        ("AADTenantId", s("8a4de8b5-095c-47d0-a96f-a75130c61d53")),
        ("DurationMs", Value::Int(0)),
        ("ProcessingTimeInMilliseconds", s("239")),
        ("ServicePrincipalId", Value::Null),
        ("TokenIssuerName", Value::Null),
        ("Type", s("SigninLogs")),
        ("ConditionalAccessPolicies", Value::Null),
    ];
    for (col, want) in table {
        assert_eq!(get(&r, col), want, "{col}");
    }
    for (c, v) in r.schema().columns.iter().zip(&r.values) {
        assert!(v.fits(c.ty), "{} {:?} does not fit {:?}", c.name, v, c.ty);
    }
}

/// The same sign-in in its three shapes.
fn signin_shapes() -> [String; 3] {
    let graph = json!({
        "id": "66ea54eb", "createdDateTime": "2020-03-13T19:15:41.6195833Z", "userPrincipalName": "a@contoso.com",
        "appId": "de8b", "ipAddress": "131.107.159.37", "isInteractive": true, "riskEventTypes": [],
        "status": {"errorCode": 0, "failureReason": null, "additionalDetails": null},
        "location": {"city": "Redmond", "countryOrRegion": "US"},
        "authenticationDetails": [{"succeeded": true, "authenticationMethod": "Password"}],
        "appliedConditionalAccessPolicies": [{"id": "p", "result": "notEnabled"}]
    });
    let diag = json!({"time": "2020-03-13T19:20:00Z", "category": "SignInLogs", "operationName": "Sign-in activity",
        "resultType": "0", "Level": 4, "identity": "A", "tenantId": "t",
        "resourceId": "/tenants/t/providers/Microsoft.aadiam", "properties": graph.clone()});
    let la = json!({
        "TimeGenerated": "2020-03-13T19:25:00Z", "Type": "SigninLogs", "SourceSystem": "Azure AD", "Id": "66ea54eb",
        "CreatedDateTime": "2020-03-13T19:15:41.6195833Z", "UserPrincipalName": "a@contoso.com", "AppId": "de8b",
        "IPAddress": "131.107.159.37", "IsInteractive": "True", "RiskEventTypes": "[]", "ResultType": "0",
        "Status": "{\"failureReason\":null,\"additionalDetails\":null,\"errorCode\":0}",
        "LocationDetails": {"countryOrRegion": "US", "city": "Redmond"}, "Location": "US",
        "AuthenticationDetails": "[{\"authenticationMethod\": \"Password\", \"succeeded\": true}]",
        "ConditionalAccessPolicies": [{"result": "notEnabled", "id": "p"}], "Category": "SignInLogs", "Level": "4"
    });
    [graph.to_string(), diag.to_string(), la.to_string()]
}

#[test]
fn one_event_in_three_shapes_has_one_key_and_hash() {
    let recs: Vec<Record> = signin_shapes().iter().map(|r| one(r)).collect();
    let shapes: Vec<Shape> = recs.iter().map(|r| r.shape).collect();
    assert_eq!(
        shapes,
        [Shape::Graph, Shape::Diagnostic, Shape::LogAnalytics]
    );
    for r in &recs {
        assert_eq!(r.category, Category::SignInLogs);
        assert_eq!(r.key, "66ea54eb");
        assert_eq!(r.content_hash, recs[0].content_hash, "{:?}", r.shape);
        assert_eq!(r.event_time, recs[0].event_time);
    }
    assert_eq!(get(&recs[2], "Status"), get(&recs[0], "Status"));
    assert_eq!(
        get(&recs[2], "AuthenticationDetails"),
        get(&recs[0], "AuthenticationDetails")
    );
    assert_ne!(
        get(&recs[1], "TimeGenerated"),
        get(&recs[0], "TimeGenerated")
    );

    // Enriched republication (MFA details arrived): a new hash under the same key.
    let mut enriched: Json = serde_json::from_str(&signin_shapes()[0]).unwrap();
    enriched["mfaDetail"] = json!({"authMethod": "PhoneAppNotification"});
    let e = one(&enriched.to_string());
    assert_eq!(e.key, recs[0].key);
    assert_ne!(e.content_hash, recs[0].content_hash);
}

#[test]
fn every_schema_column_is_mapped_or_documented() {
    for c in Category::ALL {
        let plan = engine::plan(*c);
        let m = mapping(*c);
        let missing: Vec<_> = plan
            .unmapped_columns()
            .into_iter()
            .filter(|n| !m.not_derived.iter().any(|d| d.eq_ignore_ascii_case(n)))
            .collect();
        assert!(missing.is_empty(), "{c}: no source for {missing:?}");
        assert!(!plan.hashed_columns().is_empty(), "{c}: nothing hashed");
        for (name, _) in m.columns {
            let known = Category::ALL
                .iter()
                .filter(|o| mapping(**o).columns.as_ptr() == m.columns.as_ptr())
                .any(|o| o.schema_has(name));
            assert!(
                known,
                "{c}: table column {name} is in no schema of its family"
            );
        }
    }
}

impl Category {
    fn schema_has(self, column: &str) -> bool {
        crate::schema(self).index_of(column).is_some()
    }
}

#[test]
fn audit_examples_decode() {
    // wire-formats.md §5.3 AuditLogs (elastic), `durationMs` a string, `Level` an int.
    let raw = r#"{"time":"2022-01-22T18:15:02.3875429Z","resourceId":"/tenants/4bbb79f7-5724-4c9e-95f3-de075f6ec090/providers/Microsoft.aadiam","operationName":"Update service principal","operationVersion":"1.0","category":"AuditLogs","tenantId":"4bbb79f7-5724-4c9e-95f3-de075f6ec090","resultSignature":"None","durationMs":"0","callerIpAddress":"1.128.3.4","correlationId":"87979703-118b-498f-99c2-ccd1a56f1a5a","identity":"Managed Service Identity","Level":4,"properties":{"id":"Directory_87979703-118b-498f-99c2-ccd1a56f1a5a_ULAYA_144938566","category":"ApplicationManagement","correlationId":"87979703-118b-498f-99c2-ccd1a56f1a5a","result":"success","resultReason":"","activityDisplayName":"Update service principal","activityDateTime":"2022-01-22T18:15:02.3875429+00:00","loggedByService":"Core Directory","operationType":"Update","userAgent":null,"initiatedBy":{"app":{"appId":null,"displayName":"Managed Service Identity","servicePrincipalId":"b9814691-9ca1-4e55-a1ac-8ef5dd010ec0","servicePrincipalName":null}},"targetResources":[{"id":"a7d5dcbe-0627-4ddf-a2f4-86b6785bcc42","displayName":"billing-test-wus","type":"ServicePrincipal","modifiedProperties":[],"administrativeUnits":[]}],"additionalDetails":[{"key":"User-Agent","value":"Microsoft Azure Graph Client Library 2.1.17-internal"}]}}"#;
    let r = one(raw);
    assert_eq!(r.category, Category::AuditLogs);
    assert_eq!(
        r.key,
        "Directory_87979703-118b-498f-99c2-ccd1a56f1a5a_ULAYA_144938566"
    );
    assert_eq!(get(&r, "Category"), &s("ApplicationManagement"));
    assert_eq!(get(&r, "DurationMs"), &Value::Int(0));
    assert_eq!(get(&r, "Level"), &s("4"));
    assert_eq!(get(&r, "ResultReason"), &Value::Null);
    assert_eq!(get(&r, "AADOperationType"), &s("Update"));
}

#[test]
fn detection_rules() {
    let cases: &[(Json, Shape, Category)] = &[
        (
            json!({"@odata.type": "#microsoft.graph.riskDetection", "id": "x"}),
            Shape::Graph,
            Category::UserRiskEvents,
        ),
        (
            json!({"riskEventType": "a", "detectedDateTime": "t", "servicePrincipalId": "s"}),
            Shape::Graph,
            Category::ServicePrincipalRiskEvents,
        ),
        (
            json!({"riskEventType": "a", "detectedDateTime": "t", "agentId": "s"}),
            Shape::Graph,
            Category::AgentRiskEvents,
        ),
        (
            json!({"riskLastUpdatedDateTime": "t", "userPrincipalName": "u"}),
            Shape::Graph,
            Category::RiskyUsers,
        ),
        (
            json!({"riskLastUpdatedDateTime": "t", "appId": "a"}),
            Shape::Graph,
            Category::RiskyServicePrincipals,
        ),
        (
            json!({"riskLastModifiedDateTime": "t", "agentDisplayName": "a"}),
            Shape::Graph,
            Category::RiskyAgents,
        ),
        (
            json!({"jobId": "j", "activityDateTime": "t"}),
            Shape::Graph,
            Category::ProvisioningLogs,
        ),
        (
            json!({"activityDateTime": "t", "activityDisplayName": "a"}),
            Shape::Graph,
            Category::AuditLogs,
        ),
        (
            json!({"createdDateTime": "t", "appId": "a", "status": {}, "tokenIssuerType": "ADFederationServices"}),
            Shape::Graph,
            Category::AdfsSignInLogs,
        ),
        (
            json!({"createdDateTime": "t", "appId": "a", "status": {}, "signInEventTypes": ["managedIdentity"]}),
            Shape::Graph,
            Category::ManagedIdentitySignInLogs,
        ),
        (
            json!({"createdDateTime": "t", "appId": "a", "status": {}, "servicePrincipalId": "s"}),
            Shape::Graph,
            Category::ServicePrincipalSignInLogs,
        ),
        (
            json!({"createdDateTime": "t", "userId": "u", "status": {}, "isInteractive": false}),
            Shape::Graph,
            Category::NonInteractiveUserSignInLogs,
        ),
        (
            json!({"transactionId": "x", "createdDateTime": "t"}),
            Shape::Graph,
            Category::NetworkAccessTrafficLogs,
        ),
        (
            json!({"eventTimestamp": "t", "eventDataId": "e", "operationName": {"value": "x"}}),
            Shape::Graph,
            Category::AzureActivity,
        ),
        (
            json!({"CreationTime": "t", "Operation": "o", "RecordType": 15, "Id": "i"}),
            Shape::Graph,
            Category::EnrichedOffice365AuditLogs,
        ),
        (
            json!({"TimeGenerated": "t", "Type": "AADNonInteractiveUserSignInLogs"}),
            Shape::LogAnalytics,
            Category::NonInteractiveUserSignInLogs,
        ),
        (
            json!({"time": "t", "category": "Administrative", "operationName": "x", "resourceId": "/subscriptions/s"}),
            Shape::Diagnostic,
            Category::AzureActivity,
        ),
        (
            json!({"time": "t", "category": "StorageRead", "operationName": "x", "properties": {}}),
            Shape::Diagnostic,
            Category::ResourceDiagnostics,
        ),
        (
            json!({"time": "t", "operationName": "x", "resourceId": "/subscriptions/s", "properties": {}}),
            Shape::Diagnostic,
            Category::ResourceDiagnostics,
        ),
        (
            json!({"time": "t", "flowRecords": {}, "operationName": "x"}),
            Shape::Diagnostic,
            Category::VnetFlowLogs,
        ),
        // Panther: a directoryAudit under the activity category name "Policy" on an Entra envelope.
        (
            json!({"time": "t", "category": "Policy", "resourceId": "/tenants/x/providers/Microsoft.aadiam",
            "properties": {"activityDateTime": "t", "activityDisplayName": "a"}}),
            Shape::Diagnostic,
            Category::AuditLogs,
        ),
        (
            json!({"time": "t", "category": "Policy", "resourceId": "/subscriptions/s/providers/Microsoft.Authorization/x",
            "properties": {"policies": "[]"}}),
            Shape::Diagnostic,
            Category::AzureActivity,
        ),
        (
            json!({"time": "t", "category": "DirectoryManagement", "resourceId": "/tenants/x/providers/Microsoft.aadiam",
            "properties": {"activityDateTime": "t", "loggedByService": "Core Directory"}}),
            Shape::Diagnostic,
            Category::AuditLogs,
        ),
    ];
    for (obj, shape, category) in cases {
        let d = detect_json(obj).unwrap_or_else(|e| panic!("{e}: {obj}"));
        assert_eq!((d.shape, d.category), (*shape, *category), "{obj}");
    }
    let alert = json!({"id": "a", "title": "Password Spray", "serviceSource": "x", "createdDateTime": "t", "category": "PasswordSpray"});
    let e = detect_json(&alert).unwrap_err();
    assert!(e.message.contains("security alert"), "{e}");
    let office =
        json!({"TimeGenerated": "t", "Type": "OfficeActivity", "Operation": "MailItemsAccessed"});
    let e = detect_json(&office).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("Type"));
    let unknown = json!({"foo": 1});
    assert!(detect_json(&unknown).unwrap_err().message.contains("foo"));
}

#[test]
fn missing_or_bad_time_is_rejected_naming_the_field() {
    let bad = r#"{"category":"SignInLogs","time":"2024-01-01T00:00:00Z","resourceId":"/tenants/t/providers/Microsoft.aadiam","properties":{"id":"x","createdDateTime":"yesterday"}}"#;
    let e = decode_record(bad, &cx()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"field properties.createdDateTime: not a timestamp: "yesterday""#
    );
    assert_eq!(e.category, Some(Category::SignInLogs));
    let none = r#"{"id":"x","createdDateTime":null,"userPrincipalName":"u","status":{}}"#;
    let cx = DecodeContext {
        category: Some(Category::SignInLogs),
        ..cx()
    };
    let e = decode_record(none, &cx).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("createdDateTime"));
    let e = decode_record("[1]", &cx).unwrap_err();
    assert!(e.message.contains("must be a JSON object"), "{e}");
    let e = decode_record(
        r#"{"category":"AuditLogs","time":"t","properties":[1]}"#,
        &super::tests::cx(),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "field properties: not an object: an array");
}

#[test]
fn flow_tuples_expand_to_records() {
    // wire-formats.md §7, NSG v2 (plus a B tuple with empty counters and a v1 tuple).
    let nsg = r#"{"time":"2023-02-26T23:45:44.1503927Z","systemId":"00000000-...","macAddress":"112233445566","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/.../NETWORKSECURITYGROUPS/MYVM-NSG","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":[{"rule":"DefaultRule_AllowInternetOutBound","flows":[{"mac":"112233445566","flowTuples":["1677455097,10.0.0.4,13.107.21.200,49982,443,T,O,A,C,7,1158,12,8143","1677455098,10.0.0.4,13.107.21.200,49983,443,T,O,A,B,,,,","1677455099,10.0.0.4,1.1.1.1,53,53,U,O,D"]}]}]}}"#;
    let recs = decode_record(nsg, &cx()).unwrap();
    assert_eq!(recs.len(), 3);
    let r = &recs[0];
    assert_eq!(r.category, Category::NsgFlowLogs);
    assert_eq!(r.event_time, 1_677_455_097_000_000);
    assert_eq!(
        get(r, "TimeGenerated"),
        &Value::DateTime(1_677_455_144_150_392)
    );
    assert_eq!(get(r, "SrcIp"), &s("10.0.0.4"));
    assert_eq!(get(r, "DestPort"), &Value::Int(443));
    assert_eq!(get(r, "FlowStatus"), &s("A"));
    assert_eq!(get(r, "BytesDestToSrc"), &Value::Int(8143));
    assert_eq!(get(r, "AclRule"), &s("DefaultRule_AllowInternetOutBound"));
    assert_eq!(get(r, "FlowLogVersion"), &Value::Int(2));
    assert!(r.key.starts_with("h:"));
    assert_eq!(get(&recs[1], "PacketsSrcToDest"), &Value::Null);
    assert_eq!(get(&recs[2], "FlowState"), &Value::Null);
    assert_ne!(recs[0].key, recs[1].key);

    // wire-formats.md §7, VNet v4 (epoch milliseconds, protocol numbers).
    let vnet = r#"{"records":[{"time":"2022-09-14T09:00:52.5625085Z","flowLogVersion":4,"flowLogGUID":"abcdef01-...","macAddress":"00224871C205","category":"FlowLogFlowEvent","flowLogResourceID":"/SUBSCRIPTIONS/.../NETWORKWATCHERS/NETWORKWATCHER_EASTUS2EUAP/FLOWLOGS/VNETFLOWLOG","targetResourceID":"/subscriptions/.../virtualNetworks/myVNet","operationName":"FlowLogFlowEvent","flowRecords":{"flows":[{"aclID":"00000000-1234-abcd-ef00-c1c2c3c4c5c6","flowGroups":[{"rule":"DefaultRule_AllowInternetOutBound","flowTuples":["1663146003599,10.0.0.6,52.239.184.180,23956,443,6,O,B,NX,0,0,0,0"]}]}]}}]}"#;
    let recs = decode_record(vnet, &cx()).unwrap();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.category, Category::VnetFlowLogs);
    assert_eq!(r.event_time, 1_663_146_003_599_000);
    assert_eq!(get(r, "L4Protocol"), &s("T"));
    assert_eq!(get(r, "FlowEncryption"), &s("NX"));
    assert_eq!(get(r, "AclId"), &s("00000000-1234-abcd-ef00-c1c2c3c4c5c6"));
    assert_eq!(get(r, "MacAddress"), &s("00224871C205"));

    let bad = nsg.replace("1677455098,10.0.0.4", "soon,10.0.0.4");
    let e = decode_record(&bad, &cx()).unwrap_err();
    assert_eq!(
        e.field.as_deref(),
        Some("properties.flows[0].flows[0].flowTuples[1]")
    );
}

#[test]
fn activity_storage_line_and_rest_form() {
    // wire-formats.md §6 storage line.
    let line = r#"{"time":"2020-06-12T13:07:46.766Z","resourceId":"/SUBSCRIPTIONS/0000.../RESOURCEGROUPS/MY-RESOURCE-GROUP/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/MV-VM-01","correlationId":"0f0cb6b4-804b-4129-b893-70aeeb63997e","operationName":"Microsoft.Resourcehealth/healthevent/Updated/action","level":"Information","resultType":"Updated","category":"ResourceHealth","properties":{"eventCategory":"ResourceHealth","eventProperties":{"title":"...","details":"VirtualMachineStartInitiatedByControlPlane","currentHealthStatus":"Unknown","previousHealthStatus":"Unknown","type":"Downtime","cause":"UserInitiated"}}}"#;
    let r = one(line);
    assert_eq!(r.category, Category::AzureActivity);
    assert_eq!(get(&r, "CategoryValue"), &s("ResourceHealth"));
    assert_eq!(
        get(&r, "OperationNameValue"),
        &s("Microsoft.Resourcehealth/healthevent/Updated/action")
    );
    assert_eq!(get(&r, "ActivityStatusValue"), &s("Updated"));
    assert_eq!(get(&r, "SubscriptionId"), &s("0000..."));
    assert_eq!(get(&r, "ResourceGroup"), &s("MY-RESOURCE-GROUP"));
    assert_eq!(get(&r, "ResourceProviderValue"), &s("MICROSOFT.COMPUTE"));
    assert!(r.key.starts_with("h:"));

    let rest = json!({"eventTimestamp": "2020-06-12T13:07:46.766Z", "eventDataId": "e1", "correlationId": "0f0cb6b4-804b-4129-b893-70aeeb63997e",
        "operationName": {"value": "MICROSOFT.RESOURCEHEALTH/HEALTHEVENT/UPDATED/ACTION", "localizedValue": "Health event updated"},
        "category": {"value": "ResourceHealth"}, "status": {"value": "Updated"}, "caller": "x@y",
        "resourceId": "/subscriptions/0000.../resourceGroups/my-resource-group/providers/Microsoft.Compute/virtualMachines/MV-VM-01",
        "resourceProviderName": {"value": "Microsoft.Compute"}});
    let q = one(&rest.to_string());
    assert_eq!(q.shape, Shape::Graph);
    assert_eq!(get(&q, "EventDataId"), &s("e1"));
    assert_eq!(get(&q, "OperationName"), &s("Health event updated"));
    assert_eq!(get(&q, "Caller"), &s("x@y"));
    assert_eq!(
        q.key, r.key,
        "REST and storage forms of one event share the hash key"
    );
}

#[test]
fn streams_reject_bad_items_and_go_on() {
    let good = SIGNIN_DIAG;
    let input = format!(
        "{good}\nnot json\n\n[1,2]\n{{\"records\":[{good},{{\"category\":\"SignInLogs\",\"properties\":{{}}}}]}}\n\u{fffd}{good}\n"
    );
    let mut bytes = input.into_bytes();
    bytes.extend_from_slice(b"{\"bad\": \"\xff\"}\n");
    bytes.extend_from_slice(good.as_bytes());
    let out: Vec<_> = decode_stream(&bytes[..], Format::JsonLines, cx()).collect();
    let summary: Vec<String> = out
        .iter()
        .map(|r| match r {
            Ok(rec) => format!("ok {}", rec.category),
            Err(rej) => format!("{}: {}", rej.position.at, rej.reason),
        })
        .collect();
    assert_eq!(summary[0], "ok SignInLogs");
    assert!(
        summary[1].starts_with("line 2: malformed JSON"),
        "{summary:?}"
    );
    assert!(
        summary[2].starts_with("line 4: a record must be a JSON object, found an array"),
        "{summary:?}"
    );
    assert_eq!(summary[3], "ok SignInLogs");
    assert!(
        summary[4].starts_with("line 5 record 2: field properties.createdDateTime: no event time"),
        "{summary:?}"
    );
    assert!(
        summary[5].starts_with("line 6: malformed JSON"),
        "{summary:?}"
    );
    assert_eq!(summary[6], "line 7: invalid UTF-8 at byte 9");
    assert_eq!(summary[7], "ok SignInLogs");
    assert_eq!(summary.len(), 8);
    let Err(rej) = &out[4] else { panic!() };
    assert_eq!(rej.raw, br#"{"category":"SignInLogs","properties":{}}"#);
    assert_eq!(rej.category.as_deref(), Some("SignInLogs"));
    assert_eq!(rej.position.location, "mem");
}
