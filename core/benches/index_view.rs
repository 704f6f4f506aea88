//! What the block index's read view costs: the index's heap with and without a view kept
//! (and one held), and per block connected while a view is held, the time to index the block
//! and publish a new view and the bytes that allocates. Counted by this binary's allocator, for
//! a synthetic header chain (the index never checks proof of work).
//!
//! `cargo bench -p rbtcd-core --bench index_view` (200,000 headers; `cargo test` runs 5,000).

use rbtcd_core::chain::index::BlockIndex;
use rbtcd_core::chain::{IndexEntry, Status};
use rbtcd_core::primitives::hash::Hash256;
use rbtcd_core::primitives::{BlockHash, BlockHeader};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The system allocator, counting the bytes live and the bytes ever allocated.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// A global allocator can only be written with `unsafe`; this one forwards to `System`.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `GlobalAlloc::alloc` is passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Headers indexed under `cargo bench`; `cargo test` (no `--bench`) runs a short pass.
const HEADERS_BENCH: u32 = 200_000;
const HEADERS_SMOKE: u32 = 5_000;
/// Blocks connected after the chain is indexed, each followed by a published view.
const PUBLISHED_BLOCKS: u32 = 20_000;

/// A header entry on `parent`, unique by `height`.
fn entry_on(parent: &IndexEntry, height: u32) -> IndexEntry {
    let header = BlockHeader {
        version: 4,
        prev_blockhash: parent.hash,
        merkle_root: Hash256([7; 32]),
        time: 1_600_000_000 + height * 600,
        bits: 0x207f_ffff,
        nonce: height,
    };
    IndexEntry::header_only(
        header.block_hash(),
        header,
        height,
        parent.chain_work + header.work(),
        Status::HEADER_VALID,
    )
}

/// `entry` with its block stored and connected.
fn connected(entry: &IndexEntry) -> IndexEntry {
    IndexEntry {
        status: entry.status.with(Status::DATA_STORED).with(Status::VALID),
        ..*entry
    }
}

fn genesis() -> IndexEntry {
    let header = BlockHeader {
        version: 1,
        prev_blockhash: BlockHash::default(),
        merkle_root: Hash256([1; 32]),
        time: 1_600_000_000,
        bits: 0x207f_ffff,
        nonce: 0,
    };
    connected(&IndexEntry::header_only(
        header.block_hash(),
        header,
        0,
        header.work(),
        Status::HEADER_VALID,
    ))
}

/// An index of `chain` (genesis first), every block connected; a view kept from the start
/// when `view`.
fn build(chain: &[IndexEntry], view: bool) -> BlockIndex {
    let mut index = BlockIndex::new(chain[0]);
    if view {
        index.keep_view();
    }
    for e in &chain[1..] {
        index.insert(connected(e));
        index.push_main(e.hash);
    }
    index
}

/// Connects `blocks` more blocks on `index`'s tip as a node does (header, then block, then the
/// tip moves), taking a view after each when `publish`; the time and the bytes allocated per
/// block.
fn connect_more(index: &mut BlockIndex, blocks: u32, publish: bool) -> (f64, f64) {
    let mut held = index.view();
    let mut tip = *index.tip();
    let allocated = ALLOCATED.load(Ordering::Relaxed);
    let t = Instant::now();
    for _ in 0..blocks {
        let e = entry_on(&tip, tip.height + 1);
        index.insert(e);
        tip = connected(&e);
        index.insert(tip);
        index.push_main(tip.hash);
        if publish {
            held = black_box(index.view());
        }
    }
    let secs = t.elapsed().as_secs_f64();
    drop(held);
    let bytes = ALLOCATED.load(Ordering::Relaxed) - allocated;
    (
        secs * 1e6 / f64::from(blocks),
        bytes as f64 / f64::from(blocks),
    )
}

fn main() {
    let n = if std::env::args().any(|a| a == "--bench") {
        HEADERS_BENCH
    } else {
        HEADERS_SMOKE
    };
    let mut chain = vec![genesis()];
    for h in 1..=n {
        let e = entry_on(chain.last().expect("genesis"), h);
        chain.push(e);
    }
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);

    let base = LIVE.load(Ordering::Relaxed);
    let plain = build(&chain, false);
    let without = LIVE.load(Ordering::Relaxed) - base;
    drop(plain);
    println!(
        "bench: index_memory_without_view_{n}_headers: {:.1} MiB",
        mib(without)
    );

    let base = LIVE.load(Ordering::Relaxed);
    let mut kept = build(&chain, true);
    let view = kept.view().expect("a view is kept");
    let with = LIVE.load(Ordering::Relaxed) - base;
    println!(
        "bench: index_memory_with_view_held_{n}_headers: {:.1} MiB",
        mib(with)
    );
    println!(
        "bench: index_view_memory_overhead_{n}_headers: {:.1} MiB",
        mib(with.saturating_sub(without))
    );
    assert_eq!(view.len(), chain.len());
    drop(view);

    let (us, bytes) = connect_more(&mut kept, PUBLISHED_BLOCKS, true);
    println!("bench: index_block_with_view_published: {us:.2} us/block");
    println!(
        "bench: index_bytes_allocated_per_published_block: {:.1} KiB",
        bytes / 1024.0
    );
    drop(kept);

    let mut plain = build(&chain, false);
    let (us, bytes) = connect_more(&mut plain, PUBLISHED_BLOCKS, false);
    println!("bench: index_block_without_view: {us:.2} us/block");
    println!(
        "bench: index_bytes_allocated_per_block_without_view: {:.1} KiB",
        bytes / 1024.0
    );
}
