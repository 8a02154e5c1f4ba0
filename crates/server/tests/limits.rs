//! Limits and security: `requirepass` (AUTH, HELLO ... AUTH, what is
//! allowed before authenticating), `maxclients`, the idle `timeout`,
//! `client-query-buffer-limit`, protected mode (clients from a non-loopback
//! address), and SHUTDOWN (replies already due are delivered, every
//! connection closes, and the server's thread finishes).
//!
//! Expected replies are the bytes Redis 7.0.15 sends in the same case,
//! except where a comment says Tandem differs on purpose.

mod common;

use common::{Config, Raw, TestResult};
use std::net::{IpAddr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";
const WRONGPASS: &[u8] = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";

fn with_password() -> Config {
    Config {
        requirepass: Some("secret".into()),
        ..common::config()
    }
}

#[test]
fn requirepass_refuses_commands_until_auth() -> TestResult {
    let server = common::start(with_password())?;
    let mut c = Raw::connect(server.addr())?;
    let cases: &[(&[u8], &[u8])] = &[
        (b"PING\r\n", NOAUTH),
        (b"GET k\r\n", NOAUTH),
        (b"SET k v\r\n", NOAUTH),
        (b"CONFIG GET requirepass\r\n", NOAUTH),
        (b"SHUTDOWN\r\n", NOAUTH),
        // Unknown commands and wrong arity are found before the password
        // check, as in Redis.
        (
            b"FOO\r\n",
            b"-ERR unknown command 'FOO', with args beginning with: \r\n",
        ),
        (
            b"GET\r\n",
            b"-ERR wrong number of arguments for 'get' command\r\n",
        ),
        // Wrong passwords and users.
        (b"AUTH wrong\r\n", WRONGPASS),
        (b"AUTH default wrong\r\n", WRONGPASS),
        (b"AUTH nouser secret\r\n", WRONGPASS),
        (b"AUTH \"\"\r\n", WRONGPASS),
        (b"HELLO 3 AUTH default wrong\r\n", WRONGPASS),
        (b"HELLO 2 AUTH nouser secret\r\n", WRONGPASS),
        (
            b"AUTH\r\n",
            b"-ERR wrong number of arguments for 'auth' command\r\n",
        ),
        (b"AUTH a b c\r\n", b"-ERR syntax error\r\n"),
        // None of that authenticated, nor switched to RESP3.
        (b"GET k\r\n", NOAUTH),
        (b"AUTH secret\r\n", b"+OK\r\n"),
        (b"PING\r\n", b"+PONG\r\n"),
        (b"SET k v\r\n", b"+OK\r\n"),
        (b"GET k\r\n", b"$1\r\nv\r\n"),
        // A wrong AUTH later does not log the client out.
        (b"AUTH wrong\r\n", WRONGPASS),
        (b"GET k\r\n", b"$1\r\nv\r\n"),
        // RESET does.
        (b"RESET\r\n", b"+RESET\r\n"),
        (b"GET k\r\n", NOAUTH),
        (b"AUTH default secret\r\n", b"+OK\r\n"),
        (b"GET k\r\n", b"$1\r\nv\r\n"),
    ];
    for (request, reply) in cases {
        c.check(request, reply)
            .map_err(|e| format!("{}: {e}", common::text(request)))?;
    }
    // QUIT needs no password.
    let mut c = Raw::connect(server.addr())?;
    c.send(b"QUIT\r\n")?;
    c.expect_then_closed(b"+OK\r\n")?;
    // Each connection authenticates on its own.
    let mut c = Raw::connect(server.addr())?;
    c.check(b"GET k\r\n", NOAUTH)
}

#[test]
fn hello_3_auth_authenticates_and_switches_protocol() -> TestResult {
    let server = common::start(with_password())?;
    let mut c = Raw::connect(server.addr())?;
    c.send(b"HELLO 3 AUTH default secret SETNAME app\r\n")?;
    let hello = c.reply()?;
    assert!(
        hello.starts_with(b"%7\r\n$6\r\nserver\r\n$6\r\ntandem\r\n"),
        "{}",
        common::text(&hello)
    );
    c.check(b"GET nokey\r\n", b"_\r\n")?;
    c.check(b"SET k v\r\n", b"+OK\r\n")?;
    // HELLO 2 with the password again, back to RESP2.
    c.send(b"HELLO 2 AUTH default secret\r\n")?;
    let hello = c.reply()?;
    assert!(hello.starts_with(b"*14\r\n"), "{}", common::text(&hello));
    c.check(b"GET nokey\r\n", b"$-1\r\n")
}

#[test]
fn hello_before_auth_is_refused_without_auth() -> TestResult {
    // HELLO is allowed before AUTH only with its AUTH option; its NOAUTH
    // text is checked (prefix) here, and in full in the ignored test below.
    let server = common::start(with_password())?;
    let mut c = Raw::connect(server.addr())?;
    for request in [&b"HELLO 3\r\n"[..], b"HELLO\r\n", b"HELLO 3 SETNAME x\r\n"] {
        let reply = c.call(request)?;
        assert!(
            reply
                .starts_with(b"-NOAUTH HELLO must be called with the client already authenticated"),
            "{}",
            common::text(&reply)
        );
    }
    // Still RESP2 and unauthenticated.
    c.check(b"GET k\r\n", NOAUTH)
}

#[test]
fn hello_before_auth_has_redis_7_0_noauth_text() -> TestResult {
    let server = common::start(with_password())?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        b"HELLO 3\r\n",
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
    )
}

#[test]
fn auth_without_a_password_configured() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let cases: &[(&[u8], &[u8])] = &[
        (b"PING\r\n", b"+PONG\r\n"),
        (
            b"AUTH anything\r\n",
            b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
        ),
        // The default user has no password: any password is accepted for
        // it, and only for it.
        (b"AUTH default anything\r\n", b"+OK\r\n"),
        (b"AUTH nouser anything\r\n", WRONGPASS),
        (b"PING\r\n", b"+PONG\r\n"),
    ];
    for (request, reply) in cases {
        c.check(request, reply)
            .map_err(|e| format!("{}: {e}", common::text(request)))?;
    }
    Ok(())
}

/// Connects and checks the server admits the client.
fn admitted(server: SocketAddr) -> Result<Raw, common::Error> {
    let mut c = Raw::connect(server)?;
    c.check(b"PING\r\n", b"+PONG\r\n")?;
    Ok(c)
}

#[test]
fn maxclients_refuses_the_client_over_the_limit() -> TestResult {
    let server = common::start(Config {
        maxclients: 5,
        ..common::config()
    })?;
    let mut clients = (0..5)
        .map(|_| admitted(server.addr()))
        .collect::<Result<Vec<_>, _>>()?;
    // The sixth is told why, and closed, whatever it sends.
    let mut sixth = Raw::connect(server.addr())?;
    sixth.expect_then_closed(b"-ERR max number of clients reached\r\n")?;
    let mut seventh = Raw::connect(server.addr())?;
    seventh.send(b"PING\r\n")?;
    seventh.expect_then_closed(b"-ERR max number of clients reached\r\n")?;
    // Refused clients do not take a place: the five still work.
    for c in &mut clients {
        c.check(b"PING\r\n", b"+PONG\r\n")?;
    }
    // Once one leaves, a new client is admitted (as soon as the server
    // has seen the close).
    drop(clients.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    let newcomer = loop {
        let mut c = Raw::connect(server.addr())?;
        let reply = c.call(b"PING\r\n")?;
        if reply == b"+PONG\r\n" {
            break c;
        }
        assert_eq!(
            common::text(&reply),
            common::text(b"-ERR max number of clients reached\r\n")
        );
        assert!(Instant::now() < deadline, "no place freed after a close");
        std::thread::sleep(Duration::from_millis(20));
    };
    clients.push(newcomer);
    // And the limit holds again.
    let mut over = Raw::connect(server.addr())?;
    over.expect_then_closed(b"-ERR max number of clients reached\r\n")
}

#[test]
fn idle_clients_are_closed_after_timeout() -> TestResult {
    let server = common::start(Config {
        timeout: 1,
        ..common::config()
    })?;
    let started = Instant::now();
    let mut idle = admitted(server.addr())?;
    // A client part-way through a request is idle too.
    let mut partial = admitted(server.addr())?;
    partial.send(b"*2\r\n$4\r\nECHO\r\n")?;
    // A client that keeps talking stays: it sends a PING at least every
    // 200 ms or so while the others are watched for their close.
    let mut busy = admitted(server.addr())?;
    let (mut idle_closed, mut partial_closed) = (None, None);
    while idle_closed.is_none() || partial_closed.is_none() {
        for (c, closed) in [
            (&mut idle, &mut idle_closed),
            (&mut partial, &mut partial_closed),
        ] {
            if closed.is_none() && c.closed_within(Duration::from_millis(100))? {
                *closed = Some(started.elapsed());
            }
        }
        busy.check(b"PING\r\n", b"+PONG\r\n")?;
        assert!(
            started.elapsed() < common::TIMEOUT,
            "idle clients kept: idle {idle_closed:?}, partial {partial_closed:?}"
        );
    }
    // Not before their second was up: each was last heard from after
    // `started`, so a close seen sooner than this came too early.
    for closed in [idle_closed, partial_closed] {
        let at = closed.ok_or("not closed")?;
        assert!(at >= Duration::from_millis(950), "closed after {at:?}");
    }
    busy.check(b"PING\r\n", b"+PONG\r\n")
}

#[test]
fn timeout_zero_never_closes() -> TestResult {
    let server = common::start_default()?;
    let mut c = admitted(server.addr())?;
    // A witness on a server with a 1 s timeout: once it has been closed
    // for idling, `c` has idled longer than any timeout could be, so its
    // PING shows that timeout 0 closes nothing (no fixed wait needed).
    let witness_server = common::start(Config {
        timeout: 1,
        ..common::config()
    })?;
    let mut witness = admitted(witness_server.addr())?;
    assert!(witness.closed_within(common::TIMEOUT)?, "witness kept");
    c.check(b"PING\r\n", b"+PONG\r\n")
}

/// Sends `bytes` in pieces, stopping quietly if the server closes the
/// connection meanwhile (that is what the caller expects).
fn send_until_closed(c: &mut Raw, bytes: &[u8]) {
    for piece in bytes.chunks(64 * 1024) {
        if c.send(piece).is_err() {
            return;
        }
    }
}

#[test]
fn a_request_beyond_the_query_buffer_limit_is_disconnected() -> TestResult {
    let server = common::start(Config {
        client_query_buffer_limit: 1 << 20,
        ..common::config()
    })?;
    // An unterminated request for a 100 MB value, 3 MB of it sent: the
    // server stops buffering past 1 MB and closes, without a reply (as
    // Redis does).
    let mut c = Raw::connect(server.addr())?;
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n")?;
    send_until_closed(&mut c, &vec![b'x'; 3 << 20]);
    assert_eq!(common::text(&c.read_until_closed()?), "");
    // Many arguments of a request that never ends, the same.
    let mut c = Raw::connect(server.addr())?;
    c.send(b"*1000000\r\n")?;
    let mut args = Vec::new();
    for _ in 0..100_000 {
        args.extend_from_slice(b"$20\r\naaaaaaaaaaaaaaaaaaaa\r\n");
    }
    send_until_closed(&mut c, &args);
    assert_eq!(common::text(&c.read_until_closed()?), "");
    // Requests within the limit are fine, and the server still serves.
    let mut c = Raw::connect(server.addr())?;
    let mut request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$900000\r\n".to_vec();
    request.extend(vec![b'v'; 900_000]);
    request.extend_from_slice(b"\r\n");
    c.check(&request, b"+OK\r\n")?;
    c.check(b"STRLEN k\r\n", b":900000\r\n")
}

/// An address of this machine that is not loopback, if it has one: the
/// source address the kernel picks for a route off the machine. (A UDP
/// connect sends nothing.)
fn non_loopback_ipv4() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn protected_mode_refuses_remote_clients_without_a_password() -> TestResult {
    let Some(ip) = non_loopback_ipv4() else {
        println!("note: no non-loopback IPv4 address here; protected mode not tested");
        return Ok(());
    };
    let everywhere = Config {
        bind: "0.0.0.0".into(),
        ..common::config()
    };
    let server = common::start(everywhere.clone())?;
    let remote = SocketAddr::new(ip, server.addr().port());
    // Connecting to our own non-loopback address makes the connection come
    // from it, not from 127.0.0.1.
    let mut c = Raw::connect(remote)?;
    if c.local_addr()?.ip().is_loopback() {
        println!("note: {ip} connects from loopback; protected mode not tested");
        return Ok(());
    }
    let reply = c.read_until_closed()?;
    // Redis's text, naming Tandem instead of Redis.
    assert!(
        reply.starts_with(b"-DENIED Tandem is running in protected mode because protected mode is enabled and no password is set for the default user."),
        "{}",
        common::text(&reply)
    );
    assert!(reply.ends_with(b"\r\n") && reply.iter().filter(|&&b| b == b'\n').count() == 1);
    // Loopback clients are served.
    let local = SocketAddr::new("127.0.0.1".parse()?, server.addr().port());
    admitted(local)?;
    drop(server);
    // With a password, remote clients are admitted (and must AUTH).
    let server = common::start(Config {
        requirepass: Some("secret".into()),
        ..everywhere.clone()
    })?;
    let mut c = Raw::connect(SocketAddr::new(ip, server.addr().port()))?;
    c.check(b"PING\r\n", NOAUTH)?;
    c.check(b"AUTH secret\r\nPING\r\n", b"+OK\r\n+PONG\r\n")?;
    drop(server);
    // With protected mode off, they are admitted as they are.
    let server = common::start(Config {
        protected_mode: false,
        ..everywhere
    })?;
    admitted(SocketAddr::new(ip, server.addr().port()))?;
    Ok(())
}

/// Whether a new client can still reach `addr`: refused outright, or
/// closed before it is served, counts as not.
fn reachable(addr: SocketAddr) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    drop(stream);
    match Raw::connect(addr) {
        Ok(mut c) => c.call(b"PING\r\n").is_ok_and(|r| r == b"+PONG\r\n"),
        Err(_) => false,
    }
}

#[test]
fn shutdown_delivers_pending_replies_then_stops() -> TestResult {
    let server = common::start_default()?;
    let addr = server.addr();
    // An idle client, and one part-way through a request.
    let mut idle = admitted(addr)?;
    let mut partial = admitted(addr)?;
    partial.send(b"*2\r\n$4\r\nECHO\r\n")?;
    // Replies to everything before SHUTDOWN arrive; SHUTDOWN itself has
    // none (as in Redis), and nothing after it runs. (Redis 7.0 exits
    // without flushing these replies; Tandem delivers them.)
    let mut c = admitted(addr)?;
    let mut pipeline = b"SET a 1\r\n".to_vec();
    let mut expected = b"+OK\r\n".to_vec();
    for i in 2..=1000 {
        pipeline.extend_from_slice(b"INCR a\r\n");
        expected.extend_from_slice(format!(":{i}\r\n").as_bytes());
    }
    pipeline.extend_from_slice(b"SHUTDOWN\r\nSET b 1\r\n");
    c.send(&pipeline)?;
    c.expect_then_closed(&expected)?;
    // Every other connection closes, and the server's thread ends.
    assert!(
        idle.closed_within(Duration::from_secs(5))?,
        "idle client kept"
    );
    assert!(
        partial.closed_within(Duration::from_secs(5))?,
        "partial client kept"
    );
    let started = Instant::now();
    server.stop()?;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        started.elapsed()
    );
    assert!(!reachable(addr), "still accepting after SHUTDOWN");
    Ok(())
}

#[test]
fn shutdown_options_and_errors() -> TestResult {
    let server = common::start(with_password())?;
    let mut c = Raw::connect(server.addr())?;
    // Not before AUTH, nor with bad options; the server keeps running.
    c.check(b"SHUTDOWN\r\n", NOAUTH)?;
    c.check(b"AUTH secret\r\n", b"+OK\r\n")?;
    let cases: &[(&[u8], &[u8])] = &[
        (b"SHUTDOWN foo\r\n", b"-ERR syntax error\r\n"),
        (
            b"SHUTDOWN NOSAVE NOW FORCE foo\r\n",
            b"-ERR syntax error\r\n",
        ),
        (b"SHUTDOWN ABORT\r\n", b"-ERR No shutdown in progress.\r\n"),
        (b"PING\r\n", b"+PONG\r\n"),
    ];
    for (request, reply) in cases {
        c.check(request, reply)
            .map_err(|e| format!("{}: {e}", common::text(request)))?;
    }
    // With every option Redis accepts, it shuts down.
    c.send(b"SHUTDOWN NOSAVE NOW FORCE\r\n")?;
    c.expect_then_closed(b"")?;
    server.stop()?;
    Ok(())
}

#[test]
fn shutdown_with_conflicting_options_is_a_syntax_error() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let cases: &[(&[u8], &[u8])] = &[
        (b"SHUTDOWN SAVE ABORT\r\n", b"-ERR syntax error\r\n"),
        (b"SHUTDOWN ABORT foo\r\n", b"-ERR syntax error\r\n"),
        (b"SHUTDOWN NOW ABORT\r\n", b"-ERR syntax error\r\n"),
        (b"SHUTDOWN NOSAVE SAVE\r\n", b"-ERR syntax error\r\n"),
        (b"PING\r\n", b"+PONG\r\n"),
    ];
    for (request, reply) in cases {
        c.check(request, reply)
            .map_err(|e| format!("{}: {e}", common::text(request)))?;
    }
    Ok(())
}

#[test]
fn dropping_the_server_closes_every_client() -> TestResult {
    // What embedders and these tests rely on: dropping `Running` shuts
    // the server down and waits for it, busy clients and all.
    let server = common::start_default()?;
    let addr = server.addr();
    let mut idle = admitted(addr)?;
    let mut claimed = admitted(addr)?;
    claimed.send(b"*2\r\n$3\r\nGET\r\n$536870912\r\nabc")?;
    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "drop took {:?}",
        started.elapsed()
    );
    assert!(idle.closed_within(Duration::from_secs(1))?);
    assert!(claimed.closed_within(Duration::from_secs(1))?);
    assert!(!reachable(addr));
    Ok(())
}

#[test]
fn a_normal_client_s_output_limit_counts_beyond_redis_s_reply_buffer() -> TestResult {
    // Redis 7.0.15 with `normal 1000 0 0`: a 3000-byte reply goes out (its
    // 16 KB reply buffer is never counted), a 30000-byte one closes the
    // client.
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(
        &common::encode(&[
            b"CONFIG",
            b"SET",
            b"client-output-buffer-limit",
            b"normal 1000 0 0",
        ]),
        b"+OK\r\n",
    )?;
    let small = vec![b'x'; 3000];
    let big = vec![b'y'; 30_000];
    c.check(&common::encode(&[b"SET", b"small", &small]), b"+OK\r\n")?;
    c.check(&common::encode(&[b"SET", b"big", &big]), b"+OK\r\n")?;
    let want = [&b"$3000\r\n"[..], &small, b"\r\n"].concat();
    c.check(&common::encode(&[b"GET", b"small"]), &want)?;
    c.send(&common::encode(&[b"GET", b"big"]))?;
    assert!(c.closed_within(Duration::from_secs(10))?);
    Ok(())
}
