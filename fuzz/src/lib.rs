//! What the fuzz targets share: a test PKI made once per process, a
//! transport whose peer is a script (raw bytes, or a real rustls peer acting
//! on the fuzzer's orders), and the interpreter that drives an `SslSocket`
//! over it.
//!
//! Everything is deterministic for a given input: the transport never
//! blocks; a read is answered from what the peer has sent, or by carrying
//! out the peer's next scripted step, or with end of file when the script is
//! over. So a wait can only end by progress, an error or end of file, and a
//! wait that spins instead shows up as a libFuzzer timeout.

pub mod fixture;
pub mod session;
pub mod wire;

/// A generous bound for every wait: nothing here really waits, so reaching
/// it means a wait that does not end, which libFuzzer's `-timeout` reports.
pub const WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The format a parser target reads `data` in: PEM when the input starts
/// with a dash (so that mutations of the armour still reach the PEM
/// reader), else DER.
pub fn format_of(data: &[u8]) -> sslsocket::EncodingFormat {
    if data.first() == Some(&b'-') {
        sslsocket::EncodingFormat::Pem
    } else {
        sslsocket::EncodingFormat::Der
    }
}
