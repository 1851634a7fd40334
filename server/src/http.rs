//! The accept loop of `tessera serve`: HTTP/1.1 connections served by hyper, with the limits
//! `axum::serve` has no knobs for (issue 14, finding 5): a cap on open connections, a deadline
//! for each request's head, an idle keep-alive timeout, and a shutdown that takes no new
//! connection but finishes the ones it has.
//!
//! Why the timeouts are not hyper's own `http1::Builder::header_read_timeout`: hyper starts that
//! timer as soon as a connection goes idle (`proto/h1/conn.rs`: the next head read starts right
//! after an answer), so it bounds the idle keep-alive wait too and the two cannot differ. Here a
//! per-connection [`Clock`] knows the phase (reading a head, handling a request, idle) from the
//! bytes read and from the service's calls, and [`TimedStream`] fails the connection's read when
//! the phase's deadline passes, as Go's `ReadHeaderTimeout` / `IdleTimeout` do. hyper then closes
//! the connection (no answer: a client that has not sent a head has asked nothing).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// The connection limits of [`serve`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client has to send a request's whole head: from the accept for a connection's
    /// first request, from the first byte for the next ones.
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection waits for the next request's first byte after an answer,
    /// and how long writing an answer may make no progress.
    pub idle_timeout: Duration,
    /// Most connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
}

/// Back-off after an accept error that is not about one connection (`EMFILE`, `ENFILE`,
/// `ENOBUFS`, …): 1 s, as `axum::serve` and hyper 0.14's server did.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `signal` resolves, then stops accepting (see
/// [`stop_accepting`]) and returns the open connections: [`Connections::shutdown`] tells them
/// to finish and waits for them. Each request carries
/// the peer's [`ConnectInfo<SocketAddr>`] in its extensions, as with axum's
/// `into_make_service_with_connect_info`.
///
/// While `max_connections` connections are open, no further one is accepted: new clients wait
/// in the kernel's listen backlog until a connection closes (and, past the backlog, their
/// connection attempts are dropped and retried by their TCP stack). Accept errors never stop
/// the loop: one that concerns a single connection is skipped, any other (`EMFILE`: out of file
/// descriptors) is logged and retried after [`ACCEPT_ERROR_BACKOFF`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    signal: impl Future<Output = ()>,
) -> Connections {
    let mut builder = hyper::server::conn::http1::Builder::new();
    // The head deadline is the `Clock`'s (see the module's documentation), not hyper's.
    builder.header_read_timeout(None);
    let server = Server { app, builder, limits, shutdown: tokio::sync::watch::channel(()).0 };
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(signal);
    loop {
        let next = async {
            let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
            (permit, listener.accept().await)
        };
        let (permit, accepted) = tokio::select! {
            biased;
            () = &mut signal => break,
            next = next => next,
        };
        match accepted {
            Ok((stream, peer)) => server.spawn(stream, peer, Some(permit)),
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                tracing::error!(error = %e, "cannot accept connections; retrying in 1 s");
                drop(permit);
                tokio::select! {
                    biased;
                    () = &mut signal => break,
                    () = tokio::time::sleep(ACCEPT_ERROR_BACKOFF) => {}
                }
            }
        }
    }
    stop_accepting(listener, |stream, peer| server.spawn(stream, peer, None));
    Connections(server.shutdown)
}

/// The connections of a stopped [`serve`].
pub struct Connections(tokio::sync::watch::Sender<()>);

impl Connections {
    /// How many are open.
    pub fn count(&self) -> usize {
        self.0.receiver_count()
    }

    /// Tells every connection to finish (see [`serve_connection`]) and waits until all are closed.
    pub async fn shutdown(self) {
        let _ = self.0.send(());
        self.0.closed().await;
    }
}

/// An error of one connection that was gone before it was accepted (as `axum::serve` skips).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Stops taking connections without cutting any a client already made: on Linux, a socket
/// filter that drops every packet is attached to the listener first, so the kernel completes no
/// new handshake (a client's SYN is dropped; its retry, a second later, finds the port closed:
/// connection refused); then every connection already in the listen backlog is accepted and
/// handed to `serve` (past the connection cap: these are few, at most the backlog), and the
/// listener is closed. Without the filter (other systems, or if attaching fails) a client whose
/// handshake completes between the last accept and the close is reset.
fn stop_accepting(listener: TcpListener, mut serve: impl FnMut(TcpStream, SocketAddr)) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // Classic BPF `ret #0`: keep 0 bytes of every packet, that is, drop it.
        const DROP_ALL: [socket2::SockFilter; 1] = [socket2::SockFilter::new(0x06, 0, 0, 0)];
        if let Err(e) = socket2::SockRef::from(&listener).attach_filter(&DROP_ALL) {
            tracing::warn!(error = %e, "cannot filter the listener; a connection made while it closes may be reset");
        }
    }
    // Plain non-blocking `accept` calls until the backlog is empty: Tokio's `accept` would answer
    // from its readiness state, which may not have seen the latest connection yet.
    let listener = match listener.into_std() {
        Ok(listener) => listener,
        Err(e) => {
            tracing::warn!(error = %e, "cannot take the connections waiting in the listen backlog");
            return;
        }
    };
    let mut waiting = 0;
    loop {
        match listener.accept() {
            Ok((stream, peer)) => match stream.set_nonblocking(true).and_then(|()| TcpStream::from_std(stream)) {
                Ok(stream) => {
                    waiting += 1;
                    serve(stream, peer);
                }
                Err(e) => tracing::warn!(error = %e, "could not serve a connection waiting at shutdown"),
            },
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if is_connection_error(&e) || e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not accept a connection waiting at shutdown");
                break;
            }
        }
    }
    if waiting > 0 {
        tracing::info!(connections = waiting, "serving the connections that were waiting in the listen backlog");
    }
}

/// What every connection task shares.
struct Server {
    app: Router,
    builder: hyper::server::conn::http1::Builder,
    limits: Limits,
    /// Sends once, at shutdown; each connection task holds a receiver.
    shutdown: tokio::sync::watch::Sender<()>,
}

impl Server {
    /// Serves one connection on its own task; `permit` (its slot under the cap) is released when
    /// the connection closes.
    fn spawn(&self, stream: TcpStream, peer: SocketAddr, permit: Option<OwnedSemaphorePermit>) {
        let clock = Arc::new(Clock::new(self.limits));
        let clock_of_connection = clock.clone();
        let io = TokioIo::new(TimedStream::new(stream, clock.clone()));
        let app = self.app.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            clock.request_started();
            let answered = Answered(clock.clone());
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(peer));
            let response = app.clone().oneshot(request);
            async move {
                let response = response.await?;
                // The answer is over once hyper drops its body (sent or abandoned): `answered`
                // lives in the body, so the idle timer starts then.
                Ok::<_, std::convert::Infallible>(
                    response.map(move |inner| AnsweredBody { inner, _answered: answered }),
                )
            }
        });
        let connection = self.builder.serve_connection(io, service);
        let (shutdown, clock) = (self.shutdown.subscribe(), clock_of_connection);
        tokio::spawn(async move {
            if let Err(e) = serve_connection(connection, &clock, shutdown).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
}

/// Drives `connection` until it closes. Once `shutdown` fires it is told to finish (hyper's
/// `graceful_shutdown`: an idle connection closes at once, one with a request in flight answers
/// it with `Connection: close`), but not while it is reading a request's head: hyper would close
/// a connection that has not yet read its first bytes, cutting a request the client has already
/// sent. Such a connection is told once its head is in, or ends at the header-read deadline.
async fn serve_connection<S>(
    connection: hyper::server::conn::http1::Connection<TokioIo<TimedStream>, S>,
    clock: &Clock,
    mut shutdown: tokio::sync::watch::Receiver<()>,
) -> hyper::Result<()>
where
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return result,
        _ = shutdown.changed() => {}
    }
    while let Phase::Head(_) = clock.get() {
        tokio::select! {
            result = connection.as_mut() => return result,
            () = clock.head_read.notified() => {}
        }
    }
    connection.as_mut().graceful_shutdown();
    connection.await
}

/// Where a connection is, for its deadlines.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Reading a request's head, due by the deadline.
    Head(Instant),
    /// A request is being handled or answered (bounded by the request timeout layer).
    Busy,
    /// Waiting for the next request's first byte, until the deadline.
    Idle(Instant),
}

/// A connection's phase, moved on by its reads ([`TimedStream`]) and its requests
/// ([`Server::spawn`]). Touched only from the connection's own task; the mutexes are uncontended.
struct Clock {
    phase: Mutex<Phase>,
    /// The waker of the last read that found no bytes: woken when the connection goes idle, so
    /// that the read is polled again and arms the idle deadline (hyper does not read again by
    /// itself when an answer ends).
    reader: Mutex<Option<std::task::Waker>>,
    /// Notified when a request's head is in (for [`serve_connection`] at shutdown).
    head_read: tokio::sync::Notify,
    limits: Limits,
}

impl Clock {
    /// A new connection: its first head is due `header_read_timeout` from now.
    fn new(limits: Limits) -> Self {
        let phase = Mutex::new(Phase::Head(Instant::now() + limits.header_read_timeout));
        Self { phase, reader: Mutex::new(None), head_read: tokio::sync::Notify::new(), limits }
    }

    fn set(&self, phase: Phase) {
        *self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = phase;
    }

    fn get(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bytes arrived: on an idle connection they start the next head, due
    /// `header_read_timeout` from now.
    fn bytes_read(&self) {
        if let Phase::Idle(_) = self.get() {
            self.set(Phase::Head(Instant::now() + self.limits.header_read_timeout));
        }
    }

    /// hyper has read a whole head and calls the service.
    fn request_started(&self) {
        self.set(Phase::Busy);
        self.head_read.notify_one();
    }

    /// The answer is over; the connection waits for the next request.
    fn answered(&self) {
        self.set(Phase::Idle(Instant::now() + self.limits.idle_timeout));
        if let Some(reader) = self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() {
            reader.wake();
        }
    }

    /// Remembers the waker of a read that is waiting for bytes.
    fn read_waiting(&self, waker: &std::task::Waker) {
        let mut reader = self.reader.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !reader.as_ref().is_some_and(|r| r.will_wake(waker)) {
            *reader = Some(waker.clone());
        }
    }

    /// When the current phase's read must have made progress, if it must.
    fn read_deadline(&self) -> Option<Instant> {
        match self.get() {
            Phase::Head(deadline) | Phase::Idle(deadline) => Some(deadline),
            Phase::Busy => None,
        }
    }
}

/// Marks the answer over when dropped (see [`Server::spawn`]).
struct Answered(Arc<Clock>);

impl Drop for Answered {
    fn drop(&mut self) {
        self.0.answered();
    }
}

/// An answer's body that marks the answer over ([`Answered`]) when hyper drops it, sent or
/// abandoned. A plain wrapper: boxing the body again would cost an allocation per answer.
struct AnsweredBody {
    inner: Body,
    _answered: Answered,
}

impl hyper::body::Body for AnsweredBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A TCP stream whose reads fail with `TimedOut` when its [`Clock`]'s deadline passes with no
/// bytes, and whose writes fail when they make no progress for the idle timeout.
struct TimedStream {
    stream: TcpStream,
    clock: Arc<Clock>,
    read_timer: Pin<Box<Sleep>>,
    read_armed: Option<Instant>,
    write_timer: Pin<Box<Sleep>>,
    write_armed: bool,
}

impl TimedStream {
    fn new(stream: TcpStream, clock: Arc<Clock>) -> Self {
        let now = Instant::now();
        Self {
            stream,
            clock,
            read_timer: Box::pin(tokio::time::sleep_until(now)),
            read_armed: None,
            write_timer: Box::pin(tokio::time::sleep_until(now)),
            write_armed: false,
        }
    }

    /// `Pending`, or a `TimedOut` error once the write timer (armed on the first write that could
    /// not proceed, cleared by any progress) has run for the idle timeout.
    fn write_stalled<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if !self.write_armed {
            self.write_armed = true;
            self.write_timer.as_mut().reset(Instant::now() + self.clock.limits.idle_timeout);
        }
        match self.write_timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for TimedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.clock.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                this.clock.read_waiting(cx.waker());
                let Some(deadline) = this.clock.read_deadline() else {
                    return Poll::Pending;
                };
                if this.read_armed != Some(deadline) {
                    this.read_armed = Some(deadline);
                    this.read_timer.as_mut().reset(deadline);
                }
                match this.read_timer.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        let what = if let Phase::Idle(_) = this.clock.get() { "idle" } else { "a request head" };
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("timed out waiting for {what}"),
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Pending => this.write_stalled(cx),
            ready => {
                this.write_armed = false;
                ready
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.write_stalled(cx),
            ready => {
                this.write_armed = false;
                ready
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
