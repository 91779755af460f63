//! `KnownHosts` with both sockets and a self-signed device, the case trust
//! on first use is for: the pinned certificate gets through its own errors
//! (bound to it, through `on_ssl_errors`), and a different certificate for
//! the same peer fails the handshake and is refused by the check after it,
//! with both fingerprints.

mod common;

use common::memory::{self, both, configuration_with_identity, within, GUARD, SERVER_NAME, WAIT};
use common::pki::{AsSslCertificate, Identity, Leaf, LeafSpec};
use sslsocket::certificate::DigestAlgorithm;
use sslsocket::configuration::SslConfiguration;
use sslsocket::{Error, KnownHosts, Pin, PinCheck, SslCertificate, SslSocket};

const PORT: u16 = 4433;

fn device() -> Leaf {
    Identity::self_signed(&LeafSpec {
        common_name: SERVER_NAME,
        dns: &[SERVER_NAME],
        ..LeafSpec::default()
    })
}

fn device_configuration(device: &Leaf) -> SslConfiguration {
    configuration_with_identity(vec![device.certificate()], device)
}

/// A client that trusts an unrelated root: a self-signed device has errors
/// for it, which only its pin gets past.
fn client_configuration() -> SslConfiguration {
    let mut configuration = SslConfiguration::new();
    configuration.set_ca_certificates(vec![Identity::new("Unrelated Root").certificate()]);
    configuration.set_peer_verify_name(Some(SERVER_NAME.to_owned()));
    configuration
}

/// Known hosts in a fresh directory with `pinned` recorded for the peer,
/// as another process reads them.
fn known_hosts_pinning(pinned: &SslCertificate) -> (tempfile::TempDir, KnownHosts, Pin) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("known_hosts");
    KnownHosts::load(&path)
        .unwrap()
        .record(SERVER_NAME, PORT, pinned)
        .unwrap();
    let hosts = KnownHosts::load(&path).unwrap();
    let pin = hosts.pin(SERVER_NAME, PORT).expect("recorded").clone();
    (dir, hosts, pin)
}

fn colon_hex(certificate: &SslCertificate) -> String {
    let digest = certificate.digest(DigestAlgorithm::Sha256);
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// Checks one handshake's outcome against the pin: through for the pinned
/// device, refused (handshake and check) for `presented` otherwise.
fn assert_pinning(
    hosts: &KnownHosts,
    pinned: &SslCertificate,
    presented: &SslCertificate,
    connected: sslsocket::Result<()>,
    chain: &[SslCertificate],
) {
    let check = hosts.check(SERVER_NAME, PORT, chain.first().expect("a presented leaf"));
    if presented == pinned {
        connected.expect("the pinned certificate's errors are ignored");
        assert!(matches!(check, Ok(PinCheck::Pinned(_))), "{check:?}");
        return;
    }
    assert!(
        matches!(connected, Err(Error::VerificationFailed { .. })),
        "{connected:?}"
    );
    match check {
        Err(error @ Error::PinnedCertificateChanged { .. }) => {
            let message = error.to_string();
            for certificate in [pinned, presented] {
                assert!(message.contains(&colon_hex(certificate)), "{message}");
            }
        }
        other => panic!("the changed certificate was not refused: {other:?}"),
    }
}

#[test]
fn the_blocking_socket_connects_to_its_pinned_device_only() {
    within(GUARD, || {
        let pinned_device = device();
        let pinned = pinned_device.certificate();
        let (_dir, hosts, pin) = known_hosts_pinning(&pinned);
        for server_device in [&pinned_device, &device()] {
            let (client_end, server_end) = memory::pair();
            let mut client =
                SslSocket::from_stream_with_configuration(client_end, client_configuration());
            let pin = pin.clone();
            client.on_ssl_errors(move |errors| pin.ssl_errors_decision(errors));
            client.start_client_encryption().unwrap();
            let mut server = SslSocket::from_stream_with_configuration(
                server_end,
                device_configuration(server_device),
            );
            server.start_server_encryption().unwrap();
            let (connected, _) = both(
                || client.wait_for_encrypted(Some(WAIT)),
                || server.wait_for_encrypted(Some(WAIT)),
            );
            let chain = client.peer_certificate_chain();
            assert_pinning(
                &hosts,
                &pinned,
                &server_device.certificate(),
                connected,
                &chain,
            );
        }
    });
}

#[cfg(feature = "tokio")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tokio_socket_connects_to_its_pinned_device_only() {
    use sslsocket::tokio::SslSocket;

    let pinned_device = device();
    let pinned = pinned_device.certificate();
    let (_dir, hosts, pin) = known_hosts_pinning(&pinned);
    for server_device in [&pinned_device, &device()] {
        let (client_end, server_end) = tokio::io::duplex(64 * 1024);
        let mut client =
            SslSocket::from_stream_with_configuration(client_end, client_configuration());
        let pin = pin.clone();
        client.on_ssl_errors(move |errors| pin.ssl_errors_decision(errors));
        client.start_client_encryption().unwrap();
        let mut server = SslSocket::from_stream_with_configuration(
            server_end,
            device_configuration(server_device),
        );
        server.start_server_encryption().unwrap();
        let (connected, _) = tokio::join!(
            client.wait_for_encrypted(Some(WAIT)),
            server.wait_for_encrypted(Some(WAIT))
        );
        let chain = client.peer_certificate_chain();
        assert_pinning(
            &hosts,
            &pinned,
            &server_device.certificate(),
            connected,
            &chain,
        );
    }
}
