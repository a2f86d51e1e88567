//! Test support: a real Azurite blob emulator (npm `azurite@3.35.0`, installed by `scripts/install-test-deps`)
//! started on a free loopback port with its own temporary workspace, and killed (workspace removed) on drop.
//!
//! ```no_run
//! let azurite = sim::azurite::Azurite::start().expect("azurite");
//! let endpoint = azurite.blob_endpoint(); // http://127.0.0.1:<port>/devstoreaccount1
//! let conn = azurite.connection_string();
//! ```
//!
//! The binary is `$ENTRAIL_AZURITE_BIN`, else `$ENTRAIL_AZURITE_DIR/node_modules/.bin/azurite-blob` (default dir
//! `/var/tmp/entrail-azurite`), else `azurite-blob` on `PATH`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The emulator's well-known account.
pub const ACCOUNT: &str = "devstoreaccount1";
/// The emulator's well-known account key (public, documented by Microsoft).
pub const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const DEFAULT_DIR: &str = "/var/tmp/entrail-azurite";

/// Azurite could not be started.
#[derive(Debug, thiserror::Error)]
pub enum AzuriteError {
    /// No `azurite-blob` binary was found.
    #[error(
        "azurite-blob not found (looked at $ENTRAIL_AZURITE_BIN, {0} and PATH): run scripts/install-test-deps"
    )]
    Missing(String),
    /// Starting or waiting for the process failed.
    #[error("starting azurite-blob: {0}")]
    Start(String),
}

/// A running Azurite blob service; killed and its workspace deleted on drop.
#[derive(Debug)]
pub struct Azurite {
    child: Child,
    port: u16,
    workspace: PathBuf,
}

fn binary() -> Result<PathBuf, AzuriteError> {
    if let Some(p) = std::env::var_os("ENTRAIL_AZURITE_BIN") {
        return Ok(PathBuf::from(p));
    }
    let dir = std::env::var("ENTRAIL_AZURITE_DIR").unwrap_or_else(|_| DEFAULT_DIR.to_owned());
    let local = Path::new(&dir).join("node_modules/.bin/azurite-blob");
    if local.exists() {
        return Ok(local);
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("azurite-blob"))
        .find(|p| p.exists());
    on_path.ok_or_else(|| AzuriteError::Missing(local.display().to_string()))
}

fn free_port() -> Result<u16, AzuriteError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| AzuriteError::Start(format!("finding a free port: {e}")))
}

impl Azurite {
    /// Starts Azurite on a free loopback port and waits (up to 60 s) until it accepts connections.
    pub fn start() -> Result<Azurite, AzuriteError> {
        let bin = binary()?;
        let mut last = String::new();
        // A port found free may be taken before Azurite binds it: try a few.
        for _ in 0..3 {
            let port = free_port()?;
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let workspace = std::env::temp_dir().join(format!(
                "entrail-azurite-{}-{port}-{nanos}",
                std::process::id()
            ));
            std::fs::create_dir_all(&workspace)
                .map_err(|e| AzuriteError::Start(format!("{}: {e}", workspace.display())))?;
            let child = Command::new(&bin)
                .args(["--blobHost", "127.0.0.1", "--blobPort"])
                .arg(port.to_string())
                .arg("--location")
                .arg(&workspace)
                .args([
                    "--skipApiVersionCheck",
                    "--loose",
                    "--silent",
                    "--disableTelemetry",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| AzuriteError::Start(format!("{}: {e}", bin.display())))?;
            let mut azurite = Azurite {
                child,
                port,
                workspace,
            };
            match azurite.wait_listening(Duration::from_secs(60)) {
                Ok(()) => return Ok(azurite),
                Err(e) => last = e,
            }
        }
        Err(AzuriteError::Start(last))
    }

    fn wait_listening(&mut self, limit: Duration) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let start = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = (&mut e).take(4096).read_to_string(&mut err);
                }
                return Err(format!("azurite-blob exited with {status}: {}", err.trim()));
            }
            if start.elapsed() > limit {
                return Err(format!(
                    "azurite-blob not listening on {addr} after {limit:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The emulator's process id (benchmarks read its CPU time from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The blob endpoint with the account path: `http://127.0.0.1:<port>/devstoreaccount1`.
    pub fn blob_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }

    /// A connection string for the emulator account.
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};BlobEndpoint={};",
            self.blob_endpoint()
        )
    }

    /// A client for this emulator (SharedKey with the well-known key).
    pub fn client(&self) -> crate::blob::BlobClient {
        crate::blob::BlobClient::new(&self.blob_endpoint(), ACCOUNT, ACCOUNT_KEY)
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.workspace);
    }
}
