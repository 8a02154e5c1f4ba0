//! TLS with rustls: the server's configuration built from the `tls-*`
//! settings (certificate and key, the client CA, whether clients must
//! show a certificate, protocol versions, cipher suites), and the
//! handshake of an accepted connection.
//!
//! Owns reading the PEM files and the cipher names Redis's users write
//! (OpenSSL's). The configuration is built whole and swapped in (at
//! start-up, and by CONFIG SET of a `tls-*` file setting, Redis's
//! certificate rotation): connections already up keep theirs. It never
//! serves requests: a connection after its handshake is a `Socket` like
//! any other (`socket.rs`, `tls/stream.rs`).

pub mod stream;

use crate::config::tls::{protocols, AuthClients, Tls};
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite};
use std::path::Path;
use std::sync::Arc;

/// The OpenSSL names of the cipher suites rustls offers, as Redis's
/// `tls-ciphersuites` (TLS 1.3) and `tls-ciphers` (TLS 1.2) name them.
const NAMES: &[(&str, rustls::CipherSuite)] = &[
    (
        "TLS_AES_128_GCM_SHA256",
        rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
];

/// The suites of one TLS version a setting keeps: all of them when it is
/// empty, else those it names (each must be known).
fn pick(
    all: &[SupportedCipherSuite],
    setting: &str,
    tls13: bool,
    name: &str,
) -> Result<Vec<SupportedCipherSuite>, String> {
    let of_version = all.iter().filter(|s| s.tls13().is_some() == tls13);
    if setting.trim().is_empty() {
        return Ok(of_version.copied().collect());
    }
    let mut kept = Vec::new();
    for word in setting.split(':').map(str::trim).filter(|w| !w.is_empty()) {
        let suite = NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(word))
            .map(|&(_, s)| s)
            .ok_or_else(|| format!("{name}: unknown or unsupported cipher '{word}'"))?;
        let found = all
            .iter()
            .find(|s| s.suite() == suite && s.tls13().is_some() == tls13)
            .ok_or_else(|| format!("{name}: '{word}' is not a suite of this TLS version"))?;
        kept.push(*found);
    }
    Ok(kept)
}

/// The CA certificates clients' certificates are checked against: those
/// of `tls-ca-cert-file` and of every PEM file in `tls-ca-cert-dir`
/// (OpenSSL's hashed names link to them: the same certificate twice is
/// harmless). A file in the directory that holds no certificate is
/// skipped; a directory with none at all is an error.
fn client_roots(tls: &Tls) -> Result<RootCertStore, String> {
    if tls.ca_cert_file.is_none() && tls.ca_cert_dir.is_none() {
        return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-auth-clients is enabled".into());
    }
    let mut roots = RootCertStore::empty();
    if let Some(file) = &tls.ca_cert_file {
        for cert in certs(file)? {
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", file.display()))?;
        }
    }
    if let Some(dir) = &tls.ca_cert_dir {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut found = 0;
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
            if !path.is_file() {
                continue;
            }
            // A certificate webpki cannot take is skipped, as a file that
            // holds none is.
            let (added, _) = roots.add_parsable_certificates(certs(&path).unwrap_or_default());
            found += added;
        }
        if found == 0 {
            return Err(format!("{}: no CA certificate in it", dir.display()));
        }
    }
    Ok(roots)
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", path.display()));
    }
    Ok(certs)
}

/// The server's TLS configuration for `tls`, or why it cannot be built
/// (a file missing or unreadable, a key that does not match, an unknown
/// cipher or protocol).
pub fn server_config(tls: &Tls) -> Result<Arc<ServerConfig>, String> {
    let cert_file = tls.cert_file.as_ref().ok_or("tls-cert-file is not set")?;
    let key_file = tls.key_file.as_ref().ok_or("tls-key-file is not set")?;
    let chain = certs(cert_file)?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("{}: {e}", key_file.display()))?;
    let (v12, v13) = protocols(&tls.protocols)?;
    // ring, not aws-lc-rs: it builds with the C compiler alone (no cmake),
    // which is what a fresh machine has. rustls marks it deprecated only
    // for lacking post-quantum key exchange.
    #[allow(deprecated)]
    let base = ring::default_provider();
    let mut suites = Vec::new();
    if v13 {
        suites.extend(pick(
            &base.cipher_suites,
            &tls.ciphersuites,
            true,
            "tls-ciphersuites",
        )?);
    }
    if v12 {
        suites.extend(pick(
            &base.cipher_suites,
            &tls.ciphers,
            false,
            "tls-ciphers",
        )?);
    }
    if suites.is_empty() {
        return Err("no cipher suite is left for the protocols allowed".into());
    }
    let provider = Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..base
    });
    let mut versions = Vec::new();
    if v12 {
        versions.push(&rustls::version::TLS12);
    }
    if v13 {
        versions.push(&rustls::version::TLS13);
    }
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let builder = match tls.auth_clients {
        AuthClients::No => builder.with_no_client_auth(),
        auth => {
            let roots = client_roots(tls)?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if auth == AuthClients::Optional {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| e.to_string())?)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and key do not go together: {e}"))?;
    Ok(Arc::new(config))
}
