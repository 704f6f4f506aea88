//! btcd's dynamic ban score: a persistent part that only grows and a transient part that
//! decays with a 60 s half-life, so bursts of mildly bad behaviour are forgiven with time
//! while repeated protocol violations add up to a ban.

/// Half-life of the transient part, in seconds.
pub const HALF_LIFE_SECS: u64 = 60;
/// After this long without an increase the transient part counts as zero.
pub const LIFETIME_SECS: u64 = 1800;
/// Ban score at which btcd disconnects and bans (the `banthreshold` default).
pub const DEFAULT_THRESHOLD: u32 = 100;

/// A peer's ban score at unix time (seconds) given to each call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BanScore {
    persistent: u32,
    transient: f64,
    last: u64,
}

fn decay(transient: f64, dt: u64) -> f64 {
    if dt > LIFETIME_SECS {
        0.0
    } else {
        transient * 0.5f64.powf(dt as f64 / HALF_LIFE_SECS as f64)
    }
}

impl BanScore {
    /// The score at `now`.
    pub fn value(&self, now: u64) -> u32 {
        let dt = now.saturating_sub(self.last);
        if self.transient < 1.0 {
            return self.persistent;
        }
        self.persistent
            .saturating_add(decay(self.transient, dt) as u32)
    }

    /// Adds to both parts at `now` and returns the new score.
    pub fn increase(&mut self, persistent: u32, transient: u32, now: u64) -> u32 {
        self.persistent = self.persistent.saturating_add(persistent);
        if transient > 0 {
            let dt = now.saturating_sub(self.last);
            self.transient = decay(self.transient, dt) + f64::from(transient);
            self.last = now;
        }
        self.value(now)
    }

    /// Forgets everything (manual unban).
    pub fn reset(&mut self) {
        *self = BanScore::default();
    }
}

/// What an increase means for the peer under `threshold`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Still well-behaved enough.
    Fine,
    /// Over half the threshold: btcd logs a warning.
    Warn,
    /// At or over the threshold: disconnect and ban.
    Ban,
}

/// Classifies `score` against `threshold` as btcd does.
pub fn verdict(score: u32, threshold: u32) -> Verdict {
    if score >= threshold {
        Verdict::Ban
    } else if score > threshold / 2 {
        Verdict::Warn
    } else {
        Verdict::Fine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_part_halves_every_minute_and_expires() {
        let mut s = BanScore::default();
        assert_eq!(s.increase(0, 80, 1000), 80);
        assert_eq!(s.value(1060), 40);
        assert_eq!(s.value(1120), 20);
        assert_eq!(s.value(1000 + LIFETIME_SECS + 1), 0);
        // A second burst a minute later stacks on what is left of the first.
        assert_eq!(s.increase(0, 80, 1060), 120);
    }

    #[test]
    fn persistent_part_never_decays() {
        let mut s = BanScore::default();
        s.increase(10, 0, 0);
        s.increase(10, 50, 0);
        assert_eq!(s.value(0), 70);
        assert_eq!(s.value(1_000_000), 20);
        s.reset();
        assert_eq!(s.value(1_000_000), 0);
    }

    #[test]
    fn verdicts_follow_the_threshold() {
        assert_eq!(verdict(50, 100), Verdict::Fine);
        assert_eq!(verdict(51, 100), Verdict::Warn);
        assert_eq!(verdict(100, 100), Verdict::Ban);
    }

    #[test]
    fn clock_going_backwards_does_not_inflate() {
        let mut s = BanScore::default();
        s.increase(0, 40, 100);
        assert_eq!(s.value(50), 40);
        assert_eq!(s.increase(0, 10, 50), 50);
    }
}
