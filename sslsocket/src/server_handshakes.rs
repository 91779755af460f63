//! The handshakes a server has in progress, for the blocking and the async
//! server alike: their deadlines, counted from when each client was
//! accepted, and the bound on how many run at once, which a client that
//! has not yet sent its ClientHello gives way under.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server_settings::ServerSettings;

/// When a handshake must have reached each of its stages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadlines {
    /// The client's ClientHello must be in (never after `overall`).
    pub(crate) hello: Option<Instant>,
    /// The handshake must be over.
    pub(crate) overall: Option<Instant>,
}

impl Deadlines {
    /// The deadlines of a client accepted now, under `settings`.
    pub(crate) fn starting_now(settings: &ServerSettings) -> Deadlines {
        Deadlines::from_timeouts(
            settings.client_hello_timeout(),
            settings.handshake_timeout(),
        )
    }

    fn from_timeouts(hello: Option<Duration>, handshake: Option<Duration>) -> Deadlines {
        let now = Instant::now();
        let overall = handshake.map(|t| now + t);
        let hello = hello.map(|t| now + t);
        Deadlines {
            hello: match (hello, overall) {
                (Some(hello), Some(overall)) => Some(hello.min(overall)),
                (hello, overall) => hello.or(overall),
            },
            overall,
        }
    }

    /// The time left until `deadline` (zero once it has passed).
    pub(crate) fn left(deadline: Option<Instant>) -> Option<Duration> {
        deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// Set by a handshake once its client's hello is in; from then on it is
/// never dropped to make room.
#[derive(Debug, Clone, Default)]
pub(crate) struct HelloReceived(Arc<AtomicBool>);

impl HelloReceived {
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

struct Running<H> {
    peer: SocketAddr,
    accepted: Instant,
    hello: HelloReceived,
    /// What stops the handshake: its stream, or its task.
    handle: H,
}

/// The running handshakes, by the server's key for each (`K`), with what
/// stops each (`H`).
pub(crate) struct Handshakes<K, H> {
    running: HashMap<K, Running<H>>,
}

impl<K: Hash + Eq + Copy, H> Handshakes<K, H> {
    pub(crate) fn new() -> Handshakes<K, H> {
        Handshakes {
            running: HashMap::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.running.len()
    }

    /// Whether another handshake may start under `limit`: below it, or
    /// with a handshake still without a hello to drop
    /// ([`evict_silent`](Self::evict_silent)).
    pub(crate) fn has_room(&self, limit: usize) -> bool {
        self.running.len() < limit || self.running.values().any(|r| !r.hello.is_set())
    }

    /// Records a handshake with `peer` accepted now; the flag is for the
    /// handshake to set when the hello is in.
    pub(crate) fn insert(&mut self, key: K, peer: SocketAddr, handle: H, hello: HelloReceived) {
        let running = Running {
            peer,
            accepted: Instant::now(),
            hello,
            handle,
        };
        self.running.insert(key, running);
    }

    /// Forgets a handshake that ended; `None` if it was not running (it was
    /// dropped, or the server closed).
    pub(crate) fn remove(&mut self, key: &K) -> Option<SocketAddr> {
        self.running.remove(key).map(|running| running.peer)
    }

    /// Takes out the oldest handshake whose client has not sent its hello
    /// yet, for the caller to stop: the one to drop to make room.
    pub(crate) fn evict_silent(&mut self) -> Option<(SocketAddr, H)> {
        let key = *self
            .running
            .iter()
            .filter(|(_, running)| !running.hello.is_set())
            .min_by_key(|(_, running)| running.accepted)?
            .0;
        self.running
            .remove(&key)
            .map(|running| (running.peer, running.handle))
    }

    /// Takes out every handshake, for the caller to stop.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = H> + '_ {
        self.running.drain().map(|(_, running)| running.handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn the_oldest_silent_handshake_makes_room() {
        let mut handshakes: Handshakes<u64, &str> = Handshakes::new();
        let first = HelloReceived::default();
        handshakes.insert(1, peer(1), "first", first.clone());
        std::thread::sleep(Duration::from_millis(2));
        handshakes.insert(2, peer(2), "second", HelloReceived::default());
        std::thread::sleep(Duration::from_millis(2));
        handshakes.insert(3, peer(3), "third", HelloReceived::default());
        assert!(handshakes.has_room(3));
        first.set();
        assert_eq!(handshakes.evict_silent(), Some((peer(2), "second")));
        assert_eq!(handshakes.evict_silent(), Some((peer(3), "third")));
        // The one whose hello is in stays.
        assert!(!handshakes.has_room(1));
        assert!(handshakes.has_room(2));
        assert_eq!(handshakes.evict_silent(), None);
        assert_eq!(handshakes.len(), 1);
        assert_eq!(handshakes.remove(&1), Some(peer(1)));
        assert_eq!(handshakes.remove(&1), None);
    }

    #[test]
    fn the_hello_deadline_is_never_after_the_handshake_deadline() {
        let (short, long) = (Duration::from_secs(1), Duration::from_secs(60));
        let d = Deadlines::from_timeouts(Some(long), Some(short));
        assert_eq!(d.hello, d.overall);
        let d = Deadlines::from_timeouts(Some(short), Some(long));
        assert!(d.hello < d.overall);
        let d = Deadlines::from_timeouts(None, Some(short));
        assert_eq!(d.hello, d.overall);
        let d = Deadlines::from_timeouts(Some(short), None);
        assert!(d.hello.is_some() && d.overall.is_none());
        assert_eq!(Deadlines::left(Some(Instant::now())), Some(Duration::ZERO));
        assert_eq!(Deadlines::left(None), None);
    }
}
