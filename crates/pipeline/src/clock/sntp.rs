//! The SNTP v4 client (RFC 4330): one 48-byte request over UDP, the reply checked (mode, stratum and
//! kiss-o'-death, leap indicator, the originate time echoing our transmit time), then the classic offset
//! `((T2 − T1) + (T3 − T4)) / 2` and round-trip delay `(T4 − T1) − (T3 − T2)`.

use std::net::{ToSocketAddrs, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
const NTP_UNIX_OFFSET: i128 = 2_208_988_800;

/// Why a server could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum SntpError {
    /// Resolving, sending or receiving failed, or no answer came in time.
    #[error("{server}: {message}")]
    Io {
        /// The server.
        server: String,
        /// What failed.
        message: String,
    },
    /// The answer is not a usable SNTP reply.
    #[error("{server}: bad reply: {message}")]
    BadReply {
        /// The server.
        server: String,
        /// Why.
        message: String,
    },
}

/// How a failure should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SntpErrorKind {
    /// Try again at the next check.
    Transient,
    /// The server answers nonsense or refuses (kiss-o'-death, unsynchronised): fix the config.
    Fatal,
}

impl SntpError {
    /// Transient or fatal.
    pub fn kind(&self) -> SntpErrorKind {
        match self {
            SntpError::Io { .. } => SntpErrorKind::Transient,
            SntpError::BadReply { .. } => SntpErrorKind::Fatal,
        }
    }
}

/// One measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Server clock minus host clock, milliseconds (positive: the host is behind).
    pub offset_ms: f64,
    /// Round-trip delay, milliseconds.
    pub delay_ms: f64,
    /// The server's stratum.
    pub stratum: u8,
}

/// Microseconds since the Unix epoch as an NTP timestamp.
fn to_ntp(unix_us: i128) -> [u8; 8] {
    let secs = (unix_us.div_euclid(1_000_000) + NTP_UNIX_OFFSET) as u32;
    let frac = ((unix_us.rem_euclid(1_000_000) << 32) / 1_000_000) as u32;
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&secs.to_be_bytes());
    out[4..].copy_from_slice(&frac.to_be_bytes());
    out
}

/// An NTP timestamp as microseconds since the Unix epoch (era 0; times before 1968 wrap to era 1).
fn from_ntp(b: &[u8]) -> i128 {
    let word = |r: std::ops::Range<usize>| -> u32 {
        let mut w = [0u8; 4];
        if let Some(s) = b.get(r) {
            w.copy_from_slice(s);
        }
        u32::from_be_bytes(w)
    };
    let mut secs = i128::from(word(0..4));
    // RFC 4330 §3: a set top bit is era 0 (1968-2036); clear means era 1 (2036-2104).
    if secs & 0x8000_0000 == 0 {
        secs += 1 << 32;
    }
    let frac = i128::from(word(4..8));
    (secs - NTP_UNIX_OFFSET) * 1_000_000 + ((frac * 1_000_000) >> 32)
}

fn now_us() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i128)
}

/// Measures the host clock against `server` (`host:port`), waiting at most `timeout` for the answer.
pub fn measure(server: &str, timeout: Duration) -> Result<Measurement, SntpError> {
    let io = |message: String| SntpError::Io {
        server: server.to_owned(),
        message,
    };
    let bad = |message: &str| SntpError::BadReply {
        server: server.to_owned(),
        message: message.to_owned(),
    };
    let addr = server
        .to_socket_addrs()
        .map_err(|e| io(format!("resolving: {e}")))?
        .next()
        .ok_or_else(|| io("resolves to no address".into()))?;
    let bind = if addr.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let socket = UdpSocket::bind(bind).map_err(|e| io(format!("binding: {e}")))?;
    socket
        .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
        .map_err(|e| io(e.to_string()))?;
    socket
        .connect(addr)
        .map_err(|e| io(format!("connecting: {e}")))?;
    let mut request = [0u8; 48];
    request[0] = 4 << 3 | 3; // LI 0, VN 4, mode 3 (client)
    let t1 = now_us();
    let sent = to_ntp(t1);
    request[40..48].copy_from_slice(&sent);
    socket
        .send(&request)
        .map_err(|e| io(format!("sending: {e}")))?;
    let deadline = std::time::Instant::now() + timeout;
    let mut reply = [0u8; 68];
    loop {
        let n = socket.recv(&mut reply).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                io(format!("no answer within {} ms", timeout.as_millis()))
            }
            _ => io(format!("receiving: {e}")),
        })?;
        let t4 = now_us();
        // Anything that does not echo our transmit time is not the answer to this request: skip it.
        if n < 48 || reply[24..32] != sent {
            if std::time::Instant::now() >= deadline {
                return Err(io(format!("no answer within {} ms", timeout.as_millis())));
            }
            continue;
        }
        let mode = reply[0] & 7;
        let version = (reply[0] >> 3) & 7;
        let leap = reply[0] >> 6;
        let stratum = reply[1];
        if mode != 4 && mode != 5 {
            return Err(bad(&format!("mode {mode}, expected 4 (server)")));
        }
        if !(1..=4).contains(&version) {
            return Err(bad(&format!("version {version}")));
        }
        if stratum == 0 {
            let code = String::from_utf8_lossy(&reply[12..16]).into_owned();
            return Err(bad(&format!(
                "kiss-o'-death {}",
                code.trim_end_matches('\0')
            )));
        }
        if leap == 3 {
            return Err(bad("server clock not synchronised (leap indicator 3)"));
        }
        if reply[40..48] == [0; 8] {
            return Err(bad("transmit time is zero"));
        }
        let t2 = from_ntp(&reply[32..40]);
        let t3 = from_ntp(&reply[40..48]);
        let offset_us = ((t2 - t1) + (t3 - t4)) as f64 / 2.0;
        let delay_us = ((t4 - t1) - (t3 - t2)).max(0) as f64;
        return Ok(Measurement {
            offset_ms: offset_us / 1000.0,
            delay_ms: delay_us / 1000.0,
            stratum,
        });
    }
}

#[cfg(test)]
pub(super) fn ntp_roundtrip(unix_us: i128) -> i128 {
    from_ntp(&to_ntp(unix_us))
}
