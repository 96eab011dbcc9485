//! Bounds on connections to the SFTP server before they log in: how many may be logging in at
//! once (in all, and from one address), and how long each may take.
//!
//! The time limit is enforced on the socket itself ([`LoginDeadline`]) rather than by asking
//! the SSH session to disconnect: a session in the middle of key exchange attends to nothing
//! else, so a client that stalls there would never hear the request. The per-address share
//! keeps one address from holding every slot (and so every source's feed) hostage by opening
//! idle connections as fast as old ones time out; it does not stop many addresses together,
//! which is what `max_connections` and the operating system's limits are for.

use rocket::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use rocket::tokio::time::{sleep, Sleep};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// How many connections may be open, and how long one may take to log in.
pub struct Limits {
    pub max_connections: usize,
    pub max_unauthenticated: usize,
    pub max_unauthenticated_per_address: usize,
    pub auth_timeout: Duration,
}

/// A connection's socket that fails every read and write once the time to log in is up, unless
/// the connection has logged in by then. The SSH session then ends whatever it was doing (a
/// session in the middle of key exchange attends to nothing else, not even a disconnect
/// request), and the socket is closed.
pub struct LoginDeadline<S> {
    inner: S,
    deadline: Pin<Box<Sleep>>,
    logged_in: Arc<AtomicBool>,
}

impl<S> LoginDeadline<S> {
    pub fn new(inner: S, time_to_log_in: Duration, logged_in: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            deadline: Box::pin(sleep(time_to_log_in)),
            logged_in,
        }
    }

    /// Whether the time is up; otherwise arranges to be woken when it is.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        !self.logged_in.load(Ordering::Acquire) && self.deadline.as_mut().poll(cx).is_ready()
    }
}

fn too_late() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "the client did not log in in time",
    )
}

impl<S: AsyncRead + Unpin> AsyncRead for LoginDeadline<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.expired(cx) {
            return Poll::Ready(Err(too_late()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LoginDeadline<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.expired(cx) {
            return Poll::Ready(Err(too_late()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
