//! The syslog runtime on tokio: one task per UDP socket, one accept task per TCP/TLS listener and one task
//! per connection, all parsing into records and feeding one bounded queue; the caller's task takes batches
//! off the queue and delivers them. Delivery blocks the queue, a full queue blocks stream readers.

use super::config::{Framing, Protocol, SyslogSourceConfig};
use super::framing::{Deframer, Frame};
use super::row::{self, Received};
use super::status::{Counters, SyslogStatus, bump};
use super::{SyslogError, tls};
use crate::Batch;
use crate::graph::Deliver;
use model::{Record, Rejected};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// What connection tasks hand to the delivery loop.
type Item = Result<Record, Rejected>;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A syslog source: validated config, loaded TLS configurations, counters.
pub struct SyslogSource {
    config: SyslogSourceConfig,
    tls: Vec<Option<Arc<rustls::ServerConfig>>>,
    collector: Arc<str>,
    counters: Arc<Counters>,
}

/// Bound sockets, ready to serve.
pub struct Listening {
    sockets: Vec<Bound>,
}

enum Bound {
    Udp(UdpSocket, Arc<str>),
    Stream(TcpListener, Option<TlsAcceptor>, Framing, Arc<str>),
}

impl Listening {
    /// Every listener's protocol and bound address (port 0 in the config shows the port chosen).
    pub fn addrs(&self) -> Vec<(Protocol, SocketAddr)> {
        self.sockets
            .iter()
            .filter_map(|b| match b {
                Bound::Udp(s, _) => Some((Protocol::Udp, s.local_addr().ok()?)),
                Bound::Stream(l, tls, _, _) => {
                    let p = if tls.is_some() {
                        Protocol::Tls
                    } else {
                        Protocol::Tcp
                    };
                    Some((p, l.local_addr().ok()?))
                }
            })
            .collect()
    }
}

/// This machine's host name, for `CollectorHostName`.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .or_else(|| {
            let f = std::fs::File::open("/etc/hostname").ok()?;
            let bytes = model::limits::read_capped(f, 4096).ok()?;
            let h = String::from_utf8_lossy(&bytes).trim().to_owned();
            (!h.is_empty()).then_some(h)
        })
        .unwrap_or_else(|| "localhost".to_owned())
}

impl SyslogSource {
    /// Validates the config and loads the TLS certificates (reads files; opens no socket).
    pub fn new(config: SyslogSourceConfig) -> Result<SyslogSource, SyslogError> {
        config.validate().map_err(SyslogError::Config)?;
        let tls = config
            .listeners
            .iter()
            .map(|l| match l.protocol {
                Protocol::Tls => tls::server_config(l).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let collector = config.collector_host_name.clone().unwrap_or_else(host_name);
        Ok(SyslogSource {
            config,
            tls,
            collector: collector.into(),
            counters: Arc::new(Counters::default()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SyslogSourceConfig {
        &self.config
    }

    /// The counters now.
    pub fn status(&self) -> SyslogStatus {
        self.counters.snapshot(&self.config.id)
    }

    /// Binds every listener.
    pub async fn bind(&self) -> Result<Listening, SyslogError> {
        let mut sockets = Vec::new();
        let mut names = Vec::new();
        for (l, tls) in self.config.listeners.iter().zip(&self.tls) {
            let err = |source| SyslogError::Bind {
                protocol: l.protocol.as_str(),
                address: l.address.clone(),
                source,
            };
            let bound = match l.protocol {
                Protocol::Udp => {
                    let s = UdpSocket::bind(&l.address).await.map_err(err)?;
                    let name = format!("udp {}", s.local_addr().map_err(err)?);
                    Bound::Udp(s, name.into())
                }
                Protocol::Tcp | Protocol::Tls => {
                    let s = TcpListener::bind(&l.address).await.map_err(err)?;
                    let name = format!("{} {}", l.protocol.as_str(), s.local_addr().map_err(err)?);
                    let acceptor = tls.clone().map(TlsAcceptor::from);
                    Bound::Stream(s, acceptor, l.framing, name.into())
                }
            };
            names.push(match &bound {
                Bound::Udp(_, n) | Bound::Stream(_, _, _, n) => n.to_string(),
            });
            sockets.push(bound);
        }
        *self
            .counters
            .listening
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = names;
        Ok(Listening { sockets })
    }

    /// Binds and serves until `shutdown`; see [`SyslogSource::serve`].
    pub async fn run(
        &self,
        deliver: &impl Deliver,
        shutdown: CancellationToken,
    ) -> Result<(), SyslogError> {
        let listening = self.bind().await?;
        self.serve(listening, deliver, shutdown).await
    }

    /// Serves bound listeners until `shutdown`: what was received before it is delivered before this returns.
    pub async fn serve(
        &self,
        listening: Listening,
        deliver: &impl Deliver,
        shutdown: CancellationToken,
    ) -> Result<(), SyslogError> {
        let (tx, rx) = mpsc::channel::<Item>(self.config.queue);
        let ctx = Ctx {
            id: self.config.id.clone().into(),
            collector: self.collector.clone(),
            max: self.config.max_message_bytes,
            counters: self.counters.clone(),
            shutdown: shutdown.clone(),
        };
        for socket in listening.sockets {
            let (ctx, tx) = (ctx.clone(), tx.clone());
            match socket {
                Bound::Udp(s, name) => tokio::spawn(udp(s, name, ctx, tx)),
                Bound::Stream(l, acceptor, framing, name) => {
                    tokio::spawn(accept(l, acceptor, framing, name, ctx, tx))
                }
            };
        }
        drop(tx);
        self.deliver_loop(rx, deliver, &shutdown).await
    }

    /// Takes items off the queue into batches of `batch_size`, or whatever is there `flush_interval` after the
    /// first; delivers each (retrying while not shut down). Ends when every sender is gone.
    async fn deliver_loop(
        &self,
        mut rx: mpsc::Receiver<Item>,
        deliver: &impl Deliver,
        shutdown: &CancellationToken,
    ) -> Result<(), SyslogError> {
        let mut batch = Batch::default();
        let mut deadline = tokio::time::Instant::now();
        let mut lost = None;
        loop {
            let item = if batch.records.is_empty() && batch.rejected.is_empty() {
                let i = rx.recv().await;
                deadline = tokio::time::Instant::now() + self.config.flush_interval();
                i
            } else {
                tokio::select! {
                    i = rx.recv() => i,
                    () = tokio::time::sleep_until(deadline) => {
                        self.flush(&mut batch, deliver, shutdown, &mut lost).await;
                        continue;
                    }
                }
            };
            match item {
                None => break,
                Some(Ok(r)) => batch.records.push(r),
                Some(Err(q)) => batch.rejected.push(q),
            }
            if batch.records.len() + batch.rejected.len() >= self.config.batch_size {
                self.flush(&mut batch, deliver, shutdown, &mut lost).await;
            }
        }
        self.flush(&mut batch, deliver, shutdown, &mut lost).await;
        match lost {
            Some((lost, message)) => Err(SyslogError::Deliver { lost, message }),
            None => Ok(()),
        }
    }

    /// Delivers a batch, retrying with backoff until it is durable or shutdown is requested (then its
    /// messages are counted in `lost`).
    async fn flush(
        &self,
        batch: &mut Batch,
        deliver: &impl Deliver,
        shutdown: &CancellationToken,
        lost: &mut Option<(u64, String)>,
    ) {
        if batch.records.is_empty() && batch.rejected.is_empty() {
            return;
        }
        let b = std::mem::take(batch);
        let n = (b.records.len() + b.rejected.len()) as u64;
        let mut backoff = Duration::from_millis(100);
        loop {
            let attempt = Batch {
                records: b.records.clone(),
                rejected: b.rejected.clone(),
                position: format!("syslog {}: {n} messages", self.config.id),
            };
            match deliver.deliver(attempt).await {
                Ok(a) => {
                    bump(&self.counters.batches);
                    self.counters
                        .accepted
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .add(&a);
                    return;
                }
                Err(e) => {
                    bump(&self.counters.deliver_failures);
                    tracing::error!(source = %self.config.id, error = %e, "syslog batch not durable; retrying");
                    if shutdown.is_cancelled() {
                        let (l, _) = lost.get_or_insert((0, String::new()));
                        *l += n;
                        if let Some((_, m)) = lost.as_mut() {
                            *m = e.to_string();
                        }
                        return;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = shutdown.cancelled() => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}

/// What every listener task needs.
#[derive(Clone)]
struct Ctx {
    id: Arc<str>,
    collector: Arc<str>,
    max: usize,
    counters: Arc<Counters>,
    shutdown: CancellationToken,
}

impl Ctx {
    fn received<'a>(&'a self, listener: &'a str, peer: SocketAddr) -> Received<'a> {
        Received {
            source: &self.id,
            listener,
            peer,
            at: chrono::Utc::now().timestamp_micros(),
            collector: &self.collector,
        }
    }

    /// The record (or quarantine entry) of one frame. `Rejected` is large but rare; it goes on the queue as is.
    #[allow(clippy::result_large_err)]
    fn item(&self, frame: Frame, listener: &str, peer: SocketAddr) -> Item {
        let r = self.received(listener, peer);
        match frame {
            Frame::Message { bytes, truncated } => {
                bump(&self.counters.messages);
                if truncated > 0 {
                    bump(&self.counters.truncated);
                }
                let item = row::record(&bytes, truncated, &r);
                if item.is_err() {
                    bump(&self.counters.quarantined);
                }
                item
            }
            Frame::Invalid { raw, reason } => {
                bump(&self.counters.quarantined);
                Err(r.rejected(raw, reason))
            }
        }
    }
}

async fn udp(socket: UdpSocket, name: Arc<str>, ctx: Ctx, tx: mpsc::Sender<Item>) {
    // A datagram is at most 65507 bytes; the buffer takes any whole.
    let mut buf = vec![0u8; 65_536];
    loop {
        let got = tokio::select! {
            r = socket.recv_from(&mut buf) => r,
            () = ctx.shutdown.cancelled() => return,
        };
        let (n, peer) = match got {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(listener = %name, error = %e, "udp receive");
                continue;
            }
        };
        let mut data = &buf[..n];
        while let [rest @ .., b'\n' | b'\r' | 0] = data {
            data = rest;
        }
        if data.is_empty() {
            continue;
        }
        let keep = data.len().min(ctx.max);
        let frame = Frame::Message {
            bytes: data[..keep].to_vec(),
            truncated: data.len() - keep,
        };
        match tx.try_send(ctx.item(frame, &name, peer)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => bump(&ctx.counters.udp_dropped),
            Err(mpsc::error::TrySendError::Closed(_)) => return,
        }
    }
}

async fn accept(
    listener: TcpListener,
    acceptor: Option<TlsAcceptor>,
    framing: Framing,
    name: Arc<str>,
    ctx: Ctx,
    tx: mpsc::Sender<Item>,
) {
    loop {
        let got = tokio::select! {
            r = listener.accept() => r,
            () = ctx.shutdown.cancelled() => return,
        };
        let (stream, peer) = match got {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(listener = %name, error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        bump(&ctx.counters.connections);
        let (ctx, tx, name, acceptor) = (ctx.clone(), tx.clone(), name.clone(), acceptor.clone());
        tokio::spawn(async move {
            ctx.counters
                .open_connections
                .fetch_add(1, Ordering::Relaxed);
            connection(stream, peer, acceptor, framing, &name, &ctx, &tx).await;
            ctx.counters
                .open_connections
                .fetch_sub(1, Ordering::Relaxed);
        });
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: Option<TlsAcceptor>,
    framing: Framing,
    name: &str,
    ctx: &Ctx,
    tx: &mpsc::Sender<Item>,
) {
    let Some(acceptor) = acceptor else {
        return read_frames(stream, peer, framing, name, ctx, tx).await;
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => read_frames(tls, peer, framing, name, ctx, tx).await,
        Ok(Err(e)) => {
            bump(&ctx.counters.tls_failures);
            tracing::warn!(listener = %name, %peer, error = %e, "tls handshake failed");
        }
        Err(_) => {
            bump(&ctx.counters.tls_failures);
            tracing::warn!(listener = %name, %peer, "tls handshake timed out");
        }
    }
}

/// Reads one stream to its end (or shutdown, or a bad octet count), sending every frame. Sending waits for
/// room in the queue: that is the backpressure on the sender.
async fn read_frames<S: AsyncRead + Unpin>(
    mut stream: S,
    peer: SocketAddr,
    framing: Framing,
    name: &str,
    ctx: &Ctx,
    tx: &mpsc::Sender<Item>,
) {
    let mut deframer = Deframer::new(framing, ctx.max);
    let mut buf = vec![0u8; 64 * 1024];
    let mut frames = Vec::new();
    loop {
        let got = tokio::select! {
            r = stream.read(&mut buf) => r,
            () = ctx.shutdown.cancelled() => break,
        };
        match got {
            Ok(0) => break,
            Ok(n) => deframer.push(&buf[..n], &mut frames),
            Err(e) => {
                tracing::warn!(listener = %name, %peer, error = %e, "read");
                break;
            }
        }
        for f in frames.drain(..) {
            if tx.send(ctx.item(f, name, peer)).await.is_err() {
                return;
            }
        }
        if deframer.is_broken() {
            tracing::warn!(listener = %name, %peer, "invalid framing; closing the connection");
            return;
        }
    }
    deframer.finish(&mut frames);
    for f in frames {
        if tx.send(ctx.item(f, name, peer)).await.is_err() {
            return;
        }
    }
}
