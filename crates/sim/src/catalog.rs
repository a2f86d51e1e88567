//! Static reference data: world cities with real coordinates, names, first-party Microsoft applications with
//! their real app ids, devices, user agents and sign-in error codes. IP prefixes are illustrative data only;
//! office egress addresses come from the documentation ranges (RFC 5737).

/// A place users live in or sign in from (real coordinates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct City {
    /// City name, as `location.city`.
    pub name: &'static str,
    /// State or region, as `location.state`.
    pub state: &'static str,
    /// ISO 3166 alpha-2 country, as `location.countryOrRegion`.
    pub country: &'static str,
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
    /// Standard-time offset from UTC in minutes (daylight saving time is ignored).
    pub utc_offset_min: i32,
    /// Nearest Azure region (`westus2`), empty for places outside the tenant.
    pub region: &'static str,
    /// First two octets of the (illustrative) consumer address block used for this city.
    pub ip_prefix: [u8; 2],
    /// Relative share of the tenant's users living here.
    pub weight: u32,
}

#[allow(clippy::too_many_arguments)] // a table row constructor
const fn city(
    name: &'static str,
    state: &'static str,
    country: &'static str,
    lat: f64,
    lon: f64,
    utc_offset_min: i32,
    region: &'static str,
    ip_prefix: [u8; 2],
    weight: u32,
) -> City {
    City {
        name,
        state,
        country,
        lat,
        lon,
        utc_offset_min,
        region,
        ip_prefix,
        weight,
    }
}

/// Home cities of the tenant's users. The first is headquarters.
#[rustfmt::skip]
pub(crate) const CITIES: &[City] = &[
    city("Seattle", "Washington", "US", 47.6062, -122.3321, -480, "westus2", [73, 97], 30),
    city("New York", "New York", "US", 40.7128, -74.0060, -300, "eastus", [72, 229], 12),
    city("Chicago", "Illinois", "US", 41.8781, -87.6298, -360, "centralus", [98, 212], 6),
    city("Austin", "Texas", "US", 30.2672, -97.7431, -360, "southcentralus", [70, 114], 5),
    city("Toronto", "Ontario", "CA", 43.6532, -79.3832, -300, "canadacentral", [99, 230], 4),
    city("Sao Paulo", "Sao Paulo", "BR", -23.5505, -46.6333, -180, "brazilsouth", [177, 32], 3),
    city("London", "England", "GB", 51.5074, -0.1278, 0, "uksouth", [81, 2], 8),
    city("Dublin", "Leinster", "IE", 53.3498, -6.2603, 0, "northeurope", [86, 44], 3),
    city("Paris", "Ile-de-France", "FR", 48.8566, 2.3522, 60, "francecentral", [90, 84], 4),
    city("Berlin", "Berlin", "DE", 52.52, 13.405, 60, "germanywestcentral", [93, 192], 4),
    city("Amsterdam", "North Holland", "NL", 52.3676, 4.9041, 60, "westeurope", [84, 106], 3),
    city("Stockholm", "Stockholm County", "SE", 59.3293, 18.0686, 60, "swedencentral", [89, 160], 2),
    city("Madrid", "Madrid", "ES", 40.4168, -3.7038, 60, "spaincentral", [83, 33], 2),
    city("Johannesburg", "Gauteng", "ZA", -26.2041, 28.0473, 120, "southafricanorth", [41, 13], 2),
    city("Dubai", "Dubai", "AE", 25.2048, 55.2708, 240, "uaenorth", [94, 200], 2),
    city("Bengaluru", "Karnataka", "IN", 12.9716, 77.5946, 330, "southindia", [49, 207], 6),
    city("Singapore", "Singapore", "SG", 1.3521, 103.8198, 480, "southeastasia", [116, 14], 3),
    city("Tokyo", "Tokyo", "JP", 35.6762, 139.6503, 540, "japaneast", [126, 72], 3),
    city("Sydney", "New South Wales", "AU", -33.8688, 151.2093, 600, "australiaeast", [1, 128], 4),
    city("Auckland", "Auckland", "NZ", -36.8485, 174.7633, 720, "newzealandnorth", [125, 236], 1),
];

/// Places attackers and anonymisers appear from (never a user's home).
#[rustfmt::skip]
pub(crate) const FOREIGN: &[City] = &[
    city("Moscow", "Moscow", "RU", 55.7558, 37.6173, 180, "", [95, 165], 1),
    city("Lagos", "Lagos", "NG", 6.5244, 3.3792, 60, "", [102, 89], 1),
    city("Hanoi", "Hanoi", "VN", 21.0278, 105.8342, 420, "", [113, 160], 1),
    city("Bucharest", "Bucuresti", "RO", 44.4268, 26.1025, 120, "", [5, 2], 1),
    city("Shenzhen", "Guangdong", "CN", 22.5431, 114.0579, 480, "", [175, 16], 1),
];

/// Address prefixes of anonymisers and hostile infrastructure (data only).
#[rustfmt::skip]
pub(crate) const HOSTILE_PREFIXES: &[[u8; 3]] = &[
    [67, 43, 156], [185, 220, 101], [45, 155, 205], [193, 142, 146],
];

/// Azure datacenter prefixes that service principals and managed identities call from (data only).
pub(crate) const AZURE_PREFIXES: &[[u8; 2]] = &[[20, 42], [40, 74], [52, 168], [13, 64], [20, 190]];

#[rustfmt::skip]
pub(crate) const FIRST_NAMES: &[&str] = &[
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Oliver", "Sophia", "Elijah", "Isabella", "Lucas", "Mia", "Mateo",
    "Amelia", "Kenji", "Harper", "Arjun", "Evelyn", "Wei", "Aisha", "Diego", "Chloe", "Omar", "Zoe", "Hiroshi",
    "Priya", "Lars", "Ingrid", "Mohammed", "Fatima", "Pierre", "Camille", "Jonas", "Lea", "Marco", "Giulia",
    "Santiago", "Valentina", "Thabo", "Naledi", "Yuki", "Sakura", "Ravi", "Ananya", "Mei", "Jin", "Sven", "Astrid",
    "Kwame", "Amara", "Tomasz", "Zofia", "Ahmed", "Layla", "Connor", "Siobhan", "Hannah", "Felix", "Nora", "Aroha",
    "Tane",
];

#[rustfmt::skip]
pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Nguyen", "Kim", "Patel",
    "Sharma", "Tanaka", "Suzuki", "Muller", "Schmidt", "Dubois", "Laurent", "Rossi", "Bianchi", "Silva", "Santos",
    "Andersson", "Johansson", "Nielsen", "Kowalski", "Novak", "Okafor", "Mensah", "Dlamini", "Khan", "Haddad",
    "Cohen", "OBrien", "Murphy", "Kelly", "Chen", "Wang", "Li", "Zhang", "Singh", "Kumar", "Fernandez", "Gomez",
    "Jansen", "de Vries", "Ngata", "Walker",
];

#[rustfmt::skip]
pub(crate) const DEPARTMENTS: &[(&str, &[&str])] = &[
    ("Engineering", &["Software Engineer", "Senior Software Engineer", "Engineering Manager", "SRE"]),
    ("Sales", &["Account Executive", "Sales Manager", "Sales Engineer"]),
    ("Marketing", &["Marketing Specialist", "Content Manager", "Marketing Director"]),
    ("Finance", &["Accountant", "Financial Analyst", "Controller"]),
    ("Human Resources", &["HR Generalist", "Recruiter", "HR Business Partner"]),
    ("Legal", &["Counsel", "Paralegal"]),
    ("IT", &["IT Administrator", "Help Desk Technician", "Systems Engineer", "Cloud Architect"]),
    ("Operations", &["Operations Analyst", "Program Manager"]),
    ("Customer Support", &["Support Engineer", "Support Lead"]),
    ("Research", &["Research Scientist", "Data Scientist"]),
    ("Security", &["Security Analyst", "Security Engineer", "CISO"]),
];

/// A Microsoft first-party application or resource with its real, public app id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FirstParty {
    pub(crate) name: &'static str,
    pub(crate) app_id: &'static str,
}

const fn fp(name: &'static str, app_id: &'static str) -> FirstParty {
    FirstParty { name, app_id }
}

pub(crate) const GRAPH: FirstParty = fp("Microsoft Graph", "00000003-0000-0000-c000-000000000000");
pub(crate) const EXCHANGE: FirstParty = fp(
    "Office 365 Exchange Online",
    "00000002-0000-0ff1-ce00-000000000000",
);
pub(crate) const SHAREPOINT: FirstParty = fp(
    "Office 365 SharePoint Online",
    "00000003-0000-0ff1-ce00-000000000000",
);
pub(crate) const TEAMS_SVC: FirstParty = fp(
    "Microsoft Teams Services",
    "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe",
);
pub(crate) const AAD_GRAPH: FirstParty = fp(
    "Windows Azure Active Directory",
    "00000002-0000-0000-c000-000000000000",
);
pub(crate) const ARM: FirstParty = fp(
    "Windows Azure Service Management API",
    "797f4846-ba00-4fd7-ba43-dac1f8f63013",
);
pub(crate) const INTUNE: FirstParty =
    fp("Microsoft Intune", "0000000a-0000-0000-c000-000000000000");
pub(crate) const KEY_VAULT: FirstParty =
    fp("Azure Key Vault", "cfa8b339-82a2-471a-a3c9-0fc0be7a4093");
pub(crate) const STORAGE: FirstParty = fp("Azure Storage", "e406a681-f3d4-42a8-90b6-c2b029497af1");
pub(crate) const DRS: FirstParty = fp(
    "Device Registration Service",
    "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9",
);
pub(crate) const OFFICE_HOME: FirstParty = fp("OfficeHome", "4765445b-32c6-49b0-83e6-1d93765276ca");

/// Client applications of interactive sign-ins: (client, resource, clientAppUsed, weight).
#[rustfmt::skip]
pub(crate) const INTERACTIVE_APPS: &[(FirstParty, FirstParty, &str, u32)] = &[
    (fp("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"), TEAMS_SVC, "Mobile Apps and Desktop clients", 18),
    (fp("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"), SHAREPOINT, "Mobile Apps and Desktop clients", 12),
    (OFFICE_HOME, OFFICE_HOME, "Browser", 14),
    (fp("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"), ARM, "Browser", 6),
    (fp("Microsoft Edge", "ecd6b820-32c2-49b6-98a6-444530e5a77a"), GRAPH, "Mobile Apps and Desktop clients", 5),
    (fp("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4"), EXCHANGE, "Mobile Apps and Desktop clients", 7),
    (EXCHANGE, EXCHANGE, "Browser", 8),
    (SHAREPOINT, SHAREPOINT, "Browser", 8),
    (fp("My Signins", "19db86c3-b2b9-44cc-b339-36da233a3be2"), GRAPH, "Browser", 1),
    (fp("My Apps", "2793995e-0a7d-40d7-bd35-6968ba142197"), GRAPH, "Browser", 2),
    (fp("Windows Sign In", "38aa3b87-a06d-4817-b275-7a316988d93b"), AAD_GRAPH, "Mobile Apps and Desktop clients", 9),
    (fp("Graph Explorer", "de8bc8b5-d9f9-48b1-a8ad-b748da725064"), GRAPH, "Browser", 1),
    (fp("Azure CLI", "04b07795-8ddb-461a-bbee-02f9e1bf7b46"), ARM, "Mobile Apps and Desktop clients", 2),
    (fp("Microsoft Azure PowerShell", "1950a258-227b-4e31-a9cf-717495945fc2"), ARM, "Mobile Apps and Desktop clients", 1),
    (fp("Microsoft Authentication Broker", "29d9ed98-a469-4536-ade2-f981bc1d605e"), DRS, "Mobile Apps and Desktop clients", 3),
];

/// Clients of non-interactive (token refresh) sign-ins: (client, resource, weight).
#[rustfmt::skip]
pub(crate) const NON_INTERACTIVE_APPS: &[(FirstParty, FirstParty, u32)] = &[
    (fp("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"), GRAPH, 14),
    (fp("Microsoft Office", "d3590ed6-52b3-4102-aeff-aad2292ab01c"), EXCHANGE, 10),
    (fp("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"), TEAMS_SVC, 16),
    (fp("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264"), GRAPH, 6),
    (fp("OneDrive SyncEngine", "ab9b8c07-8f02-4f72-87fa-80105867a763"), SHAREPOINT, 12),
    (fp("Outlook Mobile", "27922004-5251-4030-b22d-91ecd9a37ea4"), EXCHANGE, 8),
    (fp("Microsoft Authentication Broker", "29d9ed98-a469-4536-ade2-f981bc1d605e"), GRAPH, 6),
    (fp("Windows Sign In", "38aa3b87-a06d-4817-b275-7a316988d93b"), AAD_GRAPH, 6),
    (fp("Microsoft Intune Company Portal", "9ba1a5c7-f17a-4de9-a1f1-6178c8d51223"), INTUNE, 3),
    (fp("Microsoft Edge", "ecd6b820-32c2-49b6-98a6-444530e5a77a"), GRAPH, 4),
    (fp("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"), ARM, 2),
];

/// Resources that service principals and managed identities request tokens for.
#[rustfmt::skip]
pub(crate) const WORKLOAD_RESOURCES: &[(FirstParty, u32)] = &[
    (GRAPH, 10), (ARM, 8), (KEY_VAULT, 6), (STORAGE, 5), (AAD_GRAPH, 1),
];

/// Custom line-of-business applications every tenant registers (display names).
#[rustfmt::skip]
pub(crate) const CUSTOM_APPS: &[&str] = &[
    "HR Portal", "Expense Tracker", "Payroll API", "Customer 360", "Contract Vault", "Build Dashboard",
    "Ticketing Bridge", "Partner Extranet", "Field Service App", "Data Lake Explorer",
];

/// Automation service principals (display names).
#[rustfmt::skip]
pub(crate) const AUTOMATION_SPS: &[&str] = &[
    "Terraform-Deploy", "GitHub-Actions-Prod", "Backup-Automation", "SIEM-Connector", "Monitoring-Agent",
    "Azure-DevOps-Pipeline", "Cost-Reporter", "Identity-Sync", "Ticketing-Integration", "Patch-Orchestrator",
    "Log-Shipper", "Compliance-Scanner",
];

/// Device platforms: (operatingSystem, browser, userAgent, isMobile, weight).
#[rustfmt::skip]
pub(crate) const PLATFORMS: &[(&str, &str, &str, bool, u32)] = &[
    ("Windows10", "Edge 122.0.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.66", false, 30),
    ("Windows10", "Chrome 122.0.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", false, 20),
    ("Windows 11", "Edge 122.0.0", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.80", false, 12),
    ("MacOs", "Safari 17.3", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15", false, 10),
    ("MacOs", "Chrome 122.0.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", false, 6),
    ("Linux", "Firefox 123.0", "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0", false, 3),
    ("Ios", "Mobile Safari 17.3", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1", true, 10),
    ("Android", "Chrome Mobile 122.0.6261", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.6261.105 Mobile Safari/537.36", true, 9),
];

/// User agents of rich clients that refresh tokens silently.
#[rustfmt::skip]
pub(crate) const RICH_CLIENT_AGENTS: &[&str] = &[
    "",
    "Windows-AzureAD-Authentication-Provider/1.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Teams/24004.1307.2669.7070",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)",
    "OneDriveSyncEngine/24.040.0225.0001",
];

/// Failure codes of interactive sign-ins with their `failureReason` and relative weight (success dominates).
#[rustfmt::skip]
pub(crate) const INTERACTIVE_ERRORS: &[(u32, &str, u32)] = &[
    (50126, "Error validating credentials due to invalid username or password.", 30),
    (50074, "Strong Authentication is required.", 25),
    (50140, "This error occurred due to 'Keep me signed in' interrupt when the user was signing-in.", 20),
    (500121, "Authentication failed during strong authentication request.", 8),
    (50053, "Account is locked because user tried to sign in too many times with an incorrect user ID or password.", 4),
    (50055, "Invalid password, entered expired password.", 3),
    (53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", 5),
    (50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.", 10),
    (65001, "The user or administrator has not consented to use the application.", 2),
    (16000, "Either multiple user identities are available for the current request or selected account is not supported for the scenario.", 3),
];

/// Failure codes of non-interactive sign-ins.
#[rustfmt::skip]
pub(crate) const NON_INTERACTIVE_ERRORS: &[(u32, &str, u32)] = &[
    (50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed.", 20),
    (70043, "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access.", 15),
    (50133, "Session is invalid due to expiration or recent password change.", 10),
    (50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.", 25),
    (700082, "The refresh token has expired due to inactivity.", 10),
    (50078, "Presented multi-factor authentication has expired due to policies configured by your administrator.", 8),
];

/// Failure codes of service principal sign-ins.
#[rustfmt::skip]
pub(crate) const SP_ERRORS: &[(u32, &str, u32)] = &[
    (7000215, "Invalid client secret is provided.", 50),
    (7000222, "The provided client secret keys are expired.", 30),
    (700027, "Client assertion failed signature validation.", 10),
    (7000112, "Application is disabled.", 10),
];

/// Conditional Access policies every tenant has: (displayName, grant controls, applies to admins only).
#[rustfmt::skip]
pub(crate) const CA_POLICIES: &[(&str, &[&str], bool)] = &[
    ("Require MFA for administrators", &["Mfa"], true),
    ("Require compliant or hybrid joined device", &["RequireCompliantDevice", "RequireDomainJoinedDevice"], false),
    ("Block access from unsupported countries", &["Block"], false),
];

/// Authentication methods of second factors: (authMethod, authDetail, authenticationMethodDetail).
#[rustfmt::skip]
pub(crate) const MFA_METHODS: &[(&str, Option<&str>, u32)] = &[
    ("Mobile app notification", None, 55),
    ("Mobile app verification code", None, 15),
    ("Text message", Some("+X XXXXXXXX52"), 10),
    ("Passkey (Microsoft Authenticator)", None, 8),
    ("Windows Hello for Business", None, 12),
];

/// Web destinations of Global Secure Access traffic: (fqdn, web category, traffic type, weight).
#[rustfmt::skip]
pub(crate) const WEB_DESTINATIONS: &[(&str, &str, &str, u32)] = &[
    ("outlook.office365.com", "WebBasedEmail", "microsoft365", 18),
    ("contoso.sharepoint.com", "CloudStorage", "microsoft365", 14),
    ("teams.microsoft.com", "Chat", "microsoft365", 12),
    ("graph.microsoft.com", "ComputersAndTechnology", "microsoft365", 8),
    ("www.github.com", "ComputersAndTechnology", "internet", 8),
    ("www.bing.com", "SearchEnginesAndPortals", "internet", 6),
    ("www.linkedin.com", "SocialNetworking", "internet", 6),
    ("news.ycombinator.com", "News", "internet", 3),
    ("www.youtube.com", "StreamingMediaAndDownloads", "internet", 5),
    ("login.microsoftonline.com", "ComputersAndTechnology", "microsoft365", 8),
    ("hr.corp.internal", "PrivateIP", "private", 5),
    ("fileserver01.corp.internal", "PrivateIP", "private", 4),
    ("free-file-share.example", "PeerToPeer", "internet", 1),
    ("casino-online.example", "Gambling", "internet", 1),
];

/// Well-known Graph API request paths: (method, path template, app-only capable, weight).
#[rustfmt::skip]
pub(crate) const GRAPH_REQUESTS: &[(&str, &str, bool, u32)] = &[
    ("GET", "/me", false, 20),
    ("GET", "/me/messages?$top=25", false, 10),
    ("GET", "/me/photos/48x48/$value", false, 8),
    ("GET", "/users/{user}", true, 10),
    ("GET", "/users?$select=id,displayName,mail&$top=100", true, 8),
    ("GET", "/groups/{group}/members", true, 5),
    ("GET", "/organization", true, 3),
    ("GET", "/directoryRoles", true, 2),
    ("GET", "/auditLogs/signIns?$top=1000", true, 3),
    ("POST", "/me/sendMail", false, 4),
    ("PATCH", "/users/{user}", true, 2),
    ("GET", "/applications", true, 2),
    ("GET", "/sites/root/drives", false, 4),
    ("POST", "/$batch", false, 3),
];

/// Directory roles with their real role template ids: (displayName, roleTemplateId).
#[rustfmt::skip]
pub(crate) const ADMIN_ROLES: &[(&str, &str)] = &[
    ("Global Administrator", "62e90394-69f5-4237-9190-012177145e10"),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    ("Security Administrator", "194ae4cb-b126-40b2-bd5b-6091b380977d"),
    ("Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"),
    ("Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"),
    ("Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de"),
    ("Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"),
];

/// Company names a simulated tenant is called after.
#[rustfmt::skip]
pub(crate) const COMPANIES: &[&str] = &[
    "Contoso", "Fabrikam", "Northwind", "Tailspin", "Woodgrove", "Adatum", "Litware", "Proseware", "Wingtip",
    "Lucerne",
];
