//! Time as the node sees it: [`Time`], an instant the driver supplies (milliseconds since the
//! Unix epoch, read from its clock); spans between instants are [`Duration`]s. Keeping the
//! two apart (and seconds apart from both, through [`Time::unix_secs`]) is what stops a
//! millisecond deadline from being compared with a second count.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// An instant: milliseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(u64);

impl Time {
    /// The Unix epoch.
    pub const EPOCH: Time = Time(0);

    /// The instant `ms` milliseconds after the Unix epoch.
    pub const fn from_millis(ms: u64) -> Time {
        Time(ms)
    }

    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_secs(secs: u64) -> Time {
        Time(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (what block headers and the mempool count in).
    pub const fn unix_secs(self) -> u64 {
        self.0 / 1000
    }

    /// How long after `earlier` this is; zero when it is not after it.
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Time {
    type Output = Time;

    fn add(self, span: Duration) -> Time {
        let ms = u64::try_from(span.as_millis()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(ms))
    }
}

impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, span: Duration) {
        *self = *self + span;
    }
}

impl Sub<Duration> for Time {
    type Output = Time;

    fn sub(self, span: Duration) -> Time {
        let ms = u64::try_from(span.as_millis()).unwrap_or(u64::MAX);
        Time(self.0.saturating_sub(ms))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_spans_convert_and_saturate() {
        let t = Time::from_unix_secs(1_700_000_000);
        assert_eq!(t.as_millis(), 1_700_000_000_000);
        assert_eq!(
            (t + Duration::from_millis(1_999)).unix_secs(),
            1_700_000_001
        );
        assert_eq!(
            (t + Duration::from_secs(5)).since(t),
            Duration::from_secs(5)
        );
        assert_eq!(t.since(t + Duration::from_secs(5)), Duration::ZERO);
        assert_eq!(Time::EPOCH - Duration::from_secs(1), Time::EPOCH);
        assert_eq!(
            Time::from_millis(u64::MAX - 1) + Duration::from_secs(1),
            Time::from_millis(u64::MAX)
        );
        assert_eq!(Time::from_millis(7).to_string(), "7 ms");
    }
}
