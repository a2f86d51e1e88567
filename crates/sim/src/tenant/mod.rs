//! The simulated tenant: users, devices, applications, service principals, managed identities, agents,
//! subscriptions and Azure resources, all derived deterministically from [`TenantConfig::seed`].

use std::collections::{HashMap, HashSet};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

mod entities;

pub use crate::catalog::City;
use crate::catalog::{self, CITIES};
use crate::config::TenantConfig;
use crate::util::{guid, guid_of, hex, mac_of, mix2, pick, pick_weighted};
pub use entities::{
    Agent, App, AzureResource, CaPolicy, Device, Group, ManagedIdentity, RemoteNetwork,
    ResourceKind, ServicePrincipal, Subscription, User,
};

/// A simulated Entra tenant with its Azure estate. Build with [`Tenant::new`].
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Entra tenant id.
    pub tenant_id: String,
    /// Log Analytics workspace id (LA `TenantId`).
    pub workspace_id: String,
    /// Company name.
    pub name: String,
    /// Initial domain (`contoso.onmicrosoft.com`).
    pub domain: String,
    /// Federated (AD FS) domain.
    pub federated_domain: String,
    /// Users.
    pub users: Vec<User>,
    /// Custom application registrations.
    pub apps: Vec<App>,
    /// Automation service principals.
    pub service_principals: Vec<ServicePrincipal>,
    /// Managed identities.
    pub managed_identities: Vec<ManagedIdentity>,
    /// Agent identities.
    pub agents: Vec<Agent>,
    /// Subscriptions.
    pub subscriptions: Vec<Subscription>,
    /// Azure resources.
    pub resources: Vec<AzureResource>,
    /// Global Secure Access remote networks.
    pub remote_networks: Vec<RemoteNetwork>,
    /// Security groups.
    pub groups: Vec<Group>,
    /// Conditional Access policies.
    pub ca_policies: Vec<CaPolicy>,
    pub(crate) by_city: Vec<Vec<u32>>,
    user_index: HashMap<String, u32>,
    pub(crate) seed: u64,
}

fn consumer_ip(rng: &mut SmallRng, city: &City) -> String {
    let [a, b] = city.ip_prefix;
    format!(
        "{a}.{b}.{}.{}",
        rng.random_range(0..=255u8),
        rng.random_range(1..=254u8)
    )
}

fn make_device(rng: &mut SmallRng, owner: &str, mobile_wanted: Option<bool>) -> Device {
    let (os, browser, ua, mobile) = loop {
        let (os, browser, ua, mobile, _) = *pick_weighted_row(rng);
        if mobile_wanted.is_none_or(|m| m == mobile) {
            break (os, browser, ua, mobile);
        }
    };
    let registered = !mobile || rng.random_bool(0.6);
    let trust_type = match (mobile, registered, rng.random_range(0..10)) {
        (_, false, _) => "",
        (true, true, _) => "Azure AD registered",
        (false, true, 0..=5) => "Azure AD joined",
        (false, true, _) => "Hybrid Azure AD joined",
    };
    let prefix = if mobile { "PHONE" } else { "LT" };
    Device {
        id: if registered { guid(rng) } else { String::new() },
        display_name: format!(
            "{prefix}-{}-{}",
            owner.to_ascii_uppercase(),
            hex(rng, 4).to_ascii_uppercase()
        ),
        os,
        browser,
        user_agent: ua,
        mobile,
        trust_type,
        is_compliant: registered && rng.random_bool(0.9),
        is_managed: registered && rng.random_bool(0.85),
    }
}

fn pick_weighted_row<'a>(
    rng: &mut SmallRng,
) -> &'a (&'static str, &'static str, &'static str, bool, u32) {
    let total: u32 = catalog::PLATFORMS.iter().map(|p| p.4).sum();
    let mut r = rng.random_range(0..total);
    for p in catalog::PLATFORMS {
        if r < p.4 {
            return p;
        }
        r -= p.4;
    }
    &catalog::PLATFORMS[0]
}

impl Tenant {
    /// Builds the tenant from the configuration (only `seed` and `users` matter).
    pub fn new(cfg: &TenantConfig) -> Tenant {
        let seed = mix2(cfg.seed, 0x007E_4A17);
        let mut rng = SmallRng::seed_from_u64(seed);
        let company = *pick(&mut rng, catalog::COMPANIES);
        let lower = company.to_ascii_lowercase();
        let domain = format!("{lower}.onmicrosoft.com");
        let federated_domain = format!("corp.{lower}.com");
        let tenant_id = guid(&mut rng);
        let workspace_id = guid(&mut rng);

        let n = cfg.users as usize;
        let city_weights: Vec<(usize, u32)> = CITIES
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.weight))
            .collect();
        let mut users = Vec::with_capacity(n);
        let mut by_city = vec![Vec::new(); CITIES.len()];
        let mut taken = HashSet::with_capacity(n);
        for i in 0..n {
            let given = *pick(&mut rng, catalog::FIRST_NAMES);
            let surname = *pick(&mut rng, catalog::LAST_NAMES);
            let base = format!(
                "{}.{}",
                given.to_ascii_lowercase(),
                surname.to_ascii_lowercase().replace(' ', "")
            );
            let mut nick = base.clone();
            let mut k = 2;
            while !taken.insert(nick.clone()) {
                nick = format!("{base}{k}");
                k += 1;
            }
            let home_city = if i < 3 {
                0
            } else {
                *pick_weighted(&mut rng, &city_weights)
            };
            let (department, titles) = *pick(&mut rng, catalog::DEPARTMENTS);
            let admin_role = if i == 0 {
                Some(catalog::ADMIN_ROLES[0])
            } else if rng.random_bool(0.03) || (i < 8 && department == "IT") {
                Some(*pick(&mut rng, catalog::ADMIN_ROLES))
            } else {
                None
            };
            let guest = i > 10 && rng.random_bool(0.03);
            let federated = !guest && i % 7 == 3;
            let upn = if guest {
                format!("{nick}_partner.example#EXT#@{domain}")
            } else if federated {
                format!("{nick}@{federated_domain}")
            } else {
                format!("{nick}@{domain}")
            };
            let mut devices = vec![make_device(
                &mut rng,
                &nick[..nick.len().min(6)],
                Some(false),
            )];
            if rng.random_bool(0.7) {
                devices.push(make_device(
                    &mut rng,
                    &nick[..nick.len().min(6)],
                    Some(true),
                ));
            }
            let city = &CITIES[home_city];
            by_city[home_city].push(i as u32);
            users.push(User {
                id: guid(&mut rng),
                upn,
                display_name: format!("{given} {surname}"),
                given_name: given.to_owned(),
                surname: surname.to_owned(),
                department,
                job_title: pick::<&str>(&mut rng, titles),
                home_city,
                admin_role,
                enabled: i < 3 || !rng.random_bool(0.02),
                federated,
                guest,
                devices,
                home_ip: consumer_ip(&mut rng, city),
                mobile_ip: consumer_ip(&mut rng, city),
            });
        }
        let user_index = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i as u32))
            .collect();

        let apps = catalog::CUSTOM_APPS
            .iter()
            .map(|name| App {
                display_name: format!("{company} {name}"),
                app_id: guid(&mut rng),
                sp_id: guid(&mut rng),
                object_id: guid(&mut rng),
            })
            .collect();

        let n_sp = 4 + n / 50;
        let service_principals = (0..n_sp)
            .map(|i| {
                let base = catalog::AUTOMATION_SPS[i % catalog::AUTOMATION_SPS.len()];
                let round = i / catalog::AUTOMATION_SPS.len();
                let credential_type = *pick(
                    &mut rng,
                    &[
                        "clientSecret",
                        "clientSecret",
                        "clientAssertion",
                        "federatedIdentityCredential",
                    ],
                );
                let city = if rng.random_bool(0.7) {
                    0
                } else {
                    rng.random_range(0..CITIES.len())
                };
                let [a, b] = *pick(&mut rng, catalog::AZURE_PREFIXES);
                ServicePrincipal {
                    display_name: if round == 0 {
                        base.to_owned()
                    } else {
                        format!("{base}-{}", round + 1)
                    },
                    app_id: guid(&mut rng),
                    id: guid(&mut rng),
                    credential_type,
                    credential_key_id: guid(&mut rng),
                    thumbprint: if credential_type == "clientAssertion" {
                        hex(&mut rng, 40).to_ascii_uppercase()
                    } else {
                        String::new()
                    },
                    ip: format!(
                        "{a}.{b}.{}.{}",
                        rng.random_range(0..=255u8),
                        rng.random_range(1..=254u8)
                    ),
                    city,
                }
            })
            .collect();

        let n_subs = 1 + n / 300;
        let sub_names = ["Production", "Development", "Shared Services", "Sandbox"];
        let subscriptions: Vec<Subscription> = (0..n_subs)
            .map(|i| Subscription {
                id: guid(&mut rng),
                display_name: format!("{company} {}", sub_names[i % sub_names.len()]),
            })
            .collect();

        let mut resources = Vec::new();
        let mut add =
            |rng: &mut SmallRng, kind: ResourceKind, name: String, sub: usize, rg: &str| {
                let location = if rng.random_bool(0.7) {
                    CITIES[0].region
                } else {
                    pick(rng, CITIES).region
                };
                let id = format!(
                    "/subscriptions/{}/resourceGroups/{rg}/providers/{}/{name}",
                    subscriptions[sub].id,
                    kind.provider_type()
                );
                let private_ip = match kind {
                    ResourceKind::VirtualNetwork => {
                        format!("10.{}.0.0/16", rng.random_range(0..=255u8))
                    }
                    _ => format!(
                        "10.{}.{}.{}",
                        rng.random_range(0..=3u8),
                        rng.random_range(0..=9u8),
                        rng.random_range(4..=250u8)
                    ),
                };
                let mac = mac_of(rng.random());
                resources.push(AzureResource {
                    kind,
                    name,
                    resource_group: rg.to_owned(),
                    subscription: sub,
                    id,
                    location,
                    private_ip,
                    mac,
                });
            };
        for s in 0..n_subs {
            let rg_app = format!("rg-{lower}-app-{s}");
            let rg_net = format!("rg-{lower}-network-{s}");
            let rg_sec = format!("rg-{lower}-security-{s}");
            for v in 0..3 {
                add(
                    &mut rng,
                    ResourceKind::VirtualMachine,
                    format!("vm-{lower}-{s}{v:02}"),
                    s,
                    &rg_app,
                );
            }
            let kv = format!("kv-{lower}-{s}-{}", hex(&mut rng, 4));
            add(&mut rng, ResourceKind::KeyVault, kv, s, &rg_sec);
            let st = format!("st{lower}{s}{}", hex(&mut rng, 6));
            add(&mut rng, ResourceKind::StorageAccount, st, s, &rg_app);
            add(
                &mut rng,
                ResourceKind::WebApp,
                format!("app-{lower}-portal-{s}"),
                s,
                &rg_app,
            );
            add(
                &mut rng,
                ResourceKind::VirtualNetwork,
                format!("vnet-{lower}-{s}"),
                s,
                &rg_net,
            );
        }
        let n_nsg = 2 + n / 250;
        for i in 0..n_nsg {
            let s = i % n_subs;
            add(
                &mut rng,
                ResourceKind::NetworkSecurityGroup,
                format!("nsg-{lower}-{i}"),
                s,
                &format!("rg-{lower}-network-{s}"),
            );
        }

        let vms: Vec<&AzureResource> = resources
            .iter()
            .filter(|r| r.kind == ResourceKind::VirtualMachine)
            .collect();
        let n_mi = 3 + n / 100;
        let managed_identities = (0..n_mi)
            .map(|i| {
                let user_assigned = i % 3 == 2;
                let vm = vms[i % vms.len()];
                ManagedIdentity {
                    display_name: if user_assigned {
                        format!("id-{lower}-workload-{i}")
                    } else {
                        vm.name.clone()
                    },
                    app_id: guid(&mut rng),
                    id: guid(&mut rng),
                    msi_type: if user_assigned {
                        "userAssigned"
                    } else {
                        "systemAssigned"
                    },
                    resource_id: vm.id.clone(),
                }
            })
            .collect();

        let agent_names = [
            "Helpdesk Copilot",
            "Sales Assistant Agent",
            "Invoice Triage Agent",
            "IT Ops Agent",
            "HR Q&A Agent",
        ];
        let agents = (0..(2 + n / 250))
            .map(|i| Agent {
                id: guid(&mut rng),
                display_name: agent_names[i % agent_names.len()].to_owned(),
                blueprint_id: guid(&mut rng),
                identity_type: pick::<&str>(
                    &mut rng,
                    &[
                        "agentIdentity",
                        "agentIdentity",
                        "agentUser",
                        "agentIdentityBlueprintPrincipal",
                    ],
                ),
            })
            .collect();

        let remote_networks = (0..(1 + n / 400))
            .map(|i| {
                let city = &CITIES[i % CITIES.len()];
                RemoteNetwork {
                    id: guid(&mut rng),
                    name: format!("Branch-{}", city.name.replace(' ', "")),
                    source_ip: format!("203.0.113.{}", 100 + i % 100),
                    destination_ip: format!("198.51.100.{}", 10 + i % 200),
                }
            })
            .collect();

        let group_names = [
            "All Staff",
            "Engineering",
            "Sales Team",
            "Finance Readers",
            "IT Admins",
            "VPN Users",
            "Contractors",
            "Security Team",
            "Marketing",
            "Executives",
        ];
        let groups = (0..(10 + n / 25))
            .map(|i| Group {
                id: guid(&mut rng),
                display_name: if i < group_names.len() {
                    group_names[i].to_owned()
                } else {
                    format!("Project {}", hex(&mut rng, 4))
                },
            })
            .collect();

        let ca_policies = catalog::CA_POLICIES
            .iter()
            .map(|(name, grants, admins_only)| CaPolicy {
                id: guid(&mut rng),
                display_name: name,
                grant_controls: grants,
                admins_only: *admins_only,
            })
            .collect();

        Tenant {
            tenant_id,
            workspace_id,
            name: company.to_owned(),
            domain,
            federated_domain,
            users,
            apps,
            service_principals,
            managed_identities,
            agents,
            subscriptions,
            resources,
            remote_networks,
            groups,
            ca_policies,
            by_city,
            user_index,
            seed,
        }
    }

    /// The cities users live in (index = [`User::home_city`]).
    pub fn cities(&self) -> &'static [City] {
        CITIES
    }

    /// Looks a user up by object id.
    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.user_index.get(id).map(|&i| &self.users[i as usize])
    }

    /// The tenant-level resource id of Entra diagnostic records: `/tenants/{tid}/providers/Microsoft.aadiam`.
    pub fn aadiam_resource_id(&self) -> String {
        format!("/tenants/{}/providers/Microsoft.aadiam", self.tenant_id)
    }

    /// Resources of one kind.
    pub fn resources_of(&self, kind: ResourceKind) -> impl Iterator<Item = &AzureResource> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// The service principal object id this tenant has for a (first-party) application id.
    pub(crate) fn sp_id_for(&self, app_id: &str) -> String {
        let h = app_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        guid_of(mix2(self.seed, h))
    }
}
