//! TLS: the TLS port beside the plain one, client certificates (required,
//! optional, not asked for), a certificate changed by CONFIG SET without a
//! restart, handshakes that stall or are garbage, and redis-cli's `--tls`.
//!
//! Every test makes its own certificates (rcgen): a CA, a server
//! certificate for `localhost` and 127.0.0.1 signed by it, and client
//! certificates signed by it or by another CA.

mod common;

use common::{Config, Raw, Running, TestResult};
use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem_server::config::tls::{AuthClients, Tls};

/// A certificate authority and what it signs.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Result<Ca, common::Error> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(Ca { cert, key })
    }

    /// A certificate and its key, signed by this CA, for a server (named
    /// `localhost` and 127.0.0.1) or a client.
    fn sign(&self, server: bool) -> Result<(rcgen::Certificate, KeyPair), common::Error> {
        let names = if server {
            vec!["localhost".to_string(), "127.0.0.1".to_string()]
        } else {
            Vec::new()
        };
        let mut params = CertificateParams::new(names)?;
        params.extended_key_usages = vec![if server {
            ExtendedKeyUsagePurpose::ServerAuth
        } else {
            ExtendedKeyUsagePurpose::ClientAuth
        }];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.cert, &self.key)?;
        Ok((cert, key))
    }
}

/// PEM files in a directory of their own.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn new() -> Result<Files, common::Error> {
        let dir = common::data_dir().with_extension("tls");
        std::fs::create_dir_all(&dir)?;
        Ok(Files { dir })
    }

    fn write(&self, name: &str, pem: &str) -> Result<PathBuf, common::Error> {
        let path = self.dir.join(name);
        std::fs::write(&path, pem)?;
        Ok(path)
    }
}

/// A CA, a server certificate and a client certificate, written out.
struct Setup {
    files: Files,
    ca: Ca,
    ca_file: PathBuf,
    cert_file: PathBuf,
    key_file: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn setup() -> Result<Setup, common::Error> {
    let files = Files::new()?;
    let ca = Ca::new("tandem test CA")?;
    let (server, server_key) = ca.sign(true)?;
    let (client, client_key) = ca.sign(false)?;
    Ok(Setup {
        ca_file: files.write("ca.pem", &ca.cert.pem())?,
        cert_file: files.write("server.pem", &server.pem())?,
        key_file: files.write("server.key", &server_key.serialize_pem())?,
        client_cert: files.write("client.pem", &client.pem())?,
        client_key: files.write("client.key", &client_key.serialize_pem())?,
        files,
        ca,
    })
}

/// A port nobody listens on now (the server binds it just after).
fn free_port() -> Result<u16, common::Error> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A server with a TLS port, clients' certificates asked as `auth`.
fn start(s: &Setup, auth: AuthClients) -> Result<(Running, u16), common::Error> {
    let port = free_port()?;
    let server = common::start(Config {
        tls: Tls {
            port,
            cert_file: Some(s.cert_file.clone()),
            key_file: Some(s.key_file.clone()),
            ca_cert_file: Some(s.ca_file.clone()),
            auth_clients: auth,
            handshake_timeout: Duration::from_millis(500),
            ..Tls::default()
        },
        ..common::config()
    })?;
    Ok((server, port))
}

fn pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, common::Error> {
    use rustls::pki_types::pem::PemObject;
    Ok(CertificateDer::pem_file_iter(path)?.collect::<Result<_, _>>()?)
}

/// A TLS client trusting `ca`, showing `cert` if given.
fn client(
    port: u16,
    ca: &Path,
    cert: Option<(&Path, &Path)>,
) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, common::Error> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs(ca)? {
        roots.add(c)?;
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let config = match cert {
        Some((cert, key)) => {
            builder.with_client_auth_cert(pem_certs(cert)?, PrivateKeyDer::from_pem_file(key)?)?
        }
        None => builder.with_no_client_auth(),
    };
    let conn = rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost")?)?;
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(rustls::StreamOwned::new(conn, tcp))
}

/// Sends `request` and reads one reply line (enough for these replies).
fn call(
    c: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    request: &[u8],
) -> Result<Vec<u8>, common::Error> {
    c.write_all(request)?;
    c.flush()?;
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n") {
        if c.read(&mut byte)? == 0 {
            return Err("closed".into());
        }
        got.push(byte[0]);
    }
    Ok(got)
}

#[test]
fn tls_and_plain_clients_are_served_side_by_side() -> TestResult {
    let s = setup()?;
    let (server, port) = start(&s, AuthClients::Yes)?;
    let mut tls = client(port, &s.ca_file, Some((&s.client_cert, &s.client_key)))?;
    assert_eq!(call(&mut tls, b"SET k v\r\n")?, b"+OK\r\n");
    let mut plain = Raw::connect(server.addr())?;
    plain.check(b"GET k\r\n", b"$1\r\nv\r\n")?;
    // A big reply crosses many TLS records.
    let big = "x".repeat(300_000);
    plain.send_args(&[b"SET", b"big", big.as_bytes()])?;
    plain.expect(b"+OK\r\n")?;
    tls.write_all(b"GET big\r\n")?;
    let mut reply = vec![0u8; 300_000 + 11];
    tls.read_exact(&mut reply)?;
    assert_eq!(&reply[..10], b"$300000\r\nx");
    // A pipeline in one write, answered in order.
    assert_eq!(call(&mut tls, b"PING\r\nPING\r\n")?, b"+PONG\r\n");
    assert_eq!(call(&mut tls, b"")?, b"+PONG\r\n");
    let mut info = Raw::connect(server.addr())?;
    let port_line = info.call(b"CONFIG GET tls-port\r\n")?;
    assert!(common::text(&port_line).contains(&port.to_string()));
    Ok(())
}

#[test]
fn client_certificates_are_asked_as_tls_auth_clients_says() -> TestResult {
    let s = setup()?;
    let other = Ca::new("another CA")?;
    let (stranger, stranger_key) = other.sign(false)?;
    let stranger_cert = s.files.write("stranger.pem", &stranger.pem())?;
    let stranger_key = s
        .files
        .write("stranger.key", &stranger_key.serialize_pem())?;
    // Required: no certificate, or one from another CA, is refused.
    let (_server, port) = start(&s, AuthClients::Yes)?;
    let mut without = client(port, &s.ca_file, None)?;
    assert!(call(&mut without, b"PING\r\n").is_err(), "no certificate");
    let mut stranger = client(port, &s.ca_file, Some((&stranger_cert, &stranger_key)))?;
    assert!(call(&mut stranger, b"PING\r\n").is_err(), "another CA's");
    let mut with = client(port, &s.ca_file, Some((&s.client_cert, &s.client_key)))?;
    assert_eq!(call(&mut with, b"PING\r\n")?, b"+PONG\r\n");
    // Optional: none is fine, a bad one is not.
    let (_server, port) = start(&s, AuthClients::Optional)?;
    let mut without = client(port, &s.ca_file, None)?;
    assert_eq!(call(&mut without, b"PING\r\n")?, b"+PONG\r\n");
    let mut stranger = client(port, &s.ca_file, Some((&stranger_cert, &stranger_key)))?;
    assert!(call(&mut stranger, b"PING\r\n").is_err());
    // No: none is asked for.
    let (_server, port) = start(&s, AuthClients::No)?;
    let mut without = client(port, &s.ca_file, None)?;
    assert_eq!(call(&mut without, b"PING\r\n")?, b"+PONG\r\n");
    Ok(())
}

#[test]
fn a_stalled_or_garbage_handshake_holds_up_no_one_and_is_dropped() -> TestResult {
    let s = setup()?;
    let (_server, port) = start(&s, AuthClients::No)?;
    // Silent: connected, never says hello.
    let mut silent = TcpStream::connect(("127.0.0.1", port))?;
    // Half a ClientHello: a record header promising more.
    let mut half = TcpStream::connect(("127.0.0.1", port))?;
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])?;
    // Another client is served meanwhile.
    let mut ok = client(port, &s.ca_file, None)?;
    assert_eq!(call(&mut ok, b"PING\r\n")?, b"+PONG\r\n");
    // Plain text on the TLS port is refused at once.
    let mut garbage = TcpStream::connect(("127.0.0.1", port))?;
    garbage.write_all(b"PING\r\n")?;
    assert!(closed_within(&mut garbage, Duration::from_secs(5))?);
    // The stalled ones are dropped once the handshake time is up.
    let started = Instant::now();
    assert!(closed_within(&mut silent, Duration::from_secs(10))?);
    assert!(closed_within(&mut half, Duration::from_secs(10))?);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(call(&mut ok, b"PING\r\n")?, b"+PONG\r\n");
    Ok(())
}

/// Whether the server closes `s` within `wait` (whatever it sent first,
/// an alert for instance, is read and dropped).
fn closed_within(s: &mut TcpStream, wait: Duration) -> Result<bool, common::Error> {
    s.set_read_timeout(Some(wait))?;
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(true),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[test]
fn config_set_changes_the_certificate_without_a_restart() -> TestResult {
    let s = setup()?;
    let (server, port) = start(&s, AuthClients::No)?;
    let mut before = client(port, &s.ca_file, None)?;
    assert_eq!(call(&mut before, b"PING\r\n")?, b"+PONG\r\n");
    let first = before
        .conn
        .peer_certificates()
        .and_then(|c| c.first().cloned())
        .ok_or("a certificate")?;
    let (next, next_key) = s.ca.sign(true)?;
    let next_cert = s.files.write("next.pem", &next.pem())?;
    let next_key = s.files.write("next.key", &next_key.serialize_pem())?;
    let mut admin = Raw::connect(server.addr())?;
    // A file that is not there changes nothing, with Redis's words.
    // Redis names the setting itself, whatever case it was typed in.
    admin.check(
        b"CONFIG SET TLS-Cert-File /no/such/file.pem\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.\r\n",
    )?;
    admin.check(
        b"CONFIG SET tls-cert-file /no/such/file.pem\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs.\r\n",
    )?;
    let same = client(port, &s.ca_file, None)?;
    let mut same = same;
    assert_eq!(call(&mut same, b"PING\r\n")?, b"+PONG\r\n");
    assert_eq!(
        same.conn
            .peer_certificates()
            .and_then(|c| c.first().cloned()),
        Some(first.clone())
    );
    let set = format!(
        "CONFIG SET tls-cert-file {} tls-key-file {}\r\n",
        next_cert.display(),
        next_key.display()
    );
    admin.check(set.as_bytes(), b"+OK\r\n")?;
    let mut after = client(port, &s.ca_file, None)?;
    assert_eq!(call(&mut after, b"PING\r\n")?, b"+PONG\r\n");
    let now = after
        .conn
        .peer_certificates()
        .and_then(|c| c.first().cloned())
        .ok_or("a certificate")?;
    assert_ne!(now, first, "new handshakes get the new certificate");
    assert_eq!(now.as_ref(), next.der().as_ref());
    // The connection made before is still served.
    assert_eq!(call(&mut before, b"PING\r\n")?, b"+PONG\r\n");
    Ok(())
}

#[test]
fn redis_cli_speaks_tls_to_it() -> TestResult {
    if std::process::Command::new("redis-cli")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("TANDEM_REQUIRE_REDIS").is_none(),
            "redis-cli is required"
        );
        eprintln!("redis-cli not installed: skipped");
        return Ok(());
    }
    let s = setup()?;
    let (_server, port) = start(&s, AuthClients::Yes)?;
    let cli = |cert: bool, args: &[&str]| -> Result<String, common::Error> {
        let mut cmd = std::process::Command::new("redis-cli");
        cmd.args(["--tls", "-h", "localhost", "-p", &port.to_string()])
            .arg("--cacert")
            .arg(&s.ca_file);
        if cert {
            cmd.arg("--cert")
                .arg(&s.client_cert)
                .arg("--key")
                .arg(&s.client_key);
        }
        let out = cmd.args(args).output()?;
        Ok(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    };
    assert_eq!(cli(true, &["SET", "k", "v"])?.trim(), "OK");
    assert_eq!(cli(true, &["GET", "k"])?.trim(), "v");
    // Without its certificate, mutual TLS refuses it.
    let refused = cli(false, &["PING"])?;
    assert!(!refused.contains("PONG"), "{refused}");
    Ok(())
}

#[test]
fn bad_tls_settings_stop_the_start() -> TestResult {
    let s = setup()?;
    let base = Tls {
        port: free_port()?,
        cert_file: Some(s.cert_file.clone()),
        key_file: Some(s.key_file.clone()),
        ca_cert_file: Some(s.ca_file.clone()),
        ..Tls::default()
    };
    let bad = [
        Tls {
            key_file: Some(s.client_key.clone()),
            ..base.clone()
        },
        Tls {
            ciphersuites: "TLS_NO_SUCH_SUITE".into(),
            ..base.clone()
        },
        Tls {
            ca_cert_file: None,
            ..base.clone()
        },
    ];
    for tls in bad {
        let started = common::start(Config {
            tls: tls.clone(),
            ..common::config()
        });
        assert!(started.is_err(), "{tls:?} must not start");
    }
    // TLS 1.3 only, one suite: a TLS 1.2 client is refused.
    let (_server, port) = {
        let port = free_port()?;
        let server = common::start(Config {
            tls: Tls {
                port,
                protocols: "TLSv1.3".into(),
                ciphersuites: "TLS_AES_256_GCM_SHA384".into(),
                auth_clients: AuthClients::No,
                ..base.clone()
            },
            ..common::config()
        })?;
        (server, port)
    };
    let mut roots = rustls::RootCertStore::empty();
    for c in pem_certs(&s.ca_file)? {
        roots.add(c)?;
    }
    let old = rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS12])
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(old), ServerName::try_from("localhost")?)?;
    let tcp = TcpStream::connect(("127.0.0.1", port))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut c = rustls::StreamOwned::new(conn, tcp);
    assert!(call(&mut c, b"PING\r\n").is_err());
    let mut modern = client(port, &s.ca_file, None)?;
    assert_eq!(call(&mut modern, b"PING\r\n")?, b"+PONG\r\n");
    assert_eq!(
        modern.conn.negotiated_cipher_suite().map(|s| s.suite()),
        Some(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384)
    );
    Ok(())
}

#[test]
fn without_a_tls_port_the_tls_settings_are_only_kept() -> TestResult {
    // As in Redis: no file is read while there is no TLS port.
    let server = common::start(common::config())?;
    let mut c = Raw::connect(server.addr())?;
    c.check(b"CONFIG SET tls-cert-file /no/such.pem\r\n", b"+OK\r\n")?;
    c.check(
        b"CONFIG GET tls-cert-file\r\n",
        b"*2\r\n$13\r\ntls-cert-file\r\n$12\r\n/no/such.pem\r\n",
    )?;
    c.check(
        b"CONFIG SET tls-port 6390\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'tls-port') - can't set immutable config\r\n",
    )?;
    c.check(
        b"CONFIG SET tls-auth-clients maybe\r\n",
        b"-ERR CONFIG SET failed (possibly related to argument 'tls-auth-clients') - argument(s) must be one of the following: no, yes, optional\r\n",
    )?;
    Ok(())
}

#[test]
fn a_ca_directory_checks_clients_certificates() -> TestResult {
    let s = setup()?;
    let dir = s.files.dir.join("ca.d");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("ca.pem"), s.ca.cert.pem())?;
    // Not a certificate: skipped, as OpenSSL skips what it cannot read.
    std::fs::write(dir.join("README"), "CA certificates for clients\n")?;
    let other = Ca::new("another CA")?;
    let (stranger, stranger_key) = other.sign(false)?;
    let stranger_cert = s.files.write("stranger-dir.pem", &stranger.pem())?;
    let stranger_key = s
        .files
        .write("stranger-dir.key", &stranger_key.serialize_pem())?;
    let port = free_port()?;
    let tls = Tls {
        port,
        cert_file: Some(s.cert_file.clone()),
        key_file: Some(s.key_file.clone()),
        ca_cert_dir: Some(dir.clone()),
        handshake_timeout: Duration::from_millis(500),
        ..Tls::default()
    };
    let server = common::start(Config {
        tls: tls.clone(),
        ..common::config()
    })?;
    let mut with = client(port, &s.ca_file, Some((&s.client_cert, &s.client_key)))?;
    assert_eq!(call(&mut with, b"PING\r\n")?, b"+PONG\r\n");
    let mut without = client(port, &s.ca_file, None)?;
    assert!(call(&mut without, b"PING\r\n").is_err(), "no certificate");
    let mut stranger = client(port, &s.ca_file, Some((&stranger_cert, &stranger_key)))?;
    assert!(call(&mut stranger, b"PING\r\n").is_err(), "another CA's");
    let mut plain = Raw::connect(server.addr())?;
    let got = plain.call(b"CONFIG GET tls-ca-cert-dir\r\n")?;
    assert!(common::text(&got).contains(&dir.display().to_string()));
    // A directory without a certificate stops the start.
    let empty = s.files.dir.join("empty.d");
    std::fs::create_dir_all(&empty)?;
    let started = common::start(Config {
        tls: Tls {
            port: free_port()?,
            ca_cert_dir: Some(empty),
            ..tls
        },
        ..common::config()
    });
    assert!(started.is_err(), "an empty CA directory must not start");
    Ok(())
}
