//! Certificate revocation lists from PEM (any number) or DER (one), read
//! through webpki, with their accessors and a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sslsocket::CertificateRevocationList;
use sslsocket_fuzz::format_of;

fuzz_target!(|data: &[u8]| {
    let format = format_of(data);
    let Ok(lists) = CertificateRevocationList::from_data(data, format) else {
        return;
    };
    for list in &lists {
        let _ = (list.this_update(), list.next_update());
        let again = CertificateRevocationList::from_der(list.to_der()).expect("our DER reads back");
        assert_eq!(again.to_der(), list.to_der());
        let _ = list.to_pem();
    }
});
