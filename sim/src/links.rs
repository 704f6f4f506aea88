//! Per-link latency and bandwidth, drawn from distributions: most links are regional and
//! fast, some cross a continent, a few are intercontinental or slow (a home connection, a
//! congested route). Each pair of nodes gets its link from the run's seed and the pair alone,
//! so a link keeps its shape across reconnections and restarts.

use rbtcd_core::rng::Rng;

/// Bandwidth of a link into an adversary that reads slowly, bytes per second.
pub const SLOW_READER_BYTES_PER_SEC: u64 = 200;

/// The shape of the link between two nodes (the same both ways).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// One-way latency, ms.
    pub latency_ms: u64,
    /// How fast bytes leave the sender, bytes per second.
    pub bytes_per_sec: u64,
}

/// The distributions a run's links are drawn from.
#[derive(Clone, Debug)]
pub struct LinkMix {
    /// One-way latency range of ordinary (regional) links, ms.
    pub regional_ms: (u64, u64),
    /// Share of links that are intercontinental (100-300 ms one way).
    pub far: f64,
    /// Share of links that are slow (16-116 KB/s instead of 1-12 MB/s).
    pub slow: f64,
}

impl LinkMix {
    /// The link between nodes `a` and `b` in a run with `seed`.
    pub fn link(&self, seed: u64, a: usize, b: usize) -> Link {
        let (lo, hi) = (a.min(b) as u64, a.max(b) as u64);
        let mut rng =
            Rng::new(seed ^ 0x11_4e5 ^ (lo << 32 | hi).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let latency_ms = if rng.unit() < self.far {
            100 + rng.below(201)
        } else {
            let (min, max) = self.regional_ms;
            min + rng.below(max.saturating_sub(min) + 1)
        };
        let bytes_per_sec = if rng.unit() < self.slow {
            16_000 + rng.below(100_000)
        } else {
            1_000_000 + rng.below(11_000_000)
        };
        Link {
            latency_ms,
            bytes_per_sec,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LinkMix;

    #[test]
    fn links_follow_the_mix_and_are_symmetric() {
        let mix = LinkMix {
            regional_ms: (5, 40),
            far: 0.1,
            slow: 0.2,
        };
        let links: Vec<_> = (0..2000).map(|i| mix.link(7, i, i + 1)).collect();
        assert_eq!(mix.link(7, 3, 9), mix.link(7, 9, 3));
        let far = links.iter().filter(|l| l.latency_ms >= 100).count();
        let slow = links.iter().filter(|l| l.bytes_per_sec < 1_000_000).count();
        assert!((120..280).contains(&far), "{far} far links of 2000");
        assert!((320..480).contains(&slow), "{slow} slow links of 2000");
        assert!(links
            .iter()
            .all(|l| l.latency_ms >= 5 && l.latency_ms <= 300));
    }
}
