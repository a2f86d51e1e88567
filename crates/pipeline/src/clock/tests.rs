//! SNTP against a skewed server on loopback, and `[clock]` validation.

use super::*;
use std::time::Duration;

fn config(servers: Vec<String>) -> ClockConfig {
    ClockConfig {
        servers,
        timeout: Duration::from_millis(1000),
        ..ClockConfig::default()
    }
}

#[test]
fn ntp_timestamps_round_trip_within_a_microsecond() {
    for us in [0i128, 1_700_000_000_123_456, 2_085_978_496_000_001] {
        assert!((sntp::ntp_roundtrip(us) - us).abs() <= 1, "{us}");
    }
}

#[test]
fn measures_a_server_running_ahead() {
    let server = sim::sntp::SntpServer::start(2_500).unwrap();
    let m = measure(&server.addr().to_string(), Duration::from_secs(1)).unwrap();
    assert!(
        (m.offset_ms - 2_500.0).abs() < 50.0,
        "offset {}",
        m.offset_ms
    );
    assert!(
        m.delay_ms >= 0.0 && m.delay_ms < 50.0,
        "delay {}",
        m.delay_ms
    );
    assert_eq!(m.stratum, 2);
    assert_eq!(server.answered(), 1);
}

#[test]
fn measures_a_server_running_behind_and_flags_the_skew() {
    let server = sim::sntp::SntpServer::start(-4_000).unwrap();
    let s = check(&config(vec![server.addr().to_string()]));
    let offset = s.offset_ms.unwrap();
    assert!((offset + 4_000.0).abs() < 50.0, "offset {offset}");
    assert!(!s.ok, "4 s is beyond the default 1 s");
    assert_eq!(
        s.server.as_deref(),
        Some(server.addr().to_string().as_str())
    );
}

#[test]
fn an_accurate_server_is_within_bounds_and_a_silent_one_is_reported() {
    let good = sim::sntp::SntpServer::start(0).unwrap();
    // A bound UDP socket that never answers.
    let mute = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut c = config(vec![
        mute.local_addr().unwrap().to_string(),
        good.addr().to_string(),
    ]);
    c.timeout = Duration::from_millis(200);
    let s = check(&c);
    assert!(s.ok, "{s:?}");
    assert!(s.offset_ms.unwrap().abs() < 50.0);
    let silent = &s.servers[0];
    assert!(silent.offset_ms.is_none());
    assert!(
        silent.error.as_deref().unwrap().contains("no answer"),
        "{silent:?}"
    );
    let e = measure(
        &mute.local_addr().unwrap().to_string(),
        Duration::from_millis(100),
    )
    .unwrap_err();
    assert_eq!(e.kind(), SntpErrorKind::Transient);
}

#[test]
fn no_answer_at_all_is_not_ok() {
    let mute = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut c = config(vec![mute.local_addr().unwrap().to_string()]);
    c.timeout = Duration::from_millis(100);
    let s = check(&c);
    assert!(!s.ok);
    assert_eq!(s.offset_ms, None);
}

#[test]
fn kiss_of_death_is_a_fatal_bad_reply() {
    // A server answering stratum 0 "RATE".
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        let (_, peer) = socket.recv_from(&mut buf).unwrap();
        let mut reply = [0u8; 48];
        reply[0] = 4 << 3 | 4;
        reply[12..16].copy_from_slice(b"RATE");
        reply[24..32].copy_from_slice(&buf[40..48]);
        reply[40..48].copy_from_slice(&buf[40..48]);
        socket.send_to(&reply, peer).unwrap();
    });
    let e = measure(&addr.to_string(), Duration::from_secs(1)).unwrap_err();
    t.join().unwrap();
    assert_eq!(e.kind(), SntpErrorKind::Fatal);
    assert!(e.to_string().contains("kiss-o'-death RATE"), "{e}");
}

#[test]
fn config_validation_names_every_problem() {
    let raw = RawClockConfig {
        servers: vec![
            "127.0.0.1:123".into(),
            "time.example.com".into(),
            "[::1]:1234".into(),
            "::1".into(),
            "bad host:1".into(),
            "host:0".into(),
        ],
        max_offset_ms: Some(0),
        interval: Some("1s".into()),
        timeout_ms: Some(5),
    };
    let mut errors = Vec::new();
    let c = raw.validate(&mut errors);
    assert_eq!(
        c.servers,
        [
            "127.0.0.1:123",
            "time.example.com:123",
            "[::1]:1234",
            "[::1]:123"
        ]
    );
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "clock.servers[4]",
            "clock.servers[5]",
            "clock.max_offset_ms",
            "clock.interval",
            "clock.timeout_ms"
        ]
    );
    let mut errors = Vec::new();
    let d = RawClockConfig::default().validate(&mut errors);
    assert!(errors.is_empty());
    assert_eq!(d, ClockConfig::default());
}
