//! A tiny SNTP v4 server (RFC 4330) on loopback whose clock is deliberately off by a chosen skew, so a test
//! can check that a client measures that offset. It answers every mode-3 request with a mode-4 reply
//! (stratum 2, the request's transmit time as originate time, receive and transmit times from its skewed
//! clock) until dropped.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
pub const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// A running skewed SNTP server.
#[derive(Debug)]
pub struct SntpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// An NTP 64-bit timestamp of a time `skew_ms` away from the system clock.
fn ntp_now(skew_ms: i64) -> [u8; 8] {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let micros = now.as_micros() as i128 + i128::from(skew_ms) * 1000;
    let secs = micros.div_euclid(1_000_000) as u64 + NTP_UNIX_OFFSET;
    let frac = ((micros.rem_euclid(1_000_000) as u64) << 32) / 1_000_000;
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(secs as u32).to_be_bytes());
    out[4..].copy_from_slice(&(frac as u32).to_be_bytes());
    out
}

impl SntpServer {
    /// Listens on a free loopback UDP port; its clock runs `skew_ms` ahead of the system's (negative:
    /// behind).
    pub fn start(skew_ms: i64) -> std::io::Result<SntpServer> {
        let socket = UdpSocket::bind("127.0.0.1:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(50)))?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicU64::new(0));
        let (s, a) = (stop.clone(), answered.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            while !s.load(Ordering::Relaxed) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if n < 48 || buf[0] & 7 != 3 {
                    continue;
                }
                let received = ntp_now(skew_ms);
                let mut reply = [0u8; 48];
                reply[0] = (4 << 3) | 4; // LI 0, VN 4, mode 4 (server)
                reply[1] = 2; // stratum 2
                reply[2] = buf[2]; // poll
                reply[3] = 0xEC; // precision 2^-20
                reply[12..16].copy_from_slice(b"SIM\0"); // reference id
                reply[16..24].copy_from_slice(&received); // reference time
                reply[24..32].copy_from_slice(&buf[40..48]); // originate = client's transmit
                reply[32..40].copy_from_slice(&received);
                reply[40..48].copy_from_slice(&ntp_now(skew_ms));
                // Counted before sending, so a client that got its answer sees the count.
                a.fetch_add(1, Ordering::Relaxed);
                let _ = socket.send_to(&reply, peer);
            }
        });
        Ok(SntpServer {
            addr,
            stop,
            answered,
            thread: Some(thread),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Requests answered so far (a reply is counted as it is sent).
    pub fn answered(&self) -> u64 {
        self.answered.load(Ordering::Relaxed)
    }
}

impl Drop for SntpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
