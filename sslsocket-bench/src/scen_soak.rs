//! The soak scenario: a million handshakes, full and resumed, each with an
//! echo, against each sslsocket server (and tokio-rustls beside the tokio
//! one) in a child process of its own, with the server's descriptors,
//! threads, heap and resident memory sampled at every checkpoint. After the
//! warm-up none of them may grow: descriptors and threads not at all, heap
//! and RSS not beyond a small slack (allocator caches), or the run fails.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::Resumption;
use serde_json::Value;
use tokio_rustls::TlsConnector;

use crate::net::TOKIO_PEERS;
use crate::peers::{self, Spec};
use crate::report::{Better, Collector, Progress};
use crate::scen_c10k::{close, open, PAYLOAD};
use crate::server_child::{check_tally, ServerChild, BLOCKING_SERVER};
use crate::Ctx;

/// Handshakes per server in a full run, and with `--quick`.
const HANDSHAKES: usize = 1_000_000;
const QUICK_HANDSHAKES: usize = 20_000;

/// The server is sampled after each of this many equal batches, once all of
/// the batch's connections have closed.
const CHECKPOINTS: usize = 20;

/// Checkpoints that belong to the warm-up: the last of them is the
/// baseline (pools, caches and runtime structures have reached their size).
const WARM_UP: usize = 2;

/// Client tasks, each making its connections one after another.
const IN_FLIGHT: usize = 50;

/// One connection in this many makes a full handshake without offering a
/// session; the others resume.
const FULL_EVERY: usize = 4;

/// Heap (every `malloc`) and RSS a server may gain after the warm-up
/// without counting as growth: allocator arenas and caches settle with
/// the load. A leak of 64 bytes a handshake is 57 MiB over a full run.
const HEAP_SLACK: f64 = 2.0 * 1024.0 * 1024.0;
const RSS_SLACK: f64 = 8.0 * 1024.0 * 1024.0;

/// One client task's state, kept from batch to batch.
struct Task {
    /// Its own session cache, so that it resumes the session of its own
    /// previous connection.
    resuming: TlsConnector,
    /// Connections made so far.
    made: usize,
    /// Handshakes that offered a session, and those that resumed.
    offered: usize,
    resumed: usize,
}

/// Runs `count` connections of `task`: connect, handshake, echo of 1 KiB
/// unique to the connection, close.
async fn run_task(
    mut task: Task,
    full: TlsConnector,
    address: std::net::SocketAddr,
    first_id: usize,
    count: usize,
) -> Result<Task, String> {
    for i in 0..count {
        let offers_session = task.made % FULL_EVERY != 0;
        let connector = if offers_session {
            &task.resuming
        } else {
            &full
        };
        let stream = open(connector, address, first_id + i).await?;
        let resumed = stream.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        if resumed && !offers_session {
            return Err(format!(
                "connection {}: resumed without a session",
                first_id + i
            ));
        }
        task.offered += usize::from(offers_session);
        task.resumed += usize::from(resumed);
        task.made += 1;
        close(stream).await?;
    }
    Ok(task)
}

/// What the server held at one checkpoint.
#[derive(Clone, Copy)]
struct Holding {
    fds: f64,
    threads: f64,
    /// Every `malloc` in use (aws-lc's included).
    heap: f64,
    /// The Rust allocations alone, counted exactly.
    rust_heap: f64,
    rss: f64,
}

impl Holding {
    fn of(tally: &Value) -> Holding {
        let get = |key: &str| tally[key].as_f64().unwrap_or(f64::NAN);
        Holding {
            fds: get("fds"),
            threads: get("threads"),
            heap: get("heap"),
            rust_heap: get("rust_heap"),
            rss: get("rss"),
        }
    }

    /// What grew beyond `baseline` (and its slack), for the failure message.
    fn growth_over(&self, baseline: &Holding) -> Vec<String> {
        let mut grew = Vec::new();
        let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
        if self.fds > baseline.fds {
            grew.push(format!("descriptors {} -> {}", baseline.fds, self.fds));
        }
        if self.threads > baseline.threads {
            grew.push(format!("threads {} -> {}", baseline.threads, self.threads));
        }
        if self.heap > baseline.heap + HEAP_SLACK {
            grew.push(format!(
                "heap {:.1} -> {:.1} MiB",
                mib(baseline.heap),
                mib(self.heap)
            ));
        }
        if self.rust_heap > baseline.rust_heap + HEAP_SLACK {
            grew.push(format!(
                "Rust heap {:.1} -> {:.1} MiB",
                mib(baseline.rust_heap),
                mib(self.rust_heap)
            ));
        }
        if self.rss > baseline.rss + RSS_SLACK {
            grew.push(format!(
                "RSS {:.1} -> {:.1} MiB",
                mib(baseline.rss),
                mib(self.rss)
            ));
        }
        grew
    }
}

/// The results of one server's soak.
struct Sample {
    handshakes_per_s: f64,
    resumed_share: f64,
    /// The largest figure after the warm-up minus the baseline.
    growth: Holding,
    /// Heap and Rust heap after each checkpoint, MiB, for the note.
    heap_series: Vec<(f64, f64)>,
}

/// Soaks the server of `peer` with `total` connections.
fn measure(ctx: &Ctx, peer: &str, total: usize, progress: &mut Progress) -> Sample {
    let mut child = ServerChild::spawn("soak", peer);
    let (address, root) = child.ready();
    let full = TlsConnector::from(peers::rustls_client_trusting(&root, Spec::DEFAULT));
    let resuming_config = || {
        let mut config = (*peers::rustls_client_trusting(&root, Spec::DEFAULT)).clone();
        config.resumption = Resumption::in_memory_sessions(4);
        TlsConnector::from(Arc::new(config))
    };
    let mut tasks: Vec<Task> = (0..IN_FLIGHT)
        .map(|_| Task {
            resuming: resuming_config(),
            made: 0,
            offered: 0,
            resumed: 0,
        })
        .collect();
    let per_task = (total / CHECKPOINTS / IN_FLIGHT).max(1);
    let mut baseline: Option<Holding> = None;
    let mut growth = Holding {
        fds: 0.0,
        threads: 0.0,
        heap: f64::MIN,
        rust_heap: f64::MIN,
        rss: f64::MIN,
    };
    let mut heap_series = Vec::with_capacity(CHECKPOINTS);
    let mut busy = Duration::ZERO;
    for checkpoint in 0..CHECKPOINTS {
        progress.step(&format!("soak {peer} {}/{CHECKPOINTS}", checkpoint + 1));
        let start = Instant::now();
        tasks = ctx
            .runtime
            .block_on(async {
                let handles: Vec<_> = tasks
                    .into_iter()
                    .enumerate()
                    .map(|(i, task)| {
                        let first_id = (checkpoint * IN_FLIGHT + i) * per_task;
                        tokio::spawn(run_task(task, full.clone(), address, first_id, per_task))
                    })
                    .collect();
                let mut done = Vec::with_capacity(handles.len());
                for handle in handles {
                    done.push(handle.await.expect("client task")?);
                }
                Ok::<_, String>(done)
            })
            .unwrap_or_else(|e| panic!("soak {peer}, checkpoint {checkpoint}: {e}"));
        busy += start.elapsed();

        let made: usize = tasks.iter().map(|t| t.made).sum();
        let offered: usize = tasks.iter().map(|t| t.offered).sum();
        let resumed: usize = tasks.iter().map(|t| t.resumed).sum();
        // Each task's first offer finds no session yet; every later one resumes.
        let first_offers = tasks.iter().filter(|t| t.offered > 0).count();
        assert_eq!(
            resumed,
            offered - first_offers,
            "soak {peer}: sessions offered but not resumed"
        );
        // Threads and descriptors of closed connections go a moment after
        // the close; what is still there after the wait counts.
        let tally = child.ask_until(|tally| {
            tally["open"].as_u64() == Some(0)
                && baseline.is_none_or(|b| Holding::of(tally).growth_over(&b).is_empty())
        });
        let when = format!("after {made} connections");
        let expected = [
            ("handshakes", made as u64),
            ("resumed", resumed as u64),
            ("echoed", (made * PAYLOAD) as u64),
            ("open", 0),
            ("failed", 0),
            ("errors", 0),
        ];
        check_tally("soak", peer, &when, &tally, &expected);
        let holding = Holding::of(&tally);
        let mib = |bytes: f64| bytes / (1024.0 * 1024.0);
        heap_series.push((mib(holding.heap), mib(holding.rust_heap)));
        match baseline {
            None if checkpoint + 1 == WARM_UP => baseline = Some(holding),
            None => {}
            Some(base) => {
                let grew = holding.growth_over(&base);
                assert!(
                    grew.is_empty(),
                    "soak {peer}: the server grew after the warm-up ({when}): {}",
                    grew.join(", ")
                );
                growth = Holding {
                    fds: growth.fds.max(holding.fds - base.fds),
                    threads: growth.threads.max(holding.threads - base.threads),
                    heap: growth.heap.max(holding.heap - base.heap),
                    rust_heap: growth.rust_heap.max(holding.rust_heap - base.rust_heap),
                    rss: growth.rss.max(holding.rss - base.rss),
                };
            }
        }
    }
    child.quit();
    let made: usize = tasks.iter().map(|t| t.made).sum();
    let resumed: usize = tasks.iter().map(|t| t.resumed).sum();
    Sample {
        handshakes_per_s: made as f64 / busy.as_secs_f64(),
        resumed_share: 100.0 * resumed as f64 / made as f64,
        growth,
        heap_series,
    }
}

/// soak: a million full and resumed handshakes against each server.
pub fn soak(ctx: &Ctx) -> Collector {
    let total = if ctx.quick {
        QUICK_HANDSHAKES
    } else {
        HANDSHAKES
    };
    let mut collector = Collector::new("soak", &[("sslsocket-tokio", "tokio-rustls")]);
    collector.note(format!(
        "{total} connections per server, in {CHECKPOINTS} batches, to a server in a fresh \
         child process ({BLOCKING_SERVER}: the blocking SslServer, a thread per connection; \
         sslsocket-tokio: tokio SslServer; tokio-rustls: TcpListener + TlsAcceptor). The \
         client is tokio-rustls, {IN_FLIGHT} tasks each making connections one after \
         another: TLS 1.3 (ECDSA P-256, X25519, AES-128-GCM), 1 KiB unique to the connection \
         echoed and compared, close_notify both ways; one connection in {FULL_EVERY} makes a \
         full handshake, the others resume the task's previous session (every offer after a \
         task's first must resume, and the server must count the same)"
    ));
    collector.note(format!(
        "after each batch, once its connections have closed, the server's descriptors, \
         threads, heap (malloc in use), Rust heap (live bytes of the Rust allocations, \
         counted by the bench's allocator) and VmRSS are sampled; sample {WARM_UP} is the \
         baseline. The run fails if a later sample has more descriptors or threads than the \
         baseline, or more than {} MiB more heap (either count) or {} MiB more RSS; the rows show the \
         largest difference seen",
        HEAP_SLACK / (1024.0 * 1024.0),
        RSS_SLACK / (1024.0 * 1024.0)
    ));
    collector.case("handshakes/s", "handshakes/s", Better::Higher, &[], false);
    collector.case("resumed", "%", Better::Higher, &[], false);
    collector.case("descriptors growth", "count", Better::Lower, &[], false);
    collector.case("threads growth", "count", Better::Lower, &[], false);
    collector.case("heap growth", "KiB", Better::Lower, &[], false);
    collector.case("Rust heap growth", "KiB", Better::Lower, &[], false);
    collector.case("RSS growth", "KiB", Better::Lower, &[], false);
    let mut all = vec![BLOCKING_SERVER];
    all.extend(TOKIO_PEERS);
    let peers = ctx.select(&all);
    let mut progress = Progress::new(peers.len() * CHECKPOINTS);
    for &peer in &peers {
        let sample = measure(ctx, peer, total, &mut progress);
        collector.add("handshakes/s", peer, sample.handshakes_per_s);
        collector.add("resumed", peer, sample.resumed_share);
        collector.add("descriptors growth", peer, sample.growth.fds);
        collector.add("threads growth", peer, sample.growth.threads);
        collector.add("heap growth", peer, sample.growth.heap / 1024.0);
        collector.add("Rust heap growth", peer, sample.growth.rust_heap / 1024.0);
        collector.add("RSS growth", peer, sample.growth.rss / 1024.0);
        let series: Vec<String> = sample
            .heap_series
            .iter()
            .map(|(all, rust)| format!("{all:.2}/{rust:.2}"))
            .collect();
        collector.note(format!(
            "{peer}: heap/Rust heap after each batch (MiB): {}",
            series.join(" ")
        ));
    }
    progress.finish();
    collector
}
