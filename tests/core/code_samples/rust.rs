//! Bounded queues with explicit backpressure.

use std::collections::VecDeque;
use std::fmt;

pub const DEFAULT_CAPACITY: usize = 64;

/// A fixed-capacity FIFO queue.
///
/// Use it to apply backpressure: `try_push` fails instead of growing.
#[derive(Debug)]
pub struct BoundedQueue<T> {
    items: VecDeque<T>,
    capacity: usize,
}

/// Returned by [`BoundedQueue::try_push`] when the queue is full.
pub struct QueueFull<T>(pub T);

impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueFull(..)")
    }
}

impl<T> BoundedQueue<T> {
    /// Creates a queue holding at most `capacity` items.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "capacity must be positive");
        BoundedQueue {
            items: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Appends `item`, or hands it back when the queue is full.
    pub fn try_push(&mut self, item: T) -> Result<(), QueueFull<T>> {
        if self.items.len() >= self.capacity {
            return Err(QueueFull(item));
        }
        self.items.push_back(item);
        Ok(())
    }

    /// Removes the oldest item.
    pub fn pop(&mut self) -> Option<T> {
        let item = self.items.pop_front();
        if self.items.is_empty() {
            self.items.shrink_to_fit();
        }
        item
    }
}
