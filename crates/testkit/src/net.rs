//! Loopback ports: free ones to bind later, and waiting until something listens.

use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, read, closed).
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP port on 127.0.0.1 that was free a moment ago (bound, read, closed).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls until a TCP connection to 127.0.0.1:`port` succeeds; after `timeout`, panics with `what` and
/// the text `context` returns (a log of the process that should listen).
pub fn wait_for_tcp_port(port: u16, timeout: Duration, what: &str, context: impl Fn() -> String) {
    let deadline = Instant::now() + timeout;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port}: {}",
            context()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
