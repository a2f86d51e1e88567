//! Directory-audit analytics: new credential on an application or service principal, credential added
//! after admin consent, high-privilege consent, role assigned outside PIM, authentication methods changed
//! on a privileged account, domain federation changed, Conditional Access policy disabled or deleted,
//! cross-tenant access partner added.

use super::audit::{
    Initiator, Target, activity, failed, initiator, key_ids, permission_words, squeezed, targets,
};
use super::info::Fired;
use super::{Analytics, AnalyticsConfig};
use crate::eval::Match;
use crate::rule::CorrelationKind;
use model::Record;

/// Security-info (authentication method) changes.
const AUTH_METHOD_ACTIVITIES: &[&str] = &[
    "user registered security info",
    "user changed default security info",
    "user deleted security info",
    "user updated security info",
    "user registered all required security info",
    "admin registered security info",
    "admin updated security info",
    "admin deleted security info",
];
/// Callers that assign roles through Privileged Identity Management.
const PIM_CALLERS: &[&str] = &["ms-pim", "ms-pim-fairfax", "azure ad pim"];
/// PIM activities that make the target a role holder (not alerts).
const PIM_GRANTS: &[&str] = &[
    "add member to role completed (pim activation)",
    "add member to role in pim completed (permanent)",
    "add member to role in pim completed (timebound)",
    "add eligible member to role in pim completed (permanent)",
    "add eligible member to role in pim completed (timebound)",
];
const FEDERATION_ACTIVITIES: &[&str] = &[
    "set domain authentication",
    "set federation settings on domain",
];

fn is_credential_activity(name: &str) -> bool {
    name.starts_with("add service principal credentials")
        || name.contains("certificates and secrets management")
        || name.starts_with("update application")
        || name.starts_with("update service principal")
}

/// Keys added by a `KeyDescription` change: (added, some existed before).
fn added_keys(t: &Target) -> Option<(usize, bool)> {
    let (old, new) = t.prop("KeyDescription")?;
    let old = key_ids(old);
    let added = key_ids(new).iter().filter(|k| !old.contains(k)).count();
    Some((added, !old.is_empty()))
}

/// Keys under which a consent is remembered: the application's name and ids.
fn app_keys(t: &Target) -> Vec<String> {
    let mut keys = Vec::new();
    if !t.name.is_empty() {
        keys.push(format!("name:{}", t.name.to_ascii_lowercase()));
    }
    if !t.id.is_empty() {
        keys.push(format!("id:{}", t.id));
    }
    for p in ["AppId", "AppPrincipalId", "ServicePrincipalNames"] {
        if let Some((_, new)) = t.prop(p) {
            for w in permission_words(new).filter(|w| w.len() >= 32) {
                keys.push(format!("id:{w}"));
            }
        }
    }
    keys
}

fn app_entity(t: &Target) -> String {
    if t.name.is_empty() {
        t.id.clone()
    } else {
        t.name.to_ascii_lowercase()
    }
}

impl Analytics {
    /// Directory audits.
    pub(super) fn observe_audit(&mut self, r: &Record, out: &mut Vec<Match>) {
        let name = activity(r);
        let interesting = is_credential_activity(&name)
            || name == "consent to application"
            || name == "add app role assignment to service principal"
            || name == "add delegated permission grant"
            || name.starts_with("add member to role")
            || name.starts_with("add eligible member to role")
            || name == "update user"
            || AUTH_METHOD_ACTIVITIES.contains(&name.as_str())
            || FEDERATION_ACTIVITIES.contains(&name.as_str())
            || name.ends_with("conditional access policy")
            || name.starts_with("add a partner to cross-tenant access setting");
        if !interesting || failed(r) {
            return;
        }
        let who = initiator(r);
        let targets = targets(r);
        if is_credential_activity(&name) {
            self.credential(r, &name, &who, &targets, out);
        }
        match name.as_str() {
            "consent to application"
            | "add app role assignment to service principal"
            | "add delegated permission grant" => self.consent(r, &targets, out),
            n if n.starts_with("add member to role")
                || n.starts_with("add eligible member to role") =>
            {
                self.role(r, n, &who, &targets, out);
            }
            n if AUTH_METHOD_ACTIVITIES.contains(&n) => self.auth_methods(r, &who, &targets, out),
            "update user"
                if targets.iter().any(|t| {
                    t.props
                        .iter()
                        .any(|p| p.0.starts_with("StrongAuthentication"))
                }) =>
            {
                self.auth_methods(r, &who, &targets, out);
            }
            n if FEDERATION_ACTIVITIES.contains(&n) => {
                let domain = targets.first().map(|t| t.name.clone()).unwrap_or_default();
                let f = Fired::single(r, "Domain", &domain);
                out.push(f.into_match(&self.infos[super::FEDERATION_I]));
            }
            "delete conditional access policy" | "update conditional access policy" => {
                self.ca_policy(r, &name, &targets, out);
            }
            n if n.starts_with("add a partner to cross-tenant access setting") => {
                let partner = targets
                    .iter()
                    .find_map(|t| {
                        t.prop("tenantId")
                            .map(|(_, new)| new.trim().trim_matches('"').to_owned())
                    })
                    .or_else(|| targets.first().map(|t| t.id.clone()))
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let allowed = self
                    .cfg
                    .allowed_partner_tenants
                    .iter()
                    .any(|a| a.trim().eq_ignore_ascii_case(&partner));
                if !allowed {
                    let f = Fired::single(r, "PartnerTenantId", &partner);
                    out.push(f.into_match(&self.infos[super::CROSS_TENANT_I]));
                }
            }
            _ => {}
        }
    }

    fn credential(
        &mut self,
        r: &Record,
        name: &str,
        who: &Initiator,
        targets: &[Target],
        out: &mut Vec<Match>,
    ) {
        let sp_credentials = name.starts_with("add service principal credentials");
        let Some(t) = targets
            .iter()
            .find(|t| added_keys(t).is_some_and(|(n, _)| n > 0))
            .or_else(|| targets.first().filter(|_| sp_credentials))
        else {
            return;
        };
        let existed = added_keys(t).is_some_and(|(_, e)| e);
        let by_app = who.user.is_none() && who.app.is_some();
        let entity = app_entity(t);
        if sp_credentials || existed || by_app || self.cfg.alert_first_app_credential {
            let f = Fired::single(r, "AppDisplayName", &entity);
            out.push(f.into_match(&self.infos[super::APP_CREDENTIAL_I]));
        }
        let window = AnalyticsConfig::micros(self.cfg.consent_credential_window_minutes);
        let consent = app_keys(t)
            .iter()
            .filter_map(|k| self.consents.get(k))
            .find(|(at, _)| *at <= r.event_time && r.event_time - at <= window)
            .cloned();
        if let Some((at, key)) = consent {
            let f = Fired {
                kind: CorrelationKind::TemporalOrdered,
                group: vec![("AppDisplayName", entity)],
                evidence: vec![key, r.key.clone()],
                count: 2,
                first: at,
                record: r,
            };
            out.push(f.into_match(&self.infos[super::AFTER_CONSENT_I]));
        }
    }

    fn consent(&mut self, r: &Record, targets: &[Target], out: &mut Vec<Match>) {
        let Some(t) = targets
            .iter()
            .find(|t| t.kind.eq_ignore_ascii_case("ServicePrincipal"))
            .or_else(|| targets.first())
        else {
            return;
        };
        let granted: Vec<String> = targets
            .iter()
            .flat_map(|t| &t.props)
            .filter(|p| {
                let n = p.0.to_ascii_lowercase();
                n.contains("permissions") || n.contains("scope") || n == "approle.value"
            })
            .flat_map(|p| permission_words(&p.2).collect::<Vec<_>>())
            .filter(|w| self.permissions.contains(w))
            .collect();
        let high = !granted.is_empty();
        if high {
            let f = Fired::single(r, "AppDisplayName", &app_entity(t));
            out.push(f.into_match(&self.infos[super::CONSENT_I]));
        }
        // Routine admin consent to low-privilege scopes (User.Read, openid, …) is not remembered: only a
        // high-privilege grant makes a later credential an illicit-consent pattern.
        if high {
            for k in app_keys(t) {
                if !self.consents.contains_key(&k) && self.consents.len() >= self.max_groups {
                    let oldest = self.consents.iter().min_by_key(|(_, v)| v.0);
                    if let Some(old) = oldest.map(|(k, _)| k.clone()) {
                        self.consents.remove(&old);
                    }
                }
                self.consents.insert(k, (r.event_time, r.key.clone()));
            }
        }
    }

    fn role(
        &mut self,
        r: &Record,
        name: &str,
        who: &Initiator,
        targets: &[Target],
        out: &mut Vec<Match>,
    ) {
        let member = targets
            .iter()
            .find(|t| t.kind.eq_ignore_ascii_case("User") || t.upn.is_some())
            .or_else(|| {
                targets
                    .iter()
                    .find(|t| !t.kind.eq_ignore_ascii_case("Role"))
            });
        let holder = member.map(|t| t.upn.clone().unwrap_or_else(|| t.id.clone()));
        if let Some(h) = holder.as_deref().filter(|h| !h.is_empty()) {
            self.note_privileged(h, r.event_time);
        }
        if PIM_GRANTS.contains(&name) || name.starts_with("add eligible member to role") {
            return;
        }
        let by_pim = who
            .app
            .as_deref()
            .is_some_and(|a| PIM_CALLERS.contains(&a.to_ascii_lowercase().as_str()))
            || super::text(r, "LoggedByService").is_some_and(|s| s.eq_ignore_ascii_case("PIM"));
        let outside = name.starts_with("add member to role outside of pim")
            || (name == "add member to role" && !by_pim);
        if outside {
            let f = Fired::single(r, "UserPrincipalName", holder.as_deref().unwrap_or(""));
            out.push(f.into_match(&self.infos[super::ROLE_I]));
        }
    }

    fn note_privileged(&mut self, holder: &str, t: i64) {
        if !self.privileged.contains_key(holder) && self.privileged.len() >= self.max_groups {
            let oldest = self.privileged.iter().min_by_key(|(_, at)| **at);
            if let Some(old) = oldest.map(|(k, _)| k.clone()) {
                self.privileged.remove(&old);
            }
        }
        self.privileged.insert(holder.to_owned(), t);
    }

    fn auth_methods(
        &mut self,
        r: &Record,
        who: &Initiator,
        targets: &[Target],
        out: &mut Vec<Match>,
    ) {
        let target = targets.iter().find(|t| t.upn.is_some());
        let Some(account) = target
            .and_then(|t| t.upn.clone())
            .or_else(|| who.user.clone())
        else {
            return;
        };
        let target_id = target.map(|t| t.id.as_str()).unwrap_or("");
        let self_service = who.user.as_deref() == Some(account.as_str())
            || (!target_id.is_empty() && who.user_id.as_deref() == Some(target_id));
        let privileged = self.privileged_cfg.contains(&account)
            || self.privileged.contains_key(&account)
            || (!target_id.is_empty() && self.privileged.contains_key(target_id))
            || (self_service && who.has_roles);
        let t = r.event_time;
        let new_for = AnalyticsConfig::micros(self.cfg.new_ip_minutes);
        let ip = who.ip.clone().unwrap_or_default();
        let st = self.user(&account, t);
        let new_net = st.new_network(&ip, t, new_for) == Some(true);
        if self_service {
            st.saw_ip(&ip, t);
        }
        if privileged && (!self_service || new_net) {
            let f = Fired::single(r, "UserPrincipalName", &account);
            out.push(f.into_match(&self.infos[super::AUTH_METHODS_I]));
        }
    }

    fn ca_policy(&mut self, r: &Record, name: &str, targets: &[Target], out: &mut Vec<Match>) {
        let policy = targets.first().map(|t| t.name.clone()).unwrap_or_default();
        let fire = name == "delete conditional access policy"
            || targets.iter().flat_map(|t| &t.props).any(|p| {
                let (old, new) = (squeezed(&p.1), squeezed(&p.2));
                let off = |s: &str| {
                    s.contains("\"state\":\"disabled\"")
                        || s.contains("\"state\":\"enabledforreportingbutnotenforced\"")
                };
                off(&new) && !off(&old)
            });
        if fire {
            let f = Fired::single(r, "Policy", &policy);
            out.push(f.into_match(&self.infos[super::CA_I]));
        }
    }
}
