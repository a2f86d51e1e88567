//! Email destination: one message per alert over SMTP with STARTTLS required (`lettre`, rustls with ring).
//! The server's certificate is verified against the public web roots plus `tls_ca_file`. Delivered means
//! the server answered `250` to the message.

use super::config::EmailConfig;
use super::format::{email_body, email_subject};
use super::{AlertDestination, block_on, runtime, wanted};
use crate::SinkError;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

/// Sends alerts as email.
pub struct EmailDestination {
    config: EmailConfig,
    target: String,
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for EmailDestination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailDestination")
            .field("id", &self.config.id)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl Drop for EmailDestination {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Whether an SMTP failure is the TLS handshake refusing a certificate (ours or the server's): an operator
/// must act, so it classifies as `Auth`, like [`crate::SinkError::TlsRefused`].
pub(crate) fn tls_refused(e: &lettre::transport::smtp::Error) -> bool {
    if e.is_tls() {
        return true;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<rustls::Error>()
            || err
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn smtp_error(target: &str, source: lettre::transport::smtp::Error) -> SinkError {
    SinkError::Smtp {
        target: target.to_owned(),
        code: source.status().map(u16::from),
        source,
    }
}

impl EmailDestination {
    /// Validates the configuration and builds the SMTP client (reads `tls_ca_file`; connects per message).
    pub fn new(config: EmailConfig) -> Result<EmailDestination, SinkError> {
        config
            .validate()
            .map_err(|e| crate::util::config_failed(&e))?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let target = format!("{}:{}", config.server, config.port);
        let bad = |m: String| SinkError::Config { message: m };
        let mut tls = TlsParameters::builder(config.server.clone());
        if let Some(path) = &config.tls_ca_file {
            let file = std::fs::File::open(path)
                .map_err(|e| bad(format!("tls_ca_file {}: {e}", path.display())))?;
            let pem = model::limits::read_capped(file, 1 << 20)
                .map_err(|e| bad(format!("tls_ca_file {}: {e}", path.display())))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| bad(format!("tls_ca_file {}: {e}", path.display())))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls
            .build_rustls()
            .map_err(|e| bad(format!("tls settings: {e}")))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.server)
            .port(config.port)
            .tls(Tls::Required(tls))
            .timeout(Some(config.timeout));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        let parse = |field: &str, a: &str| {
            a.parse::<Mailbox>()
                .map_err(|e| bad(format!("{field}: {a:?}: {e}")))
        };
        let from = parse("from", &config.from)?;
        let to = config
            .to
            .iter()
            .map(|a| parse("to", a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EmailDestination {
            transport: builder.build(),
            target,
            from,
            to,
            runtime: Some(runtime()?),
            config,
        })
    }

    /// The message for `alert`.
    pub fn message(&self, alert: &serde_json::Value) -> Result<Message, SinkError> {
        let mut b = Message::builder()
            .from(self.from.clone())
            .subject(email_subject(alert))
            .header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            b = b.to(to.clone());
        }
        b.body(email_body(alert)).map_err(|e| SinkError::Config {
            message: format!("building the message: {e}"),
        })
    }
}

impl AlertDestination for EmailDestination {
    fn id(&self) -> &str {
        &self.config.id
    }

    fn wants(&self, alert: &serde_json::Value) -> bool {
        wanted(alert, self.config.min_severity, self.config.updates)
    }

    fn deliver(&mut self, alert: &serde_json::Value) -> Result<(), SinkError> {
        let message = self.message(alert)?;
        let Some(rt) = &self.runtime else {
            return Err(SinkError::Config {
                message: "destination already shut down".into(),
            });
        };
        let transport = &self.transport;
        let target = &self.target;
        let result = block_on(rt, async move {
            transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| smtp_error(target, e))
        });
        if let Err(e) = &result {
            tracing::warn!(component = %self.config.id, error = %e, kind = ?e.kind(),
                "alert email delivery failed; it will be retried");
        }
        result
    }
}
