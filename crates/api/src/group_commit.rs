//! Group commit of new token rows. Issuing a token must not answer before its row is durable,
//! and one durable commit (an fsync) per token caps a server at a few thousand tokens a second.
//! So requests hand their rows to a writer task, which takes everything that is waiting (up to
//! [`MAX_BATCH`] rows) and commits it with one transaction ([`TokenStore::insert_user_tokens`]) while
//! the next rows queue up. Each request gets its own row's result only after the commit: a
//! failed commit fails every request of its batch (a storage error, answered 503), never a 200
//! for a token that is not stored.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures_util::FutureExt as _;
use tessera_core::{Error, NewUserToken, OrgId, Result, TokenStore, UserToken};
use tokio::sync::{mpsc, oneshot, Notify};

/// Most rows committed together: 512.
pub const MAX_BATCH: usize = 512;

/// Rows that may wait for the writer before callers wait to enqueue (backpressure): 8192.
pub const QUEUE_CAPACITY: usize = 8192;

/// A row waiting for its commit, with the channel its result goes back on.
struct Pending {
    org_id: OrgId,
    token: NewUserToken,
    reply: oneshot::Sender<Result<UserToken>>,
}

/// The handle requests use to insert token rows through the writer task. Cheap to share; the
/// writer stops when the last handle is dropped, or at [`TokenWriter::close`].
///
/// The writer is supervised: if it panics (a bug), the rows of the batch in hand fail with a
/// storage error (their commit is unknown, so no request gets a 201 for them), the panic is
/// logged, and a new writer takes over the same queue; [`TokenWriter::restarts`] counts these
/// restarts (`/readyz` reports them).
pub struct TokenWriter {
    queue: mpsc::Sender<Pending>,
    restarts: Arc<AtomicU64>,
    /// Tells the writer to take no more rows and to commit those waiting.
    closing: Arc<Notify>,
    /// The supervised writer task, until [`TokenWriter::close`] waits for it.
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TokenWriter {
    /// Starts the writer task on the current Tokio runtime.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn spawn(store: Arc<dyn TokenStore>) -> Self {
        let (queue, rows) = mpsc::channel(QUEUE_CAPACITY);
        let restarts = Arc::new(AtomicU64::new(0));
        let closing = Arc::new(Notify::new());
        let task = tokio::spawn(supervise(store, rows, restarts.clone(), closing.clone()));
        Self { queue, restarts, closing, task: std::sync::Mutex::new(Some(task)) }
    }

    /// Stops taking rows (a later [`TokenWriter::insert`] fails as when the writer has
    /// stopped), commits every row already handed over, answers their requests, and returns once
    /// the writer has finished: what a graceful shutdown waits for before the process exits, so
    /// that no batch is cut mid-commit. A second call returns at once.
    pub async fn close(&self) {
        self.closing.notify_one();
        let task = self.task.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some(task) = task {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "the token writer ended abnormally");
            }
        }
    }

    /// Inserts one token row of `org_id`, durably committed (with whatever other rows were
    /// waiting) when this returns `Ok`.
    ///
    /// # Errors
    /// As [`TokenStore::insert_user_token`]; a storage error for the whole batch when its commit fails
    /// or the writer failed while it held the row, or when the writer has stopped.
    pub async fn insert(&self, org_id: OrgId, token: NewUserToken) -> Result<UserToken> {
        let (reply, result) = oneshot::channel();
        self.queue.send(Pending { org_id, token, reply }).await.map_err(|_| writer_stopped())?;
        result.await.map_err(|_| writer_lost_row())?
    }

    /// How many times the writer panicked and was started again since [`TokenWriter::spawn`].
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// Whether the writer is running (its queue is open). False after [`TokenWriter::close`], or
    /// if its supervisor is gone, which the supervision should never let happen while a handle
    /// exists.
    pub fn is_running(&self) -> bool {
        !self.queue.is_closed()
    }
}

fn writer_stopped() -> Error {
    Error::Storage("the token writer has stopped".into())
}

fn writer_lost_row() -> Error {
    Error::Storage("the token writer failed while it held this row; its commit is unknown".into())
}

/// Runs [`write_batches`] on `queue` until every handle is dropped or `closing` has drained it,
/// starting it again (and counting in `restarts`) whenever it panics. The queue outlives a
/// panic, so rows waiting in it are written by the next writer.
async fn supervise(
    store: Arc<dyn TokenStore>,
    mut queue: mpsc::Receiver<Pending>,
    restarts: Arc<AtomicU64>,
    closing: Arc<Notify>,
) {
    loop {
        // Unwind safety: a panic drops the batch in hand (its callers get an error); the queue is
        // a channel, consistent at every await point; the store is shared state that must hold its
        // invariants across panics anyway.
        match AssertUnwindSafe(write_batches(store.as_ref(), &mut queue, &closing)).catch_unwind().await {
            Ok(()) => return,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let restarts = restarts.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::error!(panic = %message, restarts, "the token writer panicked; starting it again");
            }
        }
    }
}

/// The writer loop: waits for at least one row, takes every row waiting up to [`MAX_BATCH`],
/// commits them together and answers each. When `closing` is notified, the queue is closed
/// (no new rows) and the loop ends once the rows already queued are committed.
async fn write_batches(store: &dyn TokenStore, queue: &mut mpsc::Receiver<Pending>, closing: &Notify) {
    let mut pending = Vec::with_capacity(MAX_BATCH);
    let mut rows = Vec::with_capacity(MAX_BATCH);
    loop {
        let received = tokio::select! {
            biased;
            () = closing.notified() => {
                queue.close();
                continue;
            }
            received = queue.recv_many(&mut pending, MAX_BATCH) => received,
        };
        if received == 0 {
            break;
        }
        rows.extend(pending.iter().map(|p| (p.org_id, p.token.clone())));
        #[allow(clippy::cast_precision_loss)] // At most MAX_BATCH rows.
        metrics::histogram!(crate::metrics::TOKEN_WRITER_BATCH_ROWS).record(rows.len() as f64);
        let started = std::time::Instant::now();
        let committed = store.insert_user_tokens(&rows).await;
        metrics::histogram!(crate::metrics::TOKEN_WRITER_COMMIT_SECONDS).record(started.elapsed().as_secs_f64());
        match committed {
            Ok(results) => {
                for (p, result) in pending.drain(..).zip(results) {
                    // The requester may have gone (client disconnected); its row stays valid.
                    let _ = p.reply.send(result);
                }
            }
            Err(e) => {
                tracing::error!(rows = rows.len(), error = %e, "a batch of token rows failed to commit");
                for p in pending.drain(..) {
                    let _ = p.reply.send(Err(Error::Storage(format!("the token batch failed to commit: {e}").into())));
                }
            }
        }
        rows.clear();
    }
}
