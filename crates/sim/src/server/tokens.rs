//! Opaque bearer tokens issued by the simulated identity platform, mapped to app, audience, real-time expiry
//! and permissions; checked on every Graph request. The token-expiry fault revokes a token after N pages.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::config::AppConfig;
use super::lock;

/// Who a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Audience {
    Graph,
    Arm,
}

#[derive(Debug)]
struct TokenInfo {
    client_id: String,
    audience: Audience,
    expires: Instant,
    permissions: Vec<String>,
    pages: u32,
    revoked: bool,
}

/// A request's authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) token: String,
    pub(crate) client_id: String,
    pub(crate) permissions: Vec<String>,
}

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFail {
    Missing,
    Unknown,
    Expired,
    /// Invalidated by the token-expiry fault.
    Revoked,
    WrongAudience,
}

impl AuthFail {
    /// The Graph error message.
    pub(crate) fn message(self) -> &'static str {
        match self {
            AuthFail::Missing => "Access token is empty.",
            AuthFail::Unknown => "Access token validation failure. Invalid token.",
            AuthFail::Expired | AuthFail::Revoked => {
                "Access token has expired or is not yet valid."
            }
            AuthFail::WrongAudience => "Access token validation failure. Invalid audience.",
        }
    }
}

/// Issued tokens.
#[derive(Debug)]
pub(crate) struct Tokens {
    map: Mutex<HashMap<String, TokenInfo>>,
    rng: Mutex<SmallRng>,
}

impl Tokens {
    pub(crate) fn new(seed: u64) -> Tokens {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Tokens {
            map: Mutex::new(HashMap::new()),
            rng: Mutex::new(SmallRng::seed_from_u64(wall ^ seed.rotate_left(17))),
        }
    }

    pub(crate) fn issue(&self, app: &AppConfig, audience: Audience, lifetime: Duration) -> String {
        let bytes: [u8; 32] = lock(&self.rng).random();
        let token = format!("sim.{}", URL_SAFE_NO_PAD.encode(bytes));
        lock(&self.map).insert(
            token.clone(),
            TokenInfo {
                client_id: app.client_id.clone(),
                audience,
                expires: Instant::now() + lifetime,
                permissions: app.permissions.clone(),
                pages: 0,
                revoked: false,
            },
        );
        token
    }

    /// Checks the `Authorization: Bearer` header for a Graph request.
    pub(crate) fn authenticate(
        &self,
        headers: &HeaderMap,
        now: Instant,
    ) -> Result<Caller, AuthFail> {
        self.authenticate_for(headers, now, Audience::Graph)
    }

    /// Checks the `Authorization: Bearer` header for a request to `audience` (Graph or ARM).
    pub(crate) fn authenticate_for(
        &self,
        headers: &HeaderMap,
        now: Instant,
        audience: Audience,
    ) -> Result<Caller, AuthFail> {
        let value = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or("")
            .trim();
        if token.is_empty() {
            return Err(AuthFail::Missing);
        }
        let map = lock(&self.map);
        let info = map.get(token).ok_or(AuthFail::Unknown)?;
        if info.revoked {
            return Err(AuthFail::Revoked);
        }
        if now >= info.expires {
            return Err(AuthFail::Expired);
        }
        if info.audience != audience {
            return Err(AuthFail::WrongAudience);
        }
        Ok(Caller {
            token: token.to_owned(),
            client_id: info.client_id.clone(),
            permissions: info.permissions.clone(),
        })
    }

    /// Counts a page served to `token`; with the expiry fault on, invalidates it after `limit` pages.
    pub(crate) fn page_served(&self, token: &str, limit: Option<u32>) {
        if let Some(info) = lock(&self.map).get_mut(token) {
            info.pages += 1;
            if limit.is_some_and(|n| info.pages >= n) {
                info.revoked = true;
            }
        }
    }
}
