//! ARP state: a small cache of resolved neighbours and the frames waiting for resolution.
//!
//! Both are bounded: the cache holds at most its capacity (evicting the entry closest to
//! expiry) and the waiting frames at most the stack's pending limit in total, so no amount
//! of traffic grows them without bound.

use core::net::Ipv4Addr;

use smoltcp::wire::EthernetAddress;

/// One resolved neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    ip: Ipv4Addr,
    mac: EthernetAddress,
    expires_us: u64,
}

/// Resolved neighbours, each valid for a fixed lifetime.
#[derive(Clone, Debug)]
pub(crate) struct ArpCache {
    entries: Vec<Entry>,
    capacity: usize,
    lifetime_us: u64,
}

impl ArpCache {
    /// An empty cache of `capacity` entries (at least one) that live `lifetime_us`.
    pub(crate) fn new(capacity: usize, lifetime_us: u64) -> Self {
        let capacity = capacity.max(1);
        Self {
            entries: Vec::with_capacity(capacity),
            capacity,
            lifetime_us,
        }
    }

    /// The hardware address of `ip`, if known and not expired at `now_us`.
    pub(crate) fn lookup(&self, ip: Ipv4Addr, now_us: u64) -> Option<EthernetAddress> {
        self.entries
            .iter()
            .find(|e| e.ip == ip && e.expires_us > now_us)
            .map(|e| e.mac)
    }

    /// Whether `ip` has an entry (expired or not): an update for it is welcome.
    pub(crate) fn knows(&self, ip: Ipv4Addr) -> bool {
        self.entries.iter().any(|e| e.ip == ip)
    }

    /// Records that `ip` is at `mac` as of `now_us`.
    pub(crate) fn insert(&mut self, ip: Ipv4Addr, mac: EthernetAddress, now_us: u64) {
        let expires_us = now_us.saturating_add(self.lifetime_us);
        if let Some(entry) = self.entries.iter_mut().find(|e| e.ip == ip) {
            entry.mac = mac;
            entry.expires_us = expires_us;
            return;
        }
        if self.entries.len() >= self.capacity
            && let Some((victim, _)) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.expires_us)
        {
            self.entries.swap_remove(victim);
        }
        self.entries.push(Entry {
            ip,
            mac,
            expires_us,
        });
    }

    /// How many entries the cache holds (expired ones included until evicted).
    #[cfg(test)]
    const fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A neighbour being resolved and the frames waiting for its address.
#[derive(Clone, Debug)]
struct Waiting {
    ip: Ipv4Addr,
    requests_sent: u32,
    next_retry_us: u64,
    /// Complete Ethernet frames whose destination address is still to be filled in.
    frames: Vec<Vec<u8>>,
}

/// What [`Resolver::enqueue`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Enqueued {
    /// Queued behind a resolution already under way.
    Queued,
    /// Queued, and a new resolution started: send an ARP request now.
    StartResolving,
    /// Dropped: the pending limit is reached.
    Dropped,
}

/// What a resolution timer asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Due {
    /// Send another ARP request for this address.
    Retry(Ipv4Addr),
    /// Give up on this address; this many waiting frames were dropped.
    GiveUp(Ipv4Addr, usize),
}

/// The resolutions under way.
#[derive(Clone, Debug, Default)]
pub(crate) struct Resolver {
    waiting: Vec<Waiting>,
    total: usize,
}

impl Resolver {
    /// Queues `frame` for `ip`; at most `limit` frames wait in total.
    pub(crate) fn enqueue(
        &mut self,
        ip: Ipv4Addr,
        frame: Vec<u8>,
        now_us: u64,
        retry_us: u64,
        limit: usize,
    ) -> Enqueued {
        if self.total >= limit {
            return Enqueued::Dropped;
        }
        self.total += 1;
        if let Some(w) = self.waiting.iter_mut().find(|w| w.ip == ip) {
            w.frames.push(frame);
            return Enqueued::Queued;
        }
        self.waiting.push(Waiting {
            ip,
            requests_sent: 1,
            next_retry_us: now_us.saturating_add(retry_us),
            frames: vec![frame],
        });
        Enqueued::StartResolving
    }

    /// Whether `ip` is being resolved.
    pub(crate) fn is_resolving(&self, ip: Ipv4Addr) -> bool {
        self.waiting.iter().any(|w| w.ip == ip)
    }

    /// Ends the resolution of `ip`, returning its waiting frames in the order queued.
    pub(crate) fn resolved(&mut self, ip: Ipv4Addr) -> Vec<Vec<u8>> {
        let Some(index) = self.waiting.iter().position(|w| w.ip == ip) else {
            return Vec::new();
        };
        let w = self.waiting.remove(index);
        self.total -= w.frames.len();
        w.frames
    }

    /// The timers due at `now_us`: retries (at most `max_requests` requests per address,
    /// `retry_us` apart) and give-ups, in the order the resolutions started.
    pub(crate) fn due(&mut self, now_us: u64, retry_us: u64, max_requests: u32) -> Vec<Due> {
        let mut due = Vec::new();
        let mut index = 0;
        while let Some(w) = self.waiting.get_mut(index) {
            if w.next_retry_us > now_us {
                index += 1;
            } else if w.requests_sent >= max_requests {
                let w = self.waiting.remove(index);
                self.total -= w.frames.len();
                due.push(Due::GiveUp(w.ip, w.frames.len()));
            } else {
                w.requests_sent += 1;
                w.next_retry_us = now_us.saturating_add(retry_us);
                due.push(Due::Retry(w.ip));
                index += 1;
            }
        }
        due
    }

    /// The earliest resolution timer.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.waiting.iter().map(|w| w.next_retry_us).min()
    }

    /// How many frames wait in total.
    pub(crate) const fn pending(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP1: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const IP2: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
    const IP3: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 3);
    const MAC1: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const MAC2: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    #[test]
    fn cache_expires_refreshes_and_evicts() {
        let mut cache = ArpCache::new(2, 100);
        cache.insert(IP1, MAC1, 0);
        assert_eq!(cache.lookup(IP1, 99), Some(MAC1));
        assert_eq!(cache.lookup(IP1, 100), None);
        assert!(cache.knows(IP1));
        cache.insert(IP1, MAC2, 50);
        assert_eq!(cache.lookup(IP1, 120), Some(MAC2));
        cache.insert(IP2, MAC1, 10);
        cache.insert(IP3, MAC1, 20);
        // IP2 expired first (110 < 150), so it made room.
        assert_eq!(cache.len(), 2);
        assert!(!cache.knows(IP2));
        assert!(cache.knows(IP1) && cache.knows(IP3));
        assert_eq!(ArpCache::new(0, 1).capacity, 1);
    }

    #[test]
    fn resolver_queues_retries_and_gives_up() {
        let mut r = Resolver::default();
        assert_eq!(r.enqueue(IP1, vec![1], 0, 10, 3), Enqueued::StartResolving);
        assert_eq!(r.enqueue(IP1, vec![2], 1, 10, 3), Enqueued::Queued);
        assert_eq!(r.enqueue(IP2, vec![3], 2, 10, 3), Enqueued::StartResolving);
        assert_eq!(r.enqueue(IP2, vec![4], 2, 10, 3), Enqueued::Dropped);
        assert_eq!(r.pending(), 3);
        assert!(r.is_resolving(IP1));
        assert_eq!(r.next_deadline(), Some(10));
        assert_eq!(r.due(9, 10, 2), vec![]);
        assert_eq!(r.due(10, 10, 2), vec![Due::Retry(IP1)]);
        assert_eq!(r.due(12, 10, 2), vec![Due::Retry(IP2)]);
        assert_eq!(r.resolved(IP2), vec![vec![3]]);
        assert_eq!(r.resolved(IP2), Vec::<Vec<u8>>::new());
        assert_eq!(r.due(20, 10, 2), vec![Due::GiveUp(IP1, 2)]);
        assert_eq!(r.pending(), 0);
        assert_eq!(r.next_deadline(), None);
    }
}
