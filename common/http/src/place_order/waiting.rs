//! The requests of one process that wait on an Idempotency-Key a request in
//! flight holds: one looks at the key at a time, at most
//! [`MAX_WAITERS_PER_KEY`] wait at once.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use super::MAX_WAITERS_PER_KEY;
use shoplab_common::domain::VisibleAscii;
use shoplab_common::ShopError;

/// The requests of this process waiting on one key: their turn to look,
/// and how many there are. An entry lives while someone waits on it.
pub(super) struct Waiting {
    key: String,
    pub(super) turn: Arc<tokio::sync::Mutex<()>>,
}

/// A key's turn to look, and how many wait for it.
type Queue = (Arc<tokio::sync::Mutex<()>>, usize);

/// Every key some request of this process waits on, with its waiters.
static WAITING: LazyLock<Mutex<HashMap<String, Queue>>> = LazyLock::new(Mutex::default);

fn waiting() -> MutexGuard<'static, HashMap<String, Queue>> {
    // Every change under the lock is whole; a poisoned map is still valid.
    WAITING.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Waiting {
    /// One more waiter on `key`, or 503 past [`MAX_WAITERS_PER_KEY`].
    pub(super) fn join(key: &VisibleAscii) -> Result<Self, ShopError> {
        let mut keys = waiting();
        let (turn, waiters) = keys.entry(key.as_str().to_owned()).or_default();
        if *waiters >= MAX_WAITERS_PER_KEY {
            return Err(ShopError::ServiceUnavailable(format!(
                "{MAX_WAITERS_PER_KEY} requests with this Idempotency-Key are already waiting \
                 for the first one's outcome; nothing was done for this one"
            )));
        }
        *waiters += 1;
        Ok(Self {
            key: key.as_str().to_owned(),
            turn: Arc::clone(turn),
        })
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut keys = waiting();
        if let Some((_, waiters)) = keys.get_mut(&self.key) {
            *waiters -= 1;
            if *waiters == 0 {
                keys.remove(&self.key);
            }
        }
    }
}
