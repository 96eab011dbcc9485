//! Connections: accept, check the sender, then read frames and answer each in turn.
//!
//! Every connection is a task of its own, so a slow or silent sender holds up nobody else; one
//! silent for `[mllp] idle_timeout_seconds` (between messages or halfway through one) is
//! closed. A framing error closes only its own connection. Connections are counted in all and
//! per address (`crate::slots`).

use super::ack::{self, Header, Verdict};
use super::frame::{framed, Deframer};
use super::route::{self, Listener};
use super::writer::Job;
use crate::clock::Clock;
use crate::slots::{Slot, Slots};
use crate::store::Store;
use rocket::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use rocket::tokio::net::{TcpListener, TcpStream};
use rocket::tokio::sync::{mpsc, oneshot};
use rocket::tokio::time::timeout;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Longest control id kept in a feed file's name.
const MAX_NAME_ID_CHARS: usize = 64;

/// A connection's byte stream: plain TCP, or TLS over it.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Stream for T {}

/// What every connection shares.
pub struct Shared {
    /// Set when the MLLP ports speak TLS (`[mllp] tls_cert`; see `tls`).
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    pub max_message_bytes: usize,
    pub idle: Duration,
    pub slots: Arc<Slots>,
    pub writer: mpsc::Sender<Job>,
    pub database: PathBuf,
    pub clock: Arc<dyn Clock>,
}

/// Whose messages a port carries.
#[derive(Clone)]
pub enum Port {
    /// A source's own port.
    Own(Arc<Listener>),
    /// The shared port: each message names its source.
    Shared,
}

/// Accepts connections on `listener` until the process ends.
pub async fn serve(listener: TcpListener, port: Port, shared: Arc<Shared>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                log::warn!("MLLP accept failed: {e}");
                rocket::tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = shared.slots.take(peer.ip()) else {
            log::warn!("MLLP connection from {peer} refused: too many connections");
            continue;
        };
        rocket::tokio::spawn(connection(
            stream,
            peer,
            port.clone(),
            Arc::clone(&shared),
            slot,
        ));
    }
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    port: Port,
    shared: Arc<Shared>,
    _slot: Slot,
) {
    let _ = stream.set_nodelay(true);
    let (stream, cert): (Box<dyn Stream>, Option<String>) = match &shared.tls {
        None => (Box::new(stream), None),
        Some(acceptor) => match timeout(shared.idle, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => {
                let cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .map(super::tls::fingerprint);
                (Box::new(tls), cert)
            }
            Ok(Err(e)) => {
                log::warn!("MLLP connection from {peer} closed: TLS handshake failed: {e}");
                return;
            }
            Err(_) => {
                log::warn!("MLLP connection from {peer} closed: no TLS handshake in time");
                return;
            }
        },
    };
    let sources = match &port {
        Port::Own(listener) => {
            if !listener.allow.allows(peer.ip(), cert.as_deref()) {
                log::warn!(
                    "MLLP connection from {peer} closed: not an allowed sender for {} \
                     (`sharedcare source edit {} --mllp-allow ADDR`)",
                    listener.source.code,
                    listener.source.code
                );
                return;
            }
            vec![Listener::clone(listener)]
        }
        Port::Shared => match registered(shared.database.clone()).await {
            Ok(sources)
                if sources
                    .iter()
                    .any(|l| l.allow.allows(peer.ip(), cert.as_deref())) =>
            {
                sources
            }
            Ok(_) => {
                log::warn!(
                    "MLLP connection from {peer} closed: not an allowed sender for any source"
                );
                return;
            }
            Err(why) => {
                log::error!("MLLP connection from {peer} closed: {why}");
                return;
            }
        },
    };
    let mut conn = Connection {
        stream,
        peer,
        cert,
        port,
        sources,
        shared,
    };
    let why = conn.run().await;
    log::info!("MLLP connection from {peer} closed: {why}");
}

/// Every source's MLLP settings, read afresh, so a source registered while the server runs is
/// routed to on the shared port.
async fn registered(database: PathBuf) -> Result<Vec<Listener>, String> {
    let stored = rocket::tokio::task::spawn_blocking(move || {
        Store::open(&database).and_then(|s| s.mllp_sources())
    })
    .await
    .map_err(|e| format!("reading the sources failed: {e}"))?
    .map_err(|e| e.operator_summary())?;
    // A source whose stored list no longer reads is not heard at all: never a wider door.
    Ok(stored
        .iter()
        .filter_map(|s| match Listener::from_stored(s) {
            Ok(l) => Some(l),
            Err(why) => {
                log::error!("{why}");
                None
            }
        })
        .collect())
}

struct Connection {
    stream: Box<dyn Stream>,
    peer: SocketAddr,
    /// The fingerprint of the sender's TLS client certificate, when it presented one.
    cert: Option<String>,
    port: Port,
    sources: Vec<Listener>,
    shared: Arc<Shared>,
}

impl Connection {
    /// Reads and answers frames until the connection ends; returns why it ended.
    async fn run(&mut self) -> String {
        let mut deframer = Deframer::new(self.shared.max_message_bytes);
        let mut frames: VecDeque<Vec<u8>> = VecDeque::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            while let Some(frame) = frames.pop_front() {
                if let Err(e) = self.answer(&frame).await {
                    return e;
                }
            }
            let read = match timeout(self.shared.idle, self.stream.read(&mut buf)).await {
                Err(_) if deframer.mid_frame() => {
                    return "silent halfway through a message; that message was not applied".into()
                }
                Err(_) => return "idle".into(),
                Ok(Err(e)) => return format!("read failed: {e}"),
                Ok(Ok(0)) if deframer.mid_frame() => {
                    return "closed halfway through a message; that message was not applied".into()
                }
                Ok(Ok(0)) => return "closed by the sender".into(),
                Ok(Ok(n)) => n,
            };
            let (complete, error) = deframer.feed(buf.get(..read).unwrap_or_default());
            frames.extend(complete);
            if let Some(error) = error {
                // Whole frames that came before the break are still answered.
                while let Some(frame) = frames.pop_front() {
                    if let Err(e) = self.answer(&frame).await {
                        return e;
                    }
                }
                return format!("framing error: {error}");
            }
        }
    }

    /// Stores one message and sends its acknowledgements.
    async fn answer(&mut self, frame: &[u8]) -> Result<(), String> {
        let now = self.shared.clock.now().format("%Y%m%d%H%M%S").to_string();
        let acks = match Header::read(frame) {
            None => vec![ack::unreadable(
                "the message does not start with an MSH segment declaring its delimiters: it is \
                 not HL7 v2",
                &now,
            )],
            Some(header) => {
                let verdict = self.verdict(&header, frame).await;
                header.acknowledgements(&verdict, &now)
            }
        };
        for ack in acks {
            let sent = timeout(self.shared.idle, self.stream.write_all(&framed(&ack))).await;
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(format!("write failed: {e}")),
                Err(_) => return Err("the sender did not read its acknowledgement".into()),
            }
        }
        Ok(())
    }

    async fn verdict(&self, header: &Header, frame: &[u8]) -> Verdict {
        let listener = match &self.port {
            Port::Own(listener) => listener.as_ref(),
            Port::Shared => match route::route(
                &self.sources,
                &header.sending_application(),
                &header.sending_facility(),
            ) {
                Ok(listener) => listener,
                Err(why) => return Verdict::Refused(why),
            },
        };
        if !listener.allow.allows(self.peer.ip(), self.cert.as_deref()) {
            return Verdict::Refused(format!(
                "this sender's address (or certificate) is not allowed to send for source {}",
                listener.source.code
            ));
        }
        let id: String = header
            .control_id
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_NAME_ID_CHARS)
            .collect();
        let name = match id.is_empty() {
            true => "MLLP message".to_owned(),
            false => format!("MLLP {id}"),
        };
        let (verdict, reply) = oneshot::channel();
        let job = Job {
            source: listener.source.clone(),
            name,
            bytes: frame.to_vec(),
            verdict,
        };
        let stopping = || Verdict::Refused("the server is stopping; send the message again".into());
        if self.shared.writer.send(job).await.is_err() {
            return stopping();
        }
        reply.await.unwrap_or_else(|_| stopping())
    }
}
