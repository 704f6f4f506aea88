//! The event calendar of a run: everything scheduled (frame arrivals, connection openings,
//! failed dials, controller steps) in time order, ties broken by scheduling order so a run is
//! a pure function of its seed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Events of type `E` by simulated millisecond.
pub struct Calendar<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
}

struct Entry<E> {
    at: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    // Reversed: the heap's greatest entry is the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl<E> Default for Calendar<E> {
    fn default() -> Self {
        Calendar {
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }
}

impl<E> Calendar<E> {
    /// Schedules `event` at `at`, after everything already scheduled for that instant.
    pub fn push(&mut self, at: u64, event: E) {
        self.seq += 1;
        self.heap.push(Entry {
            at,
            seq: self.seq,
            event,
        });
    }

    /// When the earliest event is due.
    pub fn next_at(&self) -> Option<u64> {
        self.heap.peek().map(|e| e.at)
    }

    /// Takes the earliest event.
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.heap.pop().map(|e| (e.at, e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::Calendar;

    #[test]
    fn events_come_out_by_time_then_by_scheduling_order() {
        let mut c = Calendar::default();
        c.push(5, "b");
        c.push(3, "a");
        c.push(5, "c");
        c.push(1, "first");
        let order: Vec<_> = std::iter::from_fn(|| c.pop()).collect();
        assert_eq!(order, [(1, "first"), (3, "a"), (5, "b"), (5, "c")]);
    }
}
