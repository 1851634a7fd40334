//! Keyed failure throttles: how many recent failures a key (an email, a client address) has, and
//! whether it may try again, with attempts *in flight* counted against the allowance.
//!
//! Each key has an allowance of `burst` failures that refills by one every `refill` (the generic
//! cell rate algorithm, GCRA, as in [`governor`]): failures are recorded as a debt that is paid off
//! at one failure per `refill`. A key may start an attempt while its outstanding failures plus its
//! attempts in flight are fewer than `burst` ([`Throttle::reserve`]), so that N concurrent
//! attempts cannot all pass a check made before any of them failed. Only failures are recorded;
//! a reservation that ends without failing leaves no trace.
//!
//! Why not [`governor`]'s keyed limiter itself: it can only be asked by consuming a cell, so
//! holding a slot for an attempt in flight would also charge the attempts that succeed (a member
//! who signs in often would lock themselves out).
//!
//! A key with no attempt in flight and no outstanding failure is removed, so memory holds only
//! keys that failed within their last `burst × refill`.

use std::{
    collections::HashMap,
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    time::{Duration, Instant},
};

/// The entries of a throttle are swept (keys without state dropped) whenever their number
/// reaches twice what was left after the last sweep, and at least this many.
const SWEEP_AT_LEAST: usize = 1024;

/// One key's state.
#[derive(Clone, Copy, Debug)]
struct Entry {
    /// When all recorded failures are paid off (GCRA's theoretical arrival time).
    debt_until: Instant,
    /// Attempts reserved and not yet released.
    in_flight: u32,
}

impl Entry {
    fn idle(&self, now: Instant) -> bool {
        self.in_flight == 0 && self.debt_until <= now
    }
}

/// A keyed failure counter with reservations; see the [module docs](self).
pub struct Throttle<K: Hash + Eq + Clone> {
    burst: NonZeroU32,
    refill: Duration,
    entries: Mutex<Entries<K>>,
    /// How many keys `entries` holds, as of the last unlock: lets [`Throttle::check`] skip the
    /// lock when nothing is held (every authenticated request checks the API-key throttle).
    held: AtomicUsize,
}

struct Entries<K> {
    map: HashMap<K, Entry>,
    sweep_at: usize,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for Throttle<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").field("burst", &self.burst).field("refill", &self.refill).finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    /// `burst` failures allowed at once, one more per `refill` after that. A zero burst or refill
    /// is taken as 1 (one failure; one nanosecond).
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self {
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
            refill: refill.max(Duration::from_nanos(1)),
            entries: Mutex::new(Entries { map: HashMap::new(), sweep_at: SWEEP_AT_LEAST }),
            held: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> Locked<'_, K> {
        Locked { entries: self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner), held: &self.held }
    }

    /// Failures of `entry` not yet paid off at `now`.
    fn outstanding(&self, entry: &Entry, now: Instant) -> u32 {
        let debt = entry.debt_until.saturating_duration_since(now);
        u32::try_from(debt.as_nanos().div_ceil(self.refill.as_nanos())).unwrap_or(u32::MAX)
    }

    /// How long `entry` must wait until `in_flight + outstanding < burst`, if it must.
    fn wait(&self, entry: &Entry, now: Instant) -> Option<Duration> {
        let burst = self.burst.get();
        let used = self.outstanding(entry, now).saturating_add(entry.in_flight);
        if used < burst {
            return None;
        }
        if entry.in_flight >= burst {
            // Only attempts in flight fill the allowance; they end within moments.
            return Some(Duration::from_secs(1));
        }
        // Allowed once the outstanding failures are at most `burst - in_flight - 1`.
        let may_owe = self.refill.saturating_mul(burst - entry.in_flight - 1);
        Some(entry.debt_until.saturating_duration_since(now + may_owe).max(Duration::from_millis(1)))
    }

    /// Without reserving: `Err(wait)` if `key` has used its allowance (outstanding failures plus
    /// attempts in flight), else `Ok`. Never adds `key` to memory.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.held.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let entries = self.lock();
        match entries.map.get(key).and_then(|e| self.wait(e, Instant::now())) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// Reserves one attempt for `key` if its outstanding failures plus attempts in flight are
    /// fewer than the burst; `Err(wait)` (how long until it may try again) otherwise. Every `Ok`
    /// must be followed by exactly one [`Throttle::release`].
    pub fn reserve(&self, key: &K) -> Result<(), Duration> {
        let now = Instant::now();
        let mut entries = self.lock();
        if let Some(entry) = entries.map.get_mut(key) {
            if let Some(wait) = self.wait(entry, now) {
                return Err(wait);
            }
            entry.in_flight += 1;
            return Ok(());
        }
        entries.map.insert(key.clone(), Entry { debt_until: now, in_flight: 1 });
        self.sweep_if_due(&mut entries, now);
        Ok(())
    }

    /// Ends an attempt [`Throttle::reserve`]d for `key`, recording a failure if `failed`.
    pub fn release(&self, key: &K, failed: bool) {
        let now = Instant::now();
        let mut entries = self.lock();
        let Some(entry) = entries.map.get_mut(key) else { return };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if failed {
            entry.debt_until = entry.debt_until.max(now) + self.refill;
        }
        if entry.idle(now) {
            entries.map.remove(key);
        }
    }

    /// Records a failure for `key` without a reservation.
    pub fn failed(&self, key: K) {
        let now = Instant::now();
        let mut entries = self.lock();
        let entry = entries.map.entry(key).or_insert(Entry { debt_until: now, in_flight: 0 });
        entry.debt_until = entry.debt_until.max(now) + self.refill;
        self.sweep_if_due(&mut entries, now);
    }

    fn sweep_if_due(&self, entries: &mut Entries<K>, now: Instant) {
        if entries.map.len() >= entries.sweep_at {
            entries.map.retain(|_, e| !e.idle(now));
            entries.sweep_at = (entries.map.len() * 2).max(SWEEP_AT_LEAST);
        }
    }

    /// Forgets keys that no longer limit anything (the server calls it hourly; entries are also
    /// swept as they grow).
    pub fn forget_old(&self) {
        let now = Instant::now();
        let mut entries = self.lock();
        entries.map.retain(|_, e| !e.idle(now));
        entries.sweep_at = (entries.map.len() * 2).max(SWEEP_AT_LEAST);
    }

    /// How many keys are held in memory.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The entries under their lock; on unlock, their number is published in [`Throttle::held`].
struct Locked<'a, K> {
    entries: std::sync::MutexGuard<'a, Entries<K>>,
    held: &'a AtomicUsize,
}

impl<K> std::ops::Deref for Locked<'_, K> {
    type Target = Entries<K>;
    fn deref(&self) -> &Entries<K> {
        &self.entries
    }
}

impl<K> std::ops::DerefMut for Locked<'_, K> {
    fn deref_mut(&mut self) -> &mut Entries<K> {
        &mut self.entries
    }
}

impl<K> Drop for Locked<'_, K> {
    fn drop(&mut self) {
        self.held.store(self.entries.map.len(), Ordering::Release);
    }
}

/// The key a client address is throttled by: an IPv4 address as it is (an IPv4-mapped IPv6
/// address as its IPv4 address), an IPv6 address as its /64 network, since one IPv6 host usually
/// holds a whole /64 (RFC 4291 §2.5.1, RFC 6177) and could otherwise try from 2^64 addresses.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_count_against_the_burst_and_only_failures_stay() {
        let t = Throttle::new(3, Duration::from_secs(3600));
        for _ in 0..3 {
            t.reserve(&"a").unwrap();
        }
        assert_eq!(t.reserve(&"a"), Err(Duration::from_secs(1)), "three in flight fill a burst of three");
        t.release(&"a", false);
        t.release(&"a", true);
        t.release(&"a", false);
        assert_eq!(t.len(), 1, "one failure is remembered");
        t.reserve(&"a").unwrap();
        t.reserve(&"a").unwrap();
        let wait = t.reserve(&"a").unwrap_err();
        assert!(wait > Duration::from_secs(3590) && wait <= Duration::from_secs(3600), "{wait:?}");
        t.release(&"a", false);
        t.release(&"a", false);
        assert!(t.check(&"a").is_ok() && t.check(&"b").is_ok());
        assert_eq!(t.len(), 1);

        for _ in 0..3 {
            t.failed("b");
        }
        let wait = t.check(&"b").unwrap_err();
        assert!(wait > Duration::from_secs(3590) && wait <= Duration::from_secs(3600), "{wait:?}");
        t.reserve(&"c").unwrap();
        t.release(&"c", false);
        assert_eq!(t.len(), 2, "a key that never failed is forgotten at once");
    }

    #[test]
    fn failures_are_paid_off_one_per_refill() {
        let refill = Duration::from_millis(400);
        let t = Throttle::new(2, refill);
        t.failed("a");
        t.failed("a");
        let wait = t.check(&"a").unwrap_err();
        assert!(wait <= refill, "{wait:?}");
        std::thread::sleep(wait + Duration::from_millis(20));
        t.reserve(&"a").unwrap();
        assert!(t.reserve(&"a").is_err(), "one failure outstanding and one in flight fill the burst");
        t.release(&"a", false);
        std::thread::sleep(refill + Duration::from_millis(20));
        t.forget_old();
        assert!(t.is_empty());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(other));
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(address_key(mapped), "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_eq!(address_key("203.0.113.7".parse().unwrap()), "203.0.113.7".parse::<IpAddr>().unwrap());
    }
}
