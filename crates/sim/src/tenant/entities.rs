//! Directory and Azure entities of a simulated tenant.

/// A user of the directory.
#[derive(Debug, Clone)]
pub struct User {
    /// Object id (GUID).
    pub id: String,
    /// User principal name.
    pub upn: String,
    /// Display name.
    pub display_name: String,
    /// Given name.
    pub given_name: String,
    /// Surname.
    pub surname: String,
    /// Department.
    pub department: &'static str,
    /// Job title.
    pub job_title: &'static str,
    /// Index of the home city in [`Tenant::cities`].
    pub home_city: usize,
    /// Directory role held, if the user is an administrator: (displayName, roleTemplateId).
    pub admin_role: Option<(&'static str, &'static str)>,
    /// Whether the account is enabled.
    pub enabled: bool,
    /// Whether the user signs in through AD FS (federated domain).
    pub federated: bool,
    /// Whether the user is a B2B guest.
    pub guest: bool,
    /// The user's devices (at least one).
    pub devices: Vec<Device>,
    /// Home broadband address.
    pub home_ip: String,
    /// Mobile carrier address.
    pub mobile_ip: String,
}

impl User {
    /// Whether the user holds a directory role.
    pub fn is_admin(&self) -> bool {
        self.admin_role.is_some()
    }
}

/// A device a user signs in from.
#[derive(Debug, Clone)]
pub struct Device {
    /// Entra device id (GUID), empty for unregistered devices.
    pub id: String,
    /// Device name.
    pub display_name: String,
    /// `deviceDetail.operatingSystem`.
    pub os: &'static str,
    /// `deviceDetail.browser`.
    pub browser: &'static str,
    /// Browser user agent.
    pub user_agent: &'static str,
    /// Whether the device is a phone.
    pub mobile: bool,
    /// `deviceDetail.trustType` (`Azure AD joined`, `Hybrid Azure AD joined`, `Azure AD registered` or empty).
    pub trust_type: &'static str,
    /// Intune compliance.
    pub is_compliant: bool,
    /// Intune management.
    pub is_managed: bool,
}

/// An application registration with its service principal in this tenant.
#[derive(Debug, Clone)]
pub struct App {
    /// Display name.
    pub display_name: String,
    /// Application (client) id.
    pub app_id: String,
    /// Service principal object id in this tenant.
    pub sp_id: String,
    /// Application object id.
    pub object_id: String,
}

/// A workload identity (automation service principal) that signs in with a credential.
#[derive(Debug, Clone)]
pub struct ServicePrincipal {
    /// Display name.
    pub display_name: String,
    /// Application (client) id.
    pub app_id: String,
    /// Service principal object id.
    pub id: String,
    /// `clientSecret`, `clientAssertion` (certificate) or `federatedIdentityCredential`.
    pub credential_type: &'static str,
    /// Credential key id (GUID).
    pub credential_key_id: String,
    /// Certificate thumbprint (empty unless certificate).
    pub thumbprint: String,
    /// Outbound address the workload calls from.
    pub ip: String,
    /// Index of the city the address geolocates to.
    pub city: usize,
}

/// A managed identity.
#[derive(Debug, Clone)]
pub struct ManagedIdentity {
    /// Display name (the resource name for system-assigned identities).
    pub display_name: String,
    /// Application id.
    pub app_id: String,
    /// Service principal object id.
    pub id: String,
    /// `systemAssigned` or `userAssigned`.
    pub msi_type: &'static str,
    /// ARM id of the resource the identity belongs to.
    pub resource_id: String,
}

/// An Entra agent identity (for RiskyAgents / AgentRiskEvents).
#[derive(Debug, Clone)]
pub struct Agent {
    /// Agent identity id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Blueprint id.
    pub blueprint_id: String,
    /// `agentIdentity`, `agentIdentityBlueprintPrincipal` or `agentUser`.
    pub identity_type: &'static str,
}

/// An Azure subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    /// Subscription id.
    pub id: String,
    /// Display name.
    pub display_name: String,
}

/// Kind of Azure resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// `Microsoft.Compute/virtualMachines`.
    VirtualMachine,
    /// `Microsoft.KeyVault/vaults`.
    KeyVault,
    /// `Microsoft.Storage/storageAccounts`.
    StorageAccount,
    /// `Microsoft.Network/networkSecurityGroups`.
    NetworkSecurityGroup,
    /// `Microsoft.Network/virtualNetworks`.
    VirtualNetwork,
    /// `Microsoft.Web/sites`.
    WebApp,
}

impl ResourceKind {
    /// Resource provider and type: `Microsoft.Compute/virtualMachines`.
    pub const fn provider_type(self) -> &'static str {
        match self {
            ResourceKind::VirtualMachine => "Microsoft.Compute/virtualMachines",
            ResourceKind::KeyVault => "Microsoft.KeyVault/vaults",
            ResourceKind::StorageAccount => "Microsoft.Storage/storageAccounts",
            ResourceKind::NetworkSecurityGroup => "Microsoft.Network/networkSecurityGroups",
            ResourceKind::VirtualNetwork => "Microsoft.Network/virtualNetworks",
            ResourceKind::WebApp => "Microsoft.Web/sites",
        }
    }
}

/// An Azure resource.
#[derive(Debug, Clone)]
pub struct AzureResource {
    /// Kind.
    pub kind: ResourceKind,
    /// Resource name.
    pub name: String,
    /// Resource group.
    pub resource_group: String,
    /// Index in [`Tenant::subscriptions`].
    pub subscription: usize,
    /// ARM id (`/subscriptions/…/resourceGroups/…/providers/…/name`).
    pub id: String,
    /// Azure region.
    pub location: &'static str,
    /// Private address (VMs, NICs behind NSGs) or address space prefix (VNets).
    pub private_ip: String,
    /// NIC MAC address (NSGs and VNets: the monitored NIC), upper-case without separators.
    pub mac: String,
}

/// A Global Secure Access remote network (branch office).
#[derive(Debug, Clone)]
pub struct RemoteNetwork {
    /// Remote network id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Public address of the branch CPE.
    pub source_ip: String,
    /// Global Secure Access edge address.
    pub destination_ip: String,
}

/// A security group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
}

/// A Conditional Access policy.
#[derive(Debug, Clone)]
pub struct CaPolicy {
    /// Policy id.
    pub id: String,
    /// Display name.
    pub display_name: &'static str,
    /// Grant controls (`Mfa`, `Block`, …).
    pub grant_controls: &'static [&'static str],
    /// Whether the policy only targets administrators.
    pub admins_only: bool,
}
