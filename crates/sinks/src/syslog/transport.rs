//! Sockets: UDP (one datagram per message), TCP and TLS (octet counting or newline framing). Blocking
//! `std::net` sockets with timeouts and rustls's blocking `StreamOwned`: `send` is synchronous, a syslog
//! batch is one write and a flush, and there is nothing to multiplex, so no async runtime is needed.
//!
//! A stream is checked before each batch (a peer that closed shows as EOF on a non-blocking peek) and
//! dropped on any error; the next batch reconnects. A failure on a reused connection is retried once on a
//! fresh one inside the same call (a receiver restart costs no extra pipeline retry). Syslog has no
//! application acknowledgement: `Ok` means every byte was written and flushed into the socket.

use super::config::{SyslogFraming, SyslogTransport};
use super::tls;
use crate::SinkError;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use rustls_pki_types::ServerName;
use std::io::{self, BufWriter, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// How long a new TLS connection listens for a post-handshake refusal.
const POST_HANDSHAKE_WAIT: Duration = Duration::from_millis(200);

enum Conn {
    Udp(UdpSocket),
    Tcp(BufWriter<TcpStream>),
    Tls(Box<BufWriter<TlsStream>>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Udp(_) => "Udp",
            Conn::Tcp(_) => "Tcp",
            Conn::Tls(_) => "Tls",
        })
    }
}

/// A (re)connecting syslog client.
#[derive(Debug)]
pub(crate) struct Transport {
    kind: SyslogTransport,
    framing: SyslogFraming,
    address: String,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    connect_timeout: Duration,
    write_timeout: Duration,
    conn: Option<Conn>,
}

impl Transport {
    /// Prepares the client (reads the TLS PEM files); connects on the first send.
    pub(crate) fn new(config: &super::SyslogConfig) -> Result<Transport, SinkError> {
        let tls = if config.transport == SyslogTransport::Tls {
            let host = super::config::split_host_port(&config.address)
                .map(|(h, _)| h.to_owned())
                .unwrap_or_default();
            let name = config.tls.server_name.clone().unwrap_or(host);
            let name = ServerName::try_from(name.clone()).map_err(|e| SinkError::Config {
                message: format!("tls.server_name {name:?}: {e}"),
            })?;
            Some((tls::client_config(&config.tls)?, name))
        } else {
            None
        };
        Ok(Transport {
            kind: config.transport,
            framing: config.framing,
            address: config.address.clone(),
            tls,
            connect_timeout: config.connect_timeout,
            write_timeout: config.write_timeout,
            conn: None,
        })
    }

    fn io(&self, source: io::Error) -> SinkError {
        SinkError::Io {
            target: self.address.clone(),
            source,
        }
    }

    /// A connect failure: TLS certificate refusals (either side) are [`SinkError::TlsRefused`].
    fn connect_error(&self, source: io::Error) -> SinkError {
        use rustls::AlertDescription as A;
        let refused = source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .is_some_and(|e| {
                matches!(
                    e,
                    rustls::Error::InvalidCertificate(_)
                        | rustls::Error::NoCertificatesPresented
                        | rustls::Error::AlertReceived(
                            A::BadCertificate
                                | A::CertificateRequired
                                | A::CertificateUnknown
                                | A::CertificateRevoked
                                | A::CertificateExpired
                                | A::UnsupportedCertificate
                                | A::UnknownCA
                                | A::AccessDenied
                        )
                )
            });
        if refused {
            SinkError::TlsRefused {
                target: self.address.clone(),
                source,
            }
        } else {
            self.io(source)
        }
    }

    fn resolve(&self) -> io::Result<Vec<SocketAddr>> {
        let addrs: Vec<_> = self.address.to_socket_addrs()?.collect();
        if addrs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "address resolves to nothing",
            ));
        }
        Ok(addrs)
    }

    fn connect(&self) -> io::Result<Conn> {
        let addrs = self.resolve()?;
        if self.kind == SyslogTransport::Udp {
            let addr = addrs[0];
            let local: SocketAddr = if addr.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                ([0u16; 8], 0).into()
            };
            let sock = UdpSocket::bind(local)?;
            sock.connect(addr)?;
            sock.set_write_timeout(Some(self.write_timeout))?;
            return Ok(Conn::Udp(sock));
        }
        let mut last = None;
        let mut stream = None;
        for addr in &addrs {
            match TcpStream::connect_timeout(addr, self.connect_timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let mut stream = stream.ok_or_else(|| {
            last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address"))
        })?;
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(self.write_timeout))?;
        let Some((config, name)) = &self.tls else {
            return Ok(Conn::Tcp(BufWriter::with_capacity(64 * 1024, stream)));
        };
        let mut conn =
            ClientConnection::new(config.clone(), name.clone()).map_err(io::Error::other)?;
        // Finish the handshake now, so a certificate problem shows at connect time.
        stream.set_read_timeout(Some(self.connect_timeout))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut stream)?;
        }
        // In TLS 1.3 the client finishes first: a receiver that refuses our client certificate says so
        // only afterwards. Listen briefly for that alert (or a close), so a refused connection is an error
        // here instead of a batch written into a socket nobody reads.
        stream.set_read_timeout(Some(POST_HANDSHAKE_WAIT.min(self.connect_timeout)))?;
        loop {
            match conn.read_tls(&mut stream) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "receiver closed the TLS connection after the handshake (client certificate refused?)",
                    ));
                }
                Ok(_) => {
                    conn.process_new_packets().map_err(io::Error::other)?;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        stream.set_read_timeout(None)?;
        Ok(Conn::Tls(Box::new(BufWriter::with_capacity(
            64 * 1024,
            StreamOwned::new(conn, stream),
        ))))
    }

    /// Whether a kept stream still looks open: the peer has not closed it (EOF, or a TLS close_notify /
    /// alert waiting to be read). Checked with non-blocking reads, so it never waits.
    fn alive(conn: &mut Conn) -> bool {
        let sock = match conn {
            Conn::Udp(_) => return true,
            Conn::Tcp(w) => w.get_ref(),
            Conn::Tls(w) => &w.get_ref().sock,
        };
        if sock.set_nonblocking(true).is_err() {
            return false;
        }
        let open = match conn {
            Conn::Udp(_) => true,
            Conn::Tcp(w) => {
                let mut b = [0u8; 1];
                match w.get_ref().peek(&mut b) {
                    Ok(0) => false,
                    Ok(_) => true,
                    Err(e) => e.kind() == io::ErrorKind::WouldBlock,
                }
            }
            Conn::Tls(w) => {
                let s = w.get_mut();
                loop {
                    match s.conn.read_tls(&mut s.sock) {
                        Ok(0) => break false,
                        Ok(_) => match s.conn.process_new_packets() {
                            Ok(state) if state.peer_has_closed() => break false,
                            Ok(_) => {}
                            Err(_) => break false,
                        },
                        Err(e) => break e.kind() == io::ErrorKind::WouldBlock,
                    }
                }
            }
        };
        let sock = match conn {
            Conn::Udp(_) => return open,
            Conn::Tcp(w) => w.get_ref(),
            Conn::Tls(w) => &w.get_ref().sock,
        };
        sock.set_nonblocking(false).is_ok() && open
    }

    fn write_batch(&self, conn: &mut Conn, messages: &[String]) -> io::Result<()> {
        match conn {
            Conn::Udp(sock) => {
                for m in messages {
                    sock.send(m.as_bytes())?;
                }
                Ok(())
            }
            Conn::Tcp(w) => frame_all(w, self.framing, messages),
            Conn::Tls(w) => frame_all(w.as_mut(), self.framing, messages),
        }
    }

    /// Writes every message and flushes; reconnects as needed (see the module docs).
    pub(crate) fn send(&mut self, messages: &[String]) -> Result<(), SinkError> {
        let reused = match self.conn.take() {
            Some(mut c) => {
                let alive = Self::alive(&mut c);
                if alive {
                    self.conn = Some(c);
                } else {
                    discard(c);
                }
                alive
            }
            None => false,
        };
        for attempt in 0..2 {
            let mut conn = match self.conn.take() {
                Some(c) => c,
                None => self.connect().map_err(|e| self.connect_error(e))?,
            };
            match self.write_batch(&mut conn, messages) {
                Ok(()) => {
                    self.conn = Some(conn);
                    return Ok(());
                }
                Err(e) if attempt == 0 && reused => {
                    discard(conn);
                    tracing::debug!(address = %self.address, error = %e, "syslog connection lost, reconnecting");
                }
                Err(e) => {
                    discard(conn);
                    return Err(self.io(e));
                }
            }
        }
        Err(self.io(io::Error::other("unreachable")))
    }
}

/// Drops a broken connection without flushing what its buffer still holds (that could block).
fn discard(conn: Conn) {
    match conn {
        Conn::Udp(_) => {}
        Conn::Tcp(w) => drop(w.into_parts()),
        Conn::Tls(w) => drop(w.into_parts()),
    }
}

fn frame_all(w: &mut impl Write, framing: SyslogFraming, messages: &[String]) -> io::Result<()> {
    for m in messages {
        match framing {
            SyslogFraming::OctetCounting => {
                write!(w, "{} ", m.len())?;
                w.write_all(m.as_bytes())?;
            }
            SyslogFraming::Newline => {
                w.write_all(m.as_bytes())?;
                w.write_all(b"\n")?;
            }
        }
    }
    w.flush()
}
