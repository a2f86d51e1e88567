//! The `entrail` binary as the tests of the `entrail` crate run it: a command whose environment holds none of
//! entrail's own variables, run in a directory, on a data directory or with a config, and the checks of its
//! output.
//!
//! The binary's path is known only to the integration tests of the crate that builds it
//! (`CARGO_BIN_EXE_entrail`), so a test file names it once with the [`entrail!`](crate::entrail) macro:
//!
//! ```text
//! use testkit::cli::{Entrail, ok};
//! const ENTRAIL: Entrail = testkit::entrail!();
//! let out = ok(&ENTRAIL.run_in(dir.path(), &["status", "--json"]));
//! ```

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// One Graph `directoryAudit` record (AuditLogs), the smallest input `entrail import` archives.
pub const AUDIT: &str = r#"{"id":"Directory_A","activityDateTime":"2024-05-01T10:00:00Z","activityDisplayName":"Add user","loggedByService":"Core Directory","category":"UserManagement","result":"success","initiatedBy":{"user":{"userPrincipalName":"admin@contoso.com"}},"targetResources":[]}"#;

/// The [`Entrail`] of the calling crate's `entrail` binary (only in the integration tests of `entrail`).
#[macro_export]
macro_rules! entrail {
    () => {
        $crate::cli::Entrail::new(env!("CARGO_BIN_EXE_entrail"))
    };
}

/// The `entrail` binary at a path.
#[derive(Clone, Copy, Debug)]
pub struct Entrail {
    bin: &'static str,
}

impl Entrail {
    /// The binary at `bin` (use [`entrail!`](crate::entrail)).
    pub const fn new(bin: &'static str) -> Self {
        Self { bin }
    }

    /// A command for the binary without `ENTRAIL_CONFIG` and `ENTRAIL_DATA_DIR` from the test's
    /// environment, so only what the test passes decides the config and the data directory.
    pub fn command(&self) -> Command {
        let mut c = Command::new(self.bin);
        c.env_remove("ENTRAIL_CONFIG")
            .env_remove("ENTRAIL_DATA_DIR");
        c
    }

    /// Runs `args` in `dir` (where the default `entrail.toml` and relative paths are found).
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        self.command().current_dir(dir).args(args).output().unwrap()
    }

    /// Runs `--data-dir data args`.
    pub fn run_data(&self, data: &Path, args: &[&str]) -> Output {
        self.command()
            .arg("--data-dir")
            .arg(data)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `--data-dir data --config config args`.
    pub fn run_data_config(&self, data: &Path, config: &Path, args: &[&str]) -> Output {
        self.command()
            .arg("--data-dir")
            .arg(data)
            .arg("--config")
            .arg(config)
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `--config config args` with `stdin` as its standard input.
    pub fn run_config_stdin(&self, config: &Path, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command()
            .arg("--config")
            .arg(config)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

/// Standard output, lossily decoded.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error, lossily decoded.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Exit code, standard output and standard error, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts the command succeeded (the message shows its exit code and output) and returns its standard
/// output, which must be UTF-8.
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", describe(o));
    String::from_utf8(o.stdout.clone()).unwrap()
}
