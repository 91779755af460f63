//! The loopback scenarios: bulk-loopback, connect-loopback and ping-pong.

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use crate::net::{AClient, AServer, Client, Server, BLOCKING_PEERS, TOKIO_PEERS};
use crate::peers::Spec;
use crate::report::{quantile, Better, Collector, Progress, Target};
use crate::Ctx;

const MIB: usize = 1024 * 1024;

fn peer_names() -> Vec<&'static str> {
    BLOCKING_PEERS.iter().chain(&TOKIO_PEERS).copied().collect()
}

fn all_peers(ctx: &Ctx) -> Vec<&'static str> {
    ctx.select(&peer_names())
}

fn is_tokio(peer: &str) -> bool {
    TOKIO_PEERS.contains(&peer)
}

// --- bulk-loopback ------------------------------------------------------------

fn bulk_blocking(ctx: &Ctx, peer: &str, total: usize, write_size: usize) -> f64 {
    let spec = Spec::DEFAULT;
    let mut server = Server::listen(peer, &ctx.pki, spec);
    let address = server.address;
    let serving = thread::spawn(move || {
        let mut conn = server.accept();
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0;
        while got < total {
            let n = conn.read(&mut buf).expect("server read");
            assert!(n > 0, "the stream ended early");
            got += n;
        }
        conn.write_all(&[1]).expect("ack");
        conn.flush().expect("ack flush");
        conn.close();
    });
    let client = Client::new(peer, &ctx.pki, spec);
    let mut conn = client.connect(address);
    let chunk = vec![0x5au8; write_size];
    let start = Instant::now();
    for _ in 0..total / write_size {
        conn.write_all(&chunk).expect("client write");
    }
    conn.flush().expect("client flush");
    let mut ack = [0u8; 1];
    conn.read_exact(&mut ack).expect("ack");
    let elapsed = start.elapsed();
    conn.close();
    serving.join().expect("server thread");
    total as f64 / MIB as f64 / elapsed.as_secs_f64()
}

fn bulk_tokio(ctx: &Ctx, peer: &str, total: usize, write_size: usize) -> f64 {
    let spec = Spec::DEFAULT;
    ctx.runtime.block_on(async {
        let mut server = AServer::listen(peer, &ctx.pki, spec).await;
        let address = server.address();
        let serving = tokio::spawn(async move {
            let mut conn = server.accept().await;
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0;
            while got < total {
                let n = conn.recv(&mut buf).await;
                assert!(n > 0, "the stream ended early");
                got += n;
            }
            conn.send(&[1]).await;
            conn.close().await;
        });
        let client = AClient::new(peer, &ctx.pki, spec);
        let mut conn = client.connect(address).await;
        let chunk = vec![0x5au8; write_size];
        let start = Instant::now();
        for _ in 0..total / write_size {
            conn.send(&chunk).await;
        }
        let mut ack = [0u8; 1];
        conn.recv_exact(&mut ack).await;
        let elapsed = start.elapsed();
        conn.close().await;
        serving.await.expect("server task");
        total as f64 / MIB as f64 / elapsed.as_secs_f64()
    })
}

/// bulk-loopback: client-to-server throughput over 127.0.0.1.
pub fn bulk_loopback(ctx: &Ctx) -> Collector {
    let total = if ctx.quick { 128 * MIB } else { 1024 * MIB };
    let sizes = [16 * 1024, MIB];
    let mut collector = Collector::new(
        "bulk-loopback",
        &[
            ("sslsocket", "rustls"),
            ("sslsocket", "openssl"),
            ("sslsocket-tokio", "tokio-rustls"),
        ],
    );
    collector.note(format!(
        "{} MiB client to server over 127.0.0.1, TLS 1.3 AES-128-GCM, from the first write \
         to the server's 1-byte acknowledgement; blocking peers use a thread per side, \
         tokio peers a 2-worker runtime",
        total / MIB
    ));
    for size in sizes {
        collector.case(
            &format!("{}KiB writes", size / 1024),
            "MiB/s",
            Better::Higher,
            &[
                Target::RatioAtLeast("sslsocket", "rustls", 0.95),
                Target::RatioAtLeast("sslsocket", "openssl", 2.0),
                Target::RatioAtLeast("sslsocket-tokio", "tokio-rustls", 0.95),
            ],
            true,
        );
    }
    let peers = all_peers(ctx);
    for peer in &peers {
        measure_bulk(ctx, peer, MIB, 16 * 1024);
    }
    let mut progress = Progress::new(ctx.rounds * sizes.len() * peers.len());
    for round in 0..ctx.rounds {
        for size in sizes {
            for peer in &peers {
                progress.step(&format!(
                    "bulk-loopback round {}/{} {}KiB {peer}",
                    round + 1,
                    ctx.rounds,
                    size / 1024
                ));
                let rate = measure_bulk(ctx, peer, total, size);
                collector.add(&format!("{}KiB writes", size / 1024), peer, rate);
            }
        }
    }
    progress.finish();
    collector
}

fn measure_bulk(ctx: &Ctx, peer: &str, total: usize, size: usize) -> f64 {
    if is_tokio(peer) {
        bulk_tokio(ctx, peer, total, size)
    } else {
        bulk_blocking(ctx, peer, total, size)
    }
}

// --- connect-loopback ---------------------------------------------------------

struct ConnectSample {
    per_second: f64,
    latencies_us: Vec<f64>,
    resumed: usize,
}

fn connect_blocking(ctx: &Ctx, peer: &str, spec: Spec, count: usize) -> ConnectSample {
    let mut server = Server::listen(peer, &ctx.pki, spec);
    let address = server.address;
    let serving = thread::spawn(move || {
        for _ in 0..count + 1 {
            let mut conn = server.accept();
            let mut byte = [0u8; 1];
            conn.read_exact(&mut byte).expect("server read");
            conn.write_all(&byte).expect("server write");
            conn.flush().expect("server flush");
            conn.close();
        }
    });
    let client = Client::new(peer, &ctx.pki, spec);
    let once = || {
        let mut conn = client.connect(address);
        conn.write_all(&[7]).expect("client write");
        conn.flush().expect("client flush");
        let mut byte = [0u8; 1];
        conn.read_exact(&mut byte).expect("client read");
        let resumed = conn.resumed();
        conn.close();
        resumed
    };
    once(); // warm-up; gives the first session to resume
    let mut latencies_us = Vec::with_capacity(count);
    let mut resumed = 0;
    let start = Instant::now();
    for _ in 0..count {
        let t = Instant::now();
        resumed += usize::from(once());
        latencies_us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let per_second = count as f64 / start.elapsed().as_secs_f64();
    serving.join().expect("server thread");
    ConnectSample {
        per_second,
        latencies_us,
        resumed,
    }
}

fn connect_tokio(ctx: &Ctx, peer: &str, spec: Spec, count: usize) -> ConnectSample {
    ctx.runtime.block_on(async {
        let mut server = AServer::listen(peer, &ctx.pki, spec).await;
        let address = server.address();
        let serving = tokio::spawn(async move {
            for _ in 0..count + 1 {
                let mut conn = server.accept().await;
                let mut byte = [0u8; 1];
                conn.recv_exact(&mut byte).await;
                conn.send(&byte).await;
                conn.close().await;
            }
        });
        let client = AClient::new(peer, &ctx.pki, spec);
        let once = || async {
            let mut conn = client.connect(address).await;
            conn.send(&[7]).await;
            let mut byte = [0u8; 1];
            conn.recv_exact(&mut byte).await;
            let resumed = conn.resumed();
            conn.close().await;
            resumed
        };
        once().await;
        let mut latencies_us = Vec::with_capacity(count);
        let mut resumed = 0;
        let start = Instant::now();
        for _ in 0..count {
            let t = Instant::now();
            resumed += usize::from(once().await);
            latencies_us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let per_second = count as f64 / start.elapsed().as_secs_f64();
        serving.await.expect("server task");
        ConnectSample {
            per_second,
            latencies_us,
            resumed,
        }
    })
}

/// connect-loopback: sequential connect + handshake + 1-byte echo + close.
pub fn connect_loopback(ctx: &Ctx) -> Collector {
    let count = if ctx.quick { 60 } else { 500 };
    let mut all = peer_names();
    all.insert(1, "sslsocket+SslServer");
    let peers = ctx.select(&all);
    let mut collector = Collector::new(
        "connect-loopback",
        &[
            ("sslsocket", "rustls"),
            ("sslsocket+SslServer", "rustls"),
            ("sslsocket", "openssl"),
            ("sslsocket-tokio", "tokio-rustls"),
        ],
    );
    collector.note(format!(
        "{count} sequential connections per measurement over 127.0.0.1: connect, TLS 1.3 \
         handshake (ECDSA P-256, X25519), 1-byte echo, close_notify and close; latency \
         measured by the client. sslsocket: server sockets made from accepted streams; \
         sslsocket+SslServer: the blocking SslServer::accept"
    ));
    let kinds = [("full", false), ("resumed", true)];
    for (kind, _) in kinds {
        collector.case(
            &format!("{kind} conn/s"),
            "conn/s",
            Better::Higher,
            &[
                Target::RatioAtLeast("sslsocket", "rustls", 0.95),
                Target::RatioAtLeast("sslsocket+SslServer", "rustls", 0.95),
                Target::RatioAtLeast("sslsocket-tokio", "tokio-rustls", 0.95),
            ],
            true,
        );
        for q in ["p50", "p99"] {
            collector.case(
                &format!("{kind} latency {q}"),
                "us",
                Better::Lower,
                &[],
                false,
            );
        }
    }
    let mut progress = Progress::new(ctx.rounds * kinds.len() * peers.len());
    for round in 0..ctx.rounds {
        for (kind, resumption) in kinds {
            let spec = Spec {
                resumption,
                ..Spec::DEFAULT
            };
            for peer in &peers {
                progress.step(&format!(
                    "connect-loopback round {}/{} {kind} {peer}",
                    round + 1,
                    ctx.rounds
                ));
                let mut sample = if is_tokio(peer) {
                    connect_tokio(ctx, peer, spec, count)
                } else {
                    connect_blocking(ctx, peer, spec, count)
                };
                collector.add(&format!("{kind} conn/s"), peer, sample.per_second);
                collector.add(
                    &format!("{kind} latency p50"),
                    peer,
                    quantile(&mut sample.latencies_us, 0.50),
                );
                collector.add(
                    &format!("{kind} latency p99"),
                    peer,
                    quantile(&mut sample.latencies_us, 0.99),
                );
                let expected = if resumption { count } else { 0 };
                if sample.resumed != expected {
                    collector.note(format!(
                        "{peer}: {} of {count} {kind} connections resumed",
                        sample.resumed
                    ));
                }
            }
        }
    }
    progress.finish();
    collector
}

// --- ping-pong ----------------------------------------------------------------

fn ping_blocking(ctx: &Ctx, peer: &str, size: usize, count: usize) -> Vec<f64> {
    let spec = Spec::DEFAULT;
    let mut server = Server::listen(peer, &ctx.pki, spec);
    let address = server.address;
    let serving = thread::spawn(move || {
        let mut conn = server.accept();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    conn.write_all(&buf[..n]).expect("echo");
                    conn.flush().expect("echo flush");
                }
            }
        }
        conn.close();
    });
    let client = Client::new(peer, &ctx.pki, spec);
    let mut conn = client.connect(address);
    let message = vec![0x42u8; size];
    let mut reply = vec![0u8; size];
    let mut rtts = Vec::with_capacity(count);
    for i in 0..count + count / 10 {
        let t = Instant::now();
        conn.write_all(&message).expect("ping");
        conn.flush().expect("ping flush");
        conn.read_exact(&mut reply).expect("pong");
        if i >= count / 10 {
            rtts.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    conn.close();
    serving.join().expect("server thread");
    rtts
}

fn ping_tokio(ctx: &Ctx, peer: &str, size: usize, count: usize) -> Vec<f64> {
    let spec = Spec::DEFAULT;
    ctx.runtime.block_on(async {
        let mut server = AServer::listen(peer, &ctx.pki, spec).await;
        let address = server.address();
        let serving = tokio::spawn(async move {
            let mut conn = server.accept().await;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = conn.recv(&mut buf).await;
                if n == 0 {
                    break;
                }
                conn.send(&buf[..n]).await;
            }
            conn.close().await;
        });
        let client = AClient::new(peer, &ctx.pki, spec);
        let mut conn = client.connect(address).await;
        let message = vec![0x42u8; size];
        let mut reply = vec![0u8; size];
        let mut rtts = Vec::with_capacity(count);
        for i in 0..count + count / 10 {
            let t = Instant::now();
            conn.send(&message).await;
            conn.recv_exact(&mut reply).await;
            if i >= count / 10 {
                rtts.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        conn.close().await;
        serving.await.expect("server task");
        rtts
    })
}

/// ping-pong: request/response round trips on one connection.
pub fn ping_pong(ctx: &Ctx) -> Collector {
    let count = if ctx.quick { 2000 } else { 10000 };
    let sizes = [64, 1024];
    let peers = all_peers(ctx);
    let mut collector = Collector::new(
        "ping-pong",
        &[
            ("sslsocket", "rustls"),
            ("sslsocket", "openssl"),
            ("sslsocket-tokio", "tokio-rustls"),
        ],
    );
    collector.note(format!(
        "{count} round trips per measurement (after {} unmeasured) on one TLS 1.3 \
         connection over 127.0.0.1; the server echoes what it reads. Stalls: round trips \
         of 30 ms or more (a Nagle / delayed-ACK stall costs about 40 ms)",
        count / 10
    ));
    let label = |size: usize| {
        if size >= 1024 {
            format!("{}KiB", size / 1024)
        } else {
            format!("{size}B")
        }
    };
    for size in sizes {
        collector.case(
            &format!("{} rtt p50", label(size)),
            "us",
            Better::Lower,
            &[
                Target::RatioAtMost("sslsocket", "rustls", 1.10),
                Target::RatioAtMost("sslsocket-tokio", "tokio-rustls", 1.10),
            ],
            true,
        );
        collector.case(
            &format!("{} rtt p99", label(size)),
            "us",
            Better::Lower,
            &[],
            false,
        );
        collector.case(
            &format!("{} stalls >= 30ms", label(size)),
            "count",
            Better::Lower,
            &[],
            false,
        );
    }
    let mut progress = Progress::new(ctx.rounds * sizes.len() * peers.len());
    for round in 0..ctx.rounds {
        for size in sizes {
            for peer in &peers {
                progress.step(&format!(
                    "ping-pong round {}/{} {} {peer}",
                    round + 1,
                    ctx.rounds,
                    label(size)
                ));
                let mut rtts = if is_tokio(peer) {
                    ping_tokio(ctx, peer, size, count)
                } else {
                    ping_blocking(ctx, peer, size, count)
                };
                let stalls = rtts
                    .iter()
                    .filter(|&&us| us >= Duration::from_millis(30).as_secs_f64() * 1e6)
                    .count();
                collector.add(
                    &format!("{} rtt p50", label(size)),
                    peer,
                    quantile(&mut rtts, 0.50),
                );
                collector.add(
                    &format!("{} rtt p99", label(size)),
                    peer,
                    quantile(&mut rtts, 0.99),
                );
                collector.add(
                    &format!("{} stalls >= 30ms", label(size)),
                    peer,
                    stalls as f64,
                );
            }
        }
    }
    progress.finish();
    collector
}
