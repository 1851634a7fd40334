//! Group commit of new token rows. Issuing a token must not answer before its row is durable,
//! and one durable commit (an fsync) per token caps a server at a few thousand tokens a second.
//! So requests hand their rows to a writer task, which takes everything that is waiting (up to
//! [`MAX_BATCH`] rows) and commits it with one transaction ([`TokenStore::insert_user_tokens`]) while
//! the next rows queue up. Each request gets its own row's result only after the commit: a
//! failed commit fails every request of its batch (a storage error, answered 503), never a 200
//! for a token that is not stored.

use std::sync::Arc;

use tessera_core::{Error, NewUserToken, OrgId, Result, TokenStore, UserToken};
use tokio::sync::{mpsc, oneshot};

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
pub struct TokenWriter {
    queue: mpsc::Sender<Pending>,
    /// Tells the writer to take no more rows and to commit those waiting.
    closing: Arc<tokio::sync::Notify>,
    /// The writer task, until [`TokenWriter::close`] waits for it.
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl TokenWriter {
    /// Starts the writer task on the current Tokio runtime.
    ///
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn spawn(store: Arc<dyn TokenStore>) -> Self {
        let (queue, rows) = mpsc::channel(QUEUE_CAPACITY);
        let closing = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(write_batches(store, rows, closing.clone()));
        Self { queue, closing, task: std::sync::Mutex::new(Some(task)) }
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
    /// or when the writer has stopped.
    pub async fn insert(&self, org_id: OrgId, token: NewUserToken) -> Result<UserToken> {
        let (reply, result) = oneshot::channel();
        self.queue.send(Pending { org_id, token, reply }).await.map_err(|_| writer_stopped())?;
        result.await.map_err(|_| writer_stopped())?
    }
}

fn writer_stopped() -> Error {
    Error::Storage("the token writer has stopped".into())
}

/// The writer loop: waits for at least one row, takes every row waiting up to [`MAX_BATCH`],
/// commits them together and answers each. When `closing` is notified, the queue is closed
/// (no new rows) and the loop ends once the rows already queued are committed.
async fn write_batches(
    store: Arc<dyn TokenStore>,
    mut queue: mpsc::Receiver<Pending>,
    closing: Arc<tokio::sync::Notify>,
) {
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
        match store.insert_user_tokens(&rows).await {
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
