//! The sign-ins of the query benchmark (`entrail bench query`, `store`'s `query_bench` example):
//! one fixed tenant (seed 11, 10,000 users, no exact duplicates) whose interactive and
//! non-interactive sign-ins are rendered in the diagnostic-settings shape, one JSON record each.
//! Both benchmarks generate their data here, so they measure the same rows.
use crate::{Generator, Shape, SimEvent, Tenant, TenantConfig, render_owned};

/// The benchmark tenant and how to render its sign-ins; see the module docs.
#[derive(Debug)]
pub struct SigninRows {
    tenant: Tenant,
    cfg: TenantConfig,
}

impl SigninRows {
    /// The benchmark tenant. `republish`: keep the generator's late republications (3% of the
    /// sign-ins come again later with enriched content, as revisions of the same id); without
    /// it every sign-in is delivered once, so every engine reads the same rows.
    pub fn new(republish: bool) -> SigninRows {
        let mut cfg = TenantConfig {
            seed: 11,
            users: 10_000,
            days: 3650,
            ..TenantConfig::default()
        };
        cfg.duplicate_rate = 0.0;
        if !republish {
            cfg.republish_rate = 0.0;
        }
        SigninRows {
            tenant: Tenant::new(&cfg),
            cfg,
        }
    }

    /// The tenant's configuration.
    pub fn config(&self) -> &TenantConfig {
        &self.cfg
    }

    /// The sign-in events, in time order (practically endless: ten years of a 10,000-user
    /// tenant); render each with [`SigninRows::render`].
    pub fn events(&self) -> Generator<'_> {
        Generator::sign_ins_only(&self.tenant, &self.cfg).with_truth(false)
    }

    /// `event` as one diagnostic-settings JSON record (with the configured quirks); `None` for
    /// an event that has no such shape.
    pub fn render(&self, event: SimEvent) -> Option<String> {
        render_owned(event, Shape::Diagnostic, self.cfg.quirks, &self.tenant).map(|v| v.to_string())
    }
}

/// The first `n` sign-ins of a tenant of `users` users over `days` days (seed `seed`, no exact duplicates or
/// republications), each one diagnostic-settings JSON record: small corpora for tests.
pub fn diagnostic_sign_ins(seed: u64, users: u32, days: u32, n: usize) -> Vec<String> {
    let cfg = TenantConfig {
        seed,
        users,
        days,
        duplicate_rate: 0.0,
        republish_rate: 0.0,
        ..TenantConfig::default()
    };
    let tenant = Tenant::new(&cfg);
    Generator::sign_ins_only(&tenant, &cfg)
        .with_truth(false)
        .filter_map(|event| render_owned(event, Shape::Diagnostic, cfg.quirks, &tenant))
        .take(n)
        .map(|v| v.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_sign_ins_of_both_kinds_deterministically() {
        let rows = SigninRows::new(false);
        let first: Vec<String> = rows
            .events()
            .take(400)
            .filter_map(|e| rows.render(e))
            .collect();
        assert_eq!(first.len(), 400, "every sign-in has a diagnostic shape");
        assert!(
            first
                .iter()
                .any(|r| r.contains(r#""category":"SignInLogs""#))
        );
        assert!(
            first
                .iter()
                .any(|r| r.contains(r#""category":"NonInteractiveUserSignInLogs""#))
        );
        let other = SigninRows::new(false);
        let again: Vec<String> = other
            .events()
            .take(400)
            .filter_map(|e| other.render(e))
            .collect();
        assert_eq!(first, again);
        assert_eq!(rows.config().republish_rate, 0.0);
        assert!(SigninRows::new(true).config().republish_rate > 0.0);
    }
}
