//! The job the workers share: which job is current, its generation, and the nonce chunks
//! handed out so far.

use rbtcd_core::mining::MiningJob;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

/// Nonces per claimed chunk.
pub const CHUNK: u32 = 1 << 16;
/// Chunks in one timestamp's nonce space; after them the next chunk rolls the time forward.
const CHUNKS_PER_TIME: u64 = (1u64 << 32) / CHUNK as u64;

/// A chunk of one job handed to a worker.
#[derive(Debug)]
pub struct Claim {
    /// The generation of the job it belongs to; stale once the generation moves on.
    pub generation: u64,
    /// The job with its time rolled for this chunk.
    pub job: MiningJob,
    /// The nonces to try.
    pub nonces: RangeInclusive<u32>,
}

#[derive(Debug, Default)]
struct Slot {
    generation: u64,
    job: Option<Arc<MiningJob>>,
    next_chunk: u64,
    stopped: bool,
}

/// The current job behind a lock for hand-outs, with its generation mirrored in an atomic so
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
        slot.next_chunk = 0;
        self.generation.store(slot.generation, Ordering::Release);
        self.wake.notify_all();
    }

    /// Replaces the job; `None` leaves the workers idle.
    pub fn set_job(&self, job: Option<MiningJob>) {
        let mut slot = self.lock();
        slot.job = job.map(Arc::new);
        self.advance(&mut slot);
    }

    /// Ends all work: claims return `None` from now on.
    pub fn stop(&self) {
        let mut slot = self.lock();
        slot.stopped = true;
        slot.job = None;
        self.advance(&mut slot);
    }

    /// True while `generation` is the current one (no new job, solution or stop since).
    pub fn is_current(&self, generation: u64) -> bool {
        self.generation.load(Ordering::Acquire) == generation
    }

    /// The next chunk of the current job, waiting while there is none; `None` once stopped.
    pub fn claim(&self) -> Option<Claim> {
        let mut slot = self.lock();
        loop {
            if slot.stopped {
                return None;
            }
            if let Some(job) = slot.job.clone() {
                let chunk = slot.next_chunk;
                slot.next_chunk += 1;
                return Some(claim_of(slot.generation, &job, chunk));
            }
            slot = self.wake.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Reports a solution found in `claim` through `report` if its job is still current, and
    /// retires the job (one block per job: the node sends new work once it has the block).
    /// Runs under the lock, so no report can follow a `set_job` that replaced the job.
    pub fn solved(&self, claim: &Claim, report: impl FnOnce()) -> bool {
        let mut slot = self.lock();
        if slot.generation != claim.generation {
            return false;
        }
        report();
        slot.job = None;
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

/// Chunk `chunk` of `job`: chunks walk the nonce space, then the same space one second later,
/// and so on. One second per 2^32 nonces is slower than the clock at any CPU hash rate, so the
/// time never runs ahead of real time by more than the template's own offset.
fn claim_of(generation: u64, job: &MiningJob, chunk: u64) -> Claim {
    let roll = u32::try_from(chunk / CHUNKS_PER_TIME).unwrap_or(u32::MAX);
    let first = (chunk % CHUNKS_PER_TIME) as u32 * CHUNK;
    let job = if roll == 0 {
        job.clone()
    } else {
        job.with_time(job.header().time.saturating_add(roll))
    };
    Claim {
        generation,
        job,
        nonces: first..=first + (CHUNK - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbtcd_core::params::{Network, Params};

    fn job(id: u64) -> MiningJob {
        MiningJob::new(id, &Params::new(Network::Regtest).genesis.header).unwrap()
    }

    #[test]
    fn chunks_walk_the_nonce_space_then_roll_time() {
        let work = Work::default();
        work.set_job(Some(job(1)));
        let time = job(1).header().time;
        let first = work.claim().unwrap();
        assert_eq!(first.nonces, 0..=CHUNK - 1);
        assert_eq!(first.job, job(1));
        let second = work.claim().unwrap();
        assert_eq!(second.nonces, CHUNK..=2 * CHUNK - 1);
        let last = claim_of(first.generation, &job(1), CHUNKS_PER_TIME - 1);
        assert_eq!(last.nonces, u32::MAX - (CHUNK - 1)..=u32::MAX);
        assert_eq!(last.job.header().time, time);
        let rolled = claim_of(first.generation, &job(1), CHUNKS_PER_TIME + 2);
        assert_eq!(rolled.nonces, 2 * CHUNK..=3 * CHUNK - 1);
        assert_eq!(rolled.job, job(1).with_time(time + 1));
    }

    #[test]
    fn a_new_job_makes_old_claims_stale() {
        let work = Work::default();
        work.set_job(Some(job(1)));
        let old = work.claim().unwrap();
        assert!(work.is_current(old.generation));
        work.set_job(Some(job(2)));
        assert!(!work.is_current(old.generation));
        let mut reported = Vec::new();
        assert!(!work.solved(&old, || reported.push(old.job.id)));
        assert!(
            reported.is_empty(),
            "a solution of the replaced job was reported"
        );
        let new = work.claim().unwrap();
        assert_eq!(new.job.id, 2);
        assert_eq!(new.nonces, 0..=CHUNK - 1, "the new job starts at nonce 0");
        assert!(work.solved(&new, || reported.push(new.job.id)));
        assert_eq!(reported, vec![2]);
        // The solved job is retired: another claim of it is stale too.
        assert!(!work.is_current(new.generation));
    }

    #[test]
    fn stopping_wakes_idle_workers_with_nothing() {
        let work = Arc::new(Work::default());
        let idle = {
            let work = Arc::clone(&work);
            std::thread::spawn(move || work.claim().map(|c| c.job.id))
        };
        work.set_job(None);
        work.stop();
        assert_eq!(idle.join().unwrap(), None);
        assert!(!work.sleep_until(Instant::now() + std::time::Duration::from_secs(3600)));
    }
}
