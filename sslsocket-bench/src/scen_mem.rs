//! The in-memory scenarios: bulk-mem, handshake-mem and idle-memory.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::alloc;
use crate::mem::{established, pump, MemFactory, MEM_PEERS};
use crate::peers::{KeyKind, Spec, Suite};
use crate::pki::Pki;
use crate::report::{Better, Collector, Progress, Target};
use crate::Ctx;

/// One MiB, the unit of bulk sizes.
pub const MIB: usize = 1024 * 1024;

// --- bulk-mem -----------------------------------------------------------------

/// What [`bulk_once`] measured.
pub struct BulkSample {
    /// MiB/s of the client's writes and flushes.
    pub send_mib_s: f64,
    /// MiB/s of the server's reads.
    pub recv_mib_s: f64,
    /// Rust allocator calls per MiB, both sides.
    pub allocs_per_mib: f64,
}

/// Sends `total` bytes from client to server in writes of `write_size`,
/// both ends in this thread, over a new connection; times each side's calls
/// separately.
pub fn bulk_once(factory: &MemFactory, total: usize, write_size: usize) -> BulkSample {
    let (mut client, mut server) = established(factory);
    let chunk = vec![0x5au8; write_size];
    let mut buf = vec![0u8; 64 * 1024];
    let mut send = Duration::ZERO;
    let mut recv = Duration::ZERO;
    let calls = alloc::calls();
    for _ in 0..total / write_size {
        let start = Instant::now();
        client.send(&chunk);
        let sent = Instant::now();
        let mut got = 0;
        while got < write_size {
            let n = server.recv(&mut buf);
            assert!(n > 0, "the stream ended early");
            got += n;
        }
        recv += sent.elapsed();
        send += sent - start;
        assert_eq!(got, write_size, "the receiver got more than was sent");
    }
    let calls = alloc::calls() - calls;
    let mib = total as f64 / MIB as f64;
    BulkSample {
        send_mib_s: mib / send.as_secs_f64(),
        recv_mib_s: mib / recv.as_secs_f64(),
        allocs_per_mib: calls as f64 / mib,
    }
}

/// Bytes each bulk-mem factory sends before the measurements: first
/// connections, lazily built contexts, page faults.
pub const BULK_WARM_UP: usize = MIB;

/// `16KiB`, `1MiB`: a write size for case names.
pub fn size_label(size: usize) -> String {
    if size >= MIB {
        format!("{}MiB", size / MIB)
    } else {
        format!("{}KiB", size / 1024)
    }
}

/// bulk-mem: TLS 1.3 throughput per side, in memory.
pub fn bulk_mem(ctx: &Ctx) -> Collector {
    let total = if ctx.quick { 128 * MIB } else { 1024 * MIB };
    let suites = [Suite::Aes128, Suite::Aes256, Suite::Chacha];
    let sizes = [MIB, 16 * 1024];
    let mut collector = Collector::new(
        "bulk-mem",
        &[
            ("sslsocket", "rustls"),
            ("sslsocket", "openssl"),
            ("sslsocket", "rustls-unbounded"),
        ],
    );
    collector.note(format!(
        "{} MiB per measurement, client and server in one thread over an in-memory pipe; \
         MiB/s of each side's own calls (send: write + flush into the pipe; recv: read)",
        total / MIB
    ));
    collector.note(
        "alloc calls: Rust allocator calls per MiB, both sides together (OpenSSL's C \
         allocations are not seen, so it has no value)",
    );
    collector.note(
        "rustls-unbounded (diagnostic): raw rustls with set_buffer_limit(None), as \
         sslsocket's session.rs sets it; no target",
    );
    for suite in suites {
        for size in sizes {
            for side in ["send", "recv"] {
                let mut targets = vec![Target::RatioAtLeast("sslsocket", "rustls", 0.95)];
                if suite != Suite::Chacha {
                    targets.push(Target::RatioAtLeast("sslsocket", "openssl", 2.0));
                }
                collector.case(
                    &format!("{} {} writes {side}", suite.label(), size_label(size)),
                    "MiB/s",
                    Better::Higher,
                    &targets,
                    true,
                );
            }
        }
    }
    for size in sizes {
        collector.case(
            &format!("aes128gcm {} writes alloc calls", size_label(size)),
            "calls/MiB",
            Better::Lower,
            &[],
            false,
        );
    }
    let factories: Vec<(Suite, Vec<(&str, MemFactory)>)> = suites
        .iter()
        .map(|&suite| {
            let spec = Spec {
                suite,
                ..Spec::DEFAULT
            };
            let mut all = MEM_PEERS.to_vec();
            all.push("rustls-unbounded");
            let peers = ctx
                .select(&all)
                .into_iter()
                .map(|peer| (peer, MemFactory::new(peer, &ctx.pki, spec)))
                .collect();
            (suite, peers)
        })
        .collect();
    for (_, peers) in &factories {
        for (_, factory) in peers {
            bulk_once(factory, BULK_WARM_UP, 16 * 1024);
        }
    }
    let mut progress =
        Progress::new(ctx.rounds * suites.len() * sizes.len() * ctx.select(&MEM_PEERS).len());
    for round in 0..ctx.rounds {
        for (suite, peers) in &factories {
            for size in sizes {
                for (peer, factory) in peers {
                    progress.step(&format!(
                        "bulk-mem round {}/{} {} {} {peer}",
                        round + 1,
                        ctx.rounds,
                        suite.label(),
                        size_label(size)
                    ));
                    let sample = bulk_once(factory, total, size);
                    let base = format!("{} {} writes", suite.label(), size_label(size));
                    collector.add(&format!("{base} send"), peer, sample.send_mib_s);
                    collector.add(&format!("{base} recv"), peer, sample.recv_mib_s);
                    if *suite == Suite::Aes128 && *peer != "openssl" {
                        collector.add(&format!("{base} alloc calls"), peer, sample.allocs_per_mib);
                    }
                }
            }
        }
    }
    progress.finish();
    collector
}

// --- handshake-mem ------------------------------------------------------------

/// One handshake-mem case (the instructions scenario counts them too).
pub struct HandshakeCase {
    /// The row, e.g. `tls13 ecdsa-p256 full`.
    pub name: &'static str,
    /// What the handshakes negotiate.
    pub spec: Spec,
    /// Handshakes per measurement: full run, `--quick`.
    pub count: (usize, usize),
}

/// The handshake-mem cases.
pub const HANDSHAKE_CASES: [HandshakeCase; 5] = [
    HandshakeCase {
        name: "tls13 ecdsa-p256 full",
        spec: Spec::DEFAULT,
        count: (1000, 300),
    },
    HandshakeCase {
        name: "tls13 rsa2048 full",
        spec: Spec {
            key: KeyKind::Rsa,
            ..Spec::DEFAULT
        },
        count: (500, 150),
    },
    HandshakeCase {
        name: "tls12 ecdsa-p256 full",
        spec: Spec {
            suite: Suite::Tls12EcdsaAes128,
            ..Spec::DEFAULT
        },
        count: (1000, 300),
    },
    HandshakeCase {
        name: "tls13 ecdsa-p256 resumed",
        spec: Spec {
            resumption: true,
            ..Spec::DEFAULT
        },
        count: (3000, 600),
    },
    HandshakeCase {
        name: "tls12 ecdsa-p256 resumed",
        spec: Spec {
            suite: Suite::Tls12EcdsaAes128,
            resumption: true,
            ..Spec::DEFAULT
        },
        count: (10000, 2000),
    },
];

/// Handshakes of each factory before the measurements: first connections,
/// lazily built contexts, and a session to resume for the resumption cases.
pub const HANDSHAKE_WARM_UP: usize = 3;

/// `count` handshakes, each a new pair driven to completion (tickets
/// included); handshakes per second, how many resumed, and the first
/// key exchange group reported.
pub fn handshakes_once(factory: &MemFactory, count: usize) -> (f64, usize, Option<String>) {
    let mut resumed = 0;
    let mut group = None;
    let start = Instant::now();
    for _ in 0..count {
        let (mut client, mut server) = factory.connect();
        pump(&mut *client, &mut *server);
        factory.finish(&*client);
        resumed += usize::from(client.resumed());
        if group.is_none() {
            group = client.group();
        }
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    (rate, resumed, group)
}

/// handshake-mem: handshakes per second, client and server in one thread.
pub fn handshake_mem(ctx: &Ctx) -> Collector {
    let mut collector = Collector::new(
        "handshake-mem",
        &[("sslsocket", "rustls"), ("sslsocket", "openssl")],
    );
    collector.note(
        "one handshake = new client and server objects, the handshake and the session \
         tickets, client and server in one thread over an in-memory pipe; X25519 for all",
    );
    for case in &HANDSHAKE_CASES {
        let bound = if case.spec.resumption { 0.90 } else { 0.95 };
        collector.case(
            case.name,
            "handshakes/s",
            Better::Higher,
            &[Target::RatioAtLeast("sslsocket", "rustls", bound)],
            true,
        );
    }
    let factories: Vec<Vec<(&str, MemFactory)>> = HANDSHAKE_CASES
        .iter()
        .map(|case| {
            ctx.select(&MEM_PEERS)
                .into_iter()
                .map(|peer| (peer, MemFactory::new(peer, &ctx.pki, case.spec)))
                .collect()
        })
        .collect();
    for peers in &factories {
        for (_, factory) in peers {
            handshakes_once(factory, HANDSHAKE_WARM_UP);
        }
    }
    let mut progress =
        Progress::new(ctx.rounds * HANDSHAKE_CASES.len() * ctx.select(&MEM_PEERS).len());
    for round in 0..ctx.rounds {
        for (case, peers) in HANDSHAKE_CASES.iter().zip(&factories) {
            let (name, spec) = (case.name, case.spec);
            let count = if ctx.quick {
                case.count.1
            } else {
                case.count.0
            };
            for (peer, factory) in peers {
                progress.step(&format!(
                    "handshake-mem round {}/{} {name} {peer}",
                    round + 1,
                    ctx.rounds
                ));
                let (rate, resumed, group) = handshakes_once(factory, count);
                collector.add(name, peer, rate);
                if spec.resumption && resumed != count {
                    collector.note(format!(
                        "{peer} resumed only {resumed} of {count} handshakes in {name}"
                    ));
                }
                if !spec.resumption && resumed != 0 {
                    collector.note(format!("{peer} resumed {resumed} handshakes in {name}"));
                }
                if *peer != "openssl" && round == 0 && !spec.resumption {
                    collector.note(format!(
                        "{peer} negotiated key exchange group in {name}: {}",
                        group.as_deref().unwrap_or("(not reported)")
                    ));
                }
            }
        }
    }
    progress.finish();
    collector
}

// --- idle-memory --------------------------------------------------------------

/// idle-memory: memory per idle established connection end. Each
/// measurement runs in a child process of its own (this binary, with the
/// hidden `idle-child` scenario), so that peers do not share heap state.
pub fn idle_memory(ctx: &Ctx) -> Collector {
    let pairs = if ctx.quick { 200 } else { 2000 };
    let mut collector = Collector::new(
        "idle-memory",
        &[("sslsocket", "rustls"), ("sslsocket", "openssl")],
    );
    collector.note(format!(
        "{pairs} established TLS 1.3 pairs (ECDSA, AES-128-GCM, tickets received) in \
         memory, in a fresh child process per measurement; per connection end, in bytes; \
         pipe objects (about 64 B per end) included"
    ));
    collector.note(
        "Rust heap: counting global allocator (does not see OpenSSL's C allocations); \
         malloc: glibc mallinfo2 in-use bytes (sees everything); RSS: VmRSS growth",
    );
    let rows = [
        "client end: Rust heap",
        "server end: Rust heap",
        "client end: malloc in use",
        "server end: malloc in use",
        "per end: RSS",
    ];
    for name in rows {
        let targets = if name.contains("RSS") {
            vec![]
        } else {
            vec![Target::DiffAtMost("sslsocket", "rustls", 4096.0)]
        };
        collector.case(name, "B", Better::Lower, &targets, false);
    }
    let exe = std::env::current_exe().expect("own executable");
    let peers = ctx.select(&MEM_PEERS);
    let mut progress = Progress::new(ctx.rounds * peers.len());
    for round in 0..ctx.rounds {
        for &peer in &peers {
            progress.step(&format!(
                "idle-memory round {}/{} {peer}",
                round + 1,
                ctx.rounds
            ));
            let output = Command::new(&exe)
                .args(["idle-child", "--peer", peer, "--pairs", &pairs.to_string()])
                .output()
                .expect("run the idle-memory child");
            assert!(
                output.status.success(),
                "idle-memory child failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let value: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("child JSON");
            let get = |key: &str| value[key].as_f64().expect("number");
            if peer != "openssl" {
                collector.add("client end: Rust heap", peer, get("client_heap"));
                collector.add("server end: Rust heap", peer, get("server_heap"));
            }
            collector.add("client end: malloc in use", peer, get("client_malloc"));
            collector.add("server end: malloc in use", peer, get("server_malloc"));
            collector.add("per end: RSS", peer, get("rss_per_end"));
        }
    }
    progress.finish();
    collector
}

/// The child of [`idle_memory`]: prints one JSON object.
pub fn idle_child(peer: &str, pairs: usize) {
    let pki = Pki::generate_ecdsa_only();
    let factory = MemFactory::new(peer, &pki, Spec::DEFAULT);
    // Warm-up: contexts, caches and lazily made statics.
    for _ in 0..3 {
        drop(established(&factory));
    }
    let mut clients = Vec::with_capacity(pairs);
    let mut servers = Vec::with_capacity(pairs);
    let (heap0, malloc0, rss0) = (
        alloc::live_bytes(),
        alloc::malloc_in_use(),
        alloc::rss_bytes(),
    );
    for _ in 0..pairs {
        let (client, server) = established(&factory);
        client.shrink();
        server.shrink();
        clients.push(client);
        servers.push(server);
    }
    let (heap1, malloc1, rss1) = (
        alloc::live_bytes(),
        alloc::malloc_in_use(),
        alloc::rss_bytes(),
    );
    drop(servers);
    let (heap2, malloc2) = (alloc::live_bytes(), alloc::malloc_in_use());
    let n = pairs as f64;
    let result = serde_json::json!({
        "peer": peer,
        "pairs": pairs,
        "client_heap": (heap2 - heap0) as f64 / n,
        "server_heap": (heap1 - heap2) as f64 / n,
        "client_malloc": (malloc2 as f64 - malloc0 as f64) / n,
        "server_malloc": (malloc1 as f64 - malloc2 as f64) / n,
        "rss_per_end": (rss1 as f64 - rss0 as f64) / (2.0 * n),
    });
    drop(clients);
    println!("{result}");
}
