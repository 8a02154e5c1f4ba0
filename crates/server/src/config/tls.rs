//! TLS settings, as Redis names them: `tls-port`, `tls-cert-file`,
//! `tls-key-file`, `tls-ca-cert-file`, `tls-ca-cert-dir`, `tls-auth-clients`,
//! `tls-protocols`, `tls-ciphersuites`, `tls-ciphers`.
//!
//! Owns their values, defaults and the words they accept. Building the
//! rustls configuration from them is `crate::tls`'s; this module never
//! reads a file.

use std::path::PathBuf;
use std::time::Duration;

/// `tls-auth-clients`: whether a client must show a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthClients {
    /// It must, signed by `tls-ca-cert-file` (Redis's default).
    #[default]
    Yes,
    /// It is not asked for one.
    No,
    /// One is asked for, and checked if shown.
    Optional,
}

impl AuthClients {
    /// Reads `yes`, `no` or `optional`, as Redis does.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "yes" => Ok(Self::Yes),
            "no" => Ok(Self::No),
            "optional" => Ok(Self::Optional),
            _ => Err("argument(s) must be one of the following: no, yes, optional".into()),
        }
    }

    /// As CONFIG GET shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Optional => "optional",
        }
    }
}

/// The TLS settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// The port clients connect to with TLS; 0 listens for none.
    pub port: u16,
    /// The server's certificate chain (PEM).
    pub cert_file: Option<PathBuf>,
    /// The server's private key (PEM).
    pub key_file: Option<PathBuf>,
    /// The certificates that sign clients' certificates (PEM).
    pub ca_cert_file: Option<PathBuf>,
    /// A directory of such certificates: every PEM file in it.
    pub ca_cert_dir: Option<PathBuf>,
    /// Whether clients must show a certificate.
    pub auth_clients: AuthClients,
    /// The protocol versions allowed (`TLSv1.2 TLSv1.3`); empty for both.
    pub protocols: String,
    /// TLS 1.3 cipher suites, by their OpenSSL names, `:`-separated;
    /// empty for every one.
    pub ciphersuites: String,
    /// TLS 1.2 ciphers, by their OpenSSL names, `:`-separated; empty for
    /// every one.
    pub ciphers: String,
    /// How long a client may take to finish its handshake before it is
    /// dropped (not a Redis setting: Redis waits forever).
    pub handshake_timeout: Duration,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            port: 0,
            cert_file: None,
            key_file: None,
            ca_cert_file: None,
            ca_cert_dir: None,
            auth_clients: AuthClients::Yes,
            protocols: String::new(),
            ciphersuites: String::new(),
            ciphers: String::new(),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// `tls-protocols`'s words: which versions a value allows, `(1.2, 1.3)`.
pub fn protocols(s: &str) -> Result<(bool, bool), String> {
    if s.trim().is_empty() {
        return Ok((true, true));
    }
    let (mut v12, mut v13) = (false, false);
    for word in s.split_whitespace() {
        match word.to_ascii_lowercase().as_str() {
            "tlsv1.2" => v12 = true,
            "tlsv1.3" => v13 = true,
            // Redis accepts the old versions; rustls has none of them.
            "tlsv1" | "tlsv1.1" => {
                return Err(format!("{word} is not supported (TLSv1.2 and TLSv1.3 are)"))
            }
            _ => return Err(format!("Invalid tls-protocols specified: {word}")),
        }
    }
    Ok((v12, v13))
}
