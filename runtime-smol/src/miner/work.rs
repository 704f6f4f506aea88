//! The work the workers share: which work is current, its generation, and the nonce chunks
//! handed out so far.

use rbtcd_core::mining::{MinerWork, MiningJob};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Nonces per claimed chunk.
pub const CHUNK: u32 = 1 << 16;
/// Chunks in one job's nonce space; after them the next chunk rolls the extra nonce.
const CHUNKS_PER_SPACE: u64 = (1u64 << 32) / CHUNK as u64;

/// A chunk of one job handed to a worker.
#[derive(Debug)]
pub struct Claim {
    /// The generation of the work it belongs to; stale once the generation moves on.
    pub generation: u64,
    /// The coinbase extra nonce of its job.
    pub extra_nonce: u64,
    /// The job.
    pub job: Arc<MiningJob>,
    /// The nonces to try.
    pub nonces: RangeInclusive<u32>,
}

/// The current work and the job being searched: its extra nonce and the next chunk of it.
#[derive(Debug)]
struct Current {
    work: MinerWork,
    extra_nonce: u64,
    job: Arc<MiningJob>,
    next_chunk: u64,
}

impl Current {
    fn new(mut work: MinerWork) -> Current {
        let (extra_nonce, job) = work.next_job();
        Current {
            work,
            extra_nonce,
            job: Arc::new(job),
            next_chunk: 0,
        }
    }

    /// The next chunk, rolling the extra nonce once the job's nonce space is used up.
    fn next_claim(&mut self, generation: u64) -> Claim {
        if self.next_chunk == CHUNKS_PER_SPACE {
            let (extra_nonce, job) = self.work.next_job();
            self.extra_nonce = extra_nonce;
            self.job = Arc::new(job);
            self.next_chunk = 0;
        }
        let first = self.next_chunk as u32 * CHUNK;
        self.next_chunk += 1;
        Claim {
            generation,
            extra_nonce: self.extra_nonce,
            job: Arc::clone(&self.job),
            nonces: first..=first + (CHUNK - 1),
        }
    }
}

#[derive(Debug, Default)]
struct Slot {
    generation: u64,
    current: Option<Current>,
    stopped: bool,
}

/// The current work behind a lock for hand-outs, with its generation mirrored in an atomic so
/// workers can check between slices of a chunk without locking.
#[derive(Debug, Default)]
pub struct Work {
    generation: AtomicU64,
    slot: Mutex<Slot>,
    wake: Condvar,
}

impl Work {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A worker that panicked holding the lock left the slot consistent (every update is a
        // few assignments), so keep going.
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves to a new generation: in-flight chunks become stale.
    fn advance(&self, slot: &mut Slot) {
        slot.generation += 1;
        self.generation.store(slot.generation, Ordering::Release);
        self.wake.notify_all();
    }

    /// Replaces the work; `None` leaves the workers idle.
    pub fn set_work(&self, work: Option<MinerWork>) {
        let mut slot = self.lock();
        slot.current = work.map(Current::new);
        self.advance(&mut slot);
    }

    /// Ends all work: claims return `None` from now on.
    pub fn stop(&self) {
        let mut slot = self.lock();
        slot.stopped = true;
        slot.current = None;
        self.advance(&mut slot);
    }

    /// True while `generation` is the current one (no new work, solution or stop since).
    pub fn is_current(&self, generation: u64) -> bool {
        self.generation.load(Ordering::Acquire) == generation
    }

    /// The next chunk of the current work for worker number `worker`, waiting while there is
    /// none or the work wants fewer threads; `None` once stopped.
    pub fn claim(&self, worker: usize) -> Option<Claim> {
        let mut slot = self.lock();
        loop {
            if slot.stopped {
                return None;
            }
            let generation = slot.generation;
            if let Some(current) = slot
                .current
                .as_mut()
                .filter(|c| worker < c.work.threads as usize)
            {
                return Some(current.next_claim(generation));
            }
            slot = self.wake.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Reports a solution found in `claim` through `report` if its work is still current, and
    /// retires the work (one block per work: the node sends new work once it has the block).
    /// Runs under the lock, so no report can follow a `set_work` that replaced the work.
    pub fn solved(&self, claim: &Claim, report: impl FnOnce()) -> bool {
        let mut slot = self.lock();
        if slot.generation != claim.generation {
            return false;
        }
        report();
        slot.current = None;
        self.advance(&mut slot);
        true
    }

    /// Waits until `deadline` or until stopped; false when stopped.
    pub fn sleep_until(&self, deadline: Instant) -> bool {
        let mut slot = self.lock();
        loop {
            if slot.stopped {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            slot = self
                .wake
                .wait_timeout(slot, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbtcd_core::address::{Address, Payload};
    use rbtcd_core::chain::{Chain, MemStore};
    use rbtcd_core::mining::new_block_template;
    use rbtcd_core::params::{Network, Params};

    fn work(id: u64, threads: u32) -> MinerWork {
        let params = Params::new(Network::Regtest);
        let chain = Chain::open(params.clone(), MemStore::new()).unwrap();
        let pay_to = Address::new(Payload::PubKeyHash([1; 20]), &params);
        let template = new_block_template(&chain, &[], &pay_to, 3_000_000, 1_700_000_000);
        template.miner_work(id, threads, 0).unwrap()
    }

    #[test]
    fn chunks_walk_the_nonce_space_then_roll_the_extra_nonce() {
        let mut current = Current::new(work(1, 1));
        let first = current.next_claim(5);
        assert_eq!((first.generation, first.extra_nonce), (5, 0));
        assert_eq!(first.nonces, 0..=CHUNK - 1);
        let second = current.next_claim(5);
        assert_eq!(second.nonces, CHUNK..=2 * CHUNK - 1);
        current.next_chunk = CHUNKS_PER_SPACE - 1;
        let last = current.next_claim(5);
        assert_eq!(last.nonces, u32::MAX - (CHUNK - 1)..=u32::MAX);
        assert_eq!(last.extra_nonce, 0);
        let rolled = current.next_claim(5);
        assert_eq!(rolled.nonces, 0..=CHUNK - 1);
        assert_eq!(rolled.extra_nonce, 1);
        assert_ne!(
            rolled.job.header().merkle_root,
            first.job.header().merkle_root
        );
        assert_eq!(rolled.job.header().time, first.job.header().time);
    }

    #[test]
    fn new_work_makes_old_claims_stale() {
        let w = Work::default();
        w.set_work(Some(work(1, 1)));
        let old = w.claim(0).unwrap();
        assert!(w.is_current(old.generation));
        w.set_work(Some(work(2, 1)));
        assert!(!w.is_current(old.generation));
        let mut reported = Vec::new();
        assert!(!w.solved(&old, || reported.push(old.job.id)));
        assert!(
            reported.is_empty(),
            "a solution of replaced work was reported"
        );
        let new = w.claim(0).unwrap();
        assert_eq!(new.job.id, 2);
        assert_eq!(new.nonces, 0..=CHUNK - 1, "new work starts at nonce 0");
        assert!(w.solved(&new, || reported.push(new.job.id)));
        assert_eq!(reported, vec![2]);
        // The solved work is retired: another claim of it is stale too.
        assert!(!w.is_current(new.generation));
    }

    #[test]
    fn workers_beyond_the_thread_count_wait_and_stopping_wakes_them() {
        let w = Arc::new(Work::default());
        w.set_work(Some(work(1, 1)));
        assert!(w.claim(0).is_some());
        let idle = {
            let w = Arc::clone(&w);
            std::thread::spawn(move || w.claim(1).map(|c| c.job.id))
        };
        w.set_work(None);
        w.stop();
        assert_eq!(idle.join().unwrap(), None);
        assert!(!w.sleep_until(Instant::now() + std::time::Duration::from_secs(3600)));
    }
}
