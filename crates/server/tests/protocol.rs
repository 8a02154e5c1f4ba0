//! The wire protocol over raw TCP, byte for byte: how requests are framed
//! (multibulk and inline, split anywhere, binary-safe), how malformed or
//! oversized input is refused (Redis's exact `Protocol error` replies, then
//! the connection closes), that claimed lengths cost nothing until their
//! bytes arrive, pipelining, many clients at once, isolation between
//! connections, RESP3 after `HELLO 3`, and QUIT.
//!
//! Expected replies are the bytes Redis 7.0.15 sends for the same input.

mod common;

use common::{encode, encode_words, text, Config, Raw, TestResult};
use std::collections::HashSet;
use std::time::Duration;

#[test]
fn a_request_sent_byte_by_byte_is_answered_once_complete() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let set = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n";
    // Every byte in its own write, with a pause so that the server reads
    // them one at a time and must resume a request cut anywhere.
    let (last, head) = set.split_last().ok_or("empty request")?;
    for b in head {
        c.send(&[*b])?;
        std::thread::sleep(Duration::from_millis(1));
    }
    // Not complete until its last byte: no reply before it (a reply sent
    // early would come first here, or before the fence).
    c.send(&[*last])?;
    c.expect(b"+OK\r\n")?;
    common::fence(&mut c)?;
    // An inline request trickled the same way.
    for b in b"GET k\r\n" {
        c.send(&[*b])?;
        std::thread::sleep(Duration::from_millis(1));
    }
    c.expect(b"$5\r\nva\r\nl\r\n")
}

#[test]
fn a_pipeline_split_at_any_position_gives_the_same_replies() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    // Multibulk with CR LF and binary bytes inside arguments, an inline
    // request with escapes naming the same key, an empty argument, and an
    // inline request ended by a bare LF.
    let mut pipeline = encode(&[b"SET", b"k\r\n", b"\x00\xff\r\n"]);
    pipeline.extend_from_slice(b"get \"k\\r\\n\"\r\n");
    pipeline.extend(encode(&[b"ECHO", b""]));
    pipeline.extend_from_slice(b"PING\n");
    let expected = b"+OK\r\n$4\r\n\x00\xff\r\n\r\n$0\r\n\r\n+PONG\r\n";
    for split in 1..pipeline.len() {
        c.send(&pipeline[..split])?;
        // Give the server time to read (and try to parse) the first part.
        std::thread::sleep(Duration::from_micros(300));
        c.send(&pipeline[split..])?;
        c.expect(expected)
            .map_err(|e| format!("split at {split}: {e}"))?;
    }
    // Three pieces, at pseudo-random positions (seeded, so a failure
    // reproduces).
    let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
    let mut next = |n: usize| rng.usize(..n);
    for _ in 0..100 {
        let a = 1 + next(pipeline.len() - 2);
        let b = a + 1 + next(pipeline.len() - a - 1);
        for part in [&pipeline[..a], &pipeline[a..b], &pipeline[b..]] {
            c.send(part)?;
            std::thread::sleep(Duration::from_micros(200));
        }
        c.expect(expected)
            .map_err(|e| format!("split at {a} and {b}: {e}"))?;
    }
    Ok(())
}

#[test]
fn binary_arguments_round_trip_exactly() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    // Every byte value, plus things that look like RESP framing.
    let mut value: Vec<u8> = (0..=255u8).collect();
    value.extend_from_slice(b"\r\n$3\r\n*1\r\n\r\n\x00\xff");
    let key = b"key\x00\r\n\xff";
    c.check(&encode(&[b"SET", key, &value]), b"+OK\r\n")?;
    let mut bulk = format!("${}\r\n", value.len()).into_bytes();
    bulk.extend_from_slice(&value);
    bulk.extend_from_slice(b"\r\n");
    c.check(&encode(&[b"GET", key]), &bulk)?;
    c.check(
        &encode(&[b"STRLEN", key]),
        format!(":{}\r\n", value.len()).as_bytes(),
    )?;
    // The key itself comes back intact too.
    c.check(
        &encode(&[b"KEYS", b"*"]),
        b"*1\r\n$7\r\nkey\x00\r\n\xff\r\n",
    )?;
    // An empty key and an empty value are arguments like any other.
    c.check(&encode(&[b"SET", b"", b""]), b"+OK\r\n")?;
    c.check(&encode(&[b"GET", b""]), b"$0\r\n\r\n")?;
    c.check(&encode(&[b"EXISTS", b""]), b":1\r\n")
}

#[test]
fn a_large_bulk_arriving_in_pieces_is_assembled() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let value: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let request = encode(&[b"SET", b"big", &value]);
    // Pieces of odd sizes, each a separate write.
    for piece in request.chunks(65_537) {
        c.send(piece)?;
    }
    c.expect(b"+OK\r\n")?;
    c.send(&encode(&[b"GET", b"big"]))?;
    let reply = c.reply()?;
    let header = format!("${}\r\n", value.len());
    assert!(
        reply.starts_with(header.as_bytes()),
        "{}",
        text(&reply[..20])
    );
    assert_eq!(reply.len(), header.len() + value.len() + 2);
    assert!(reply[header.len()..header.len() + value.len()] == value[..]);
    Ok(())
}

/// Regression: a request of more than 1024 arguments that arrived in
/// several reads lost the arguments of the first reads (the connection
/// freed their list between reads), and the rest ran as a command.
#[test]
fn a_request_of_many_arguments_arriving_in_pieces_is_assembled() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let keys: Vec<Vec<u8>> = (0..5000).map(|i| format!("k{i}").into_bytes()).collect();
    let mut args: Vec<&[u8]> = vec![b"EXISTS"];
    args.extend(keys.iter().map(Vec::as_slice));
    let request = encode(&args);
    for piece in request.chunks(4099) {
        c.send(piece)?;
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    c.expect(b":0\r\n")
}

#[test]
fn inline_commands_follow_redis_quoting() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let cases: &[(&[u8], &[u8])] = &[
        (b"PING\r\n", b"+PONG\r\n"),
        // A bare LF ends a line too; names are case-insensitive.
        (b"ping\n", b"+PONG\r\n"),
        (b"set k \"a b\"\r\n", b"+OK\r\n"),
        (b"get k\r\n", b"$3\r\na b\r\n"),
        // Blank lines are skipped; blanks around words are ignored.
        (b"  PING  \r\n\r\n\nPING\n", b"+PONG\r\n+PONG\r\n"),
        (b"echo\ta\r\n", b"$1\r\na\r\n"),
        // Double quotes: C escapes, \xHH, and an unknown escape is the
        // character itself; an invalid \x is literal.
        (b"echo \"\\x41\\x4g\\n\\q\"\r\n", b"$6\r\nAx4g\nq\r\n"),
        (
            b"echo \"t\\tr\\rb\\ba\\a\"\r\n",
            b"$8\r\nt\tr\rb\x08a\x07\r\n",
        ),
        (b"echo \"a\\\"b\"\r\n", b"$3\r\na\"b\r\n"),
        (b"echo \"a\\\\b\"\r\n", b"$3\r\na\\b\r\n"),
        (b"echo \"x\\xZZ\"\r\n", b"$4\r\nxxZZ\r\n"),
        (b"echo \"\\x4\"\r\n", b"$2\r\nx4\r\n"),
        (b"echo \"\\x00\\xff\"\r\n", b"$2\r\n\x00\xff\r\n"),
        (b"echo \"ab\\\\\"\r\n", b"$3\r\nab\\\r\n"),
        // Single quotes: only \' is an escape.
        (b"echo 'it\\'s'\r\n", b"$4\r\nit's\r\n"),
        (b"echo 'x\\ny'\r\n", b"$4\r\nx\\ny\r\n"),
        (b"echo 'a\"b'\r\n", b"$3\r\na\"b\r\n"),
        // Empty quoted arguments, quoted command names, quotes inside a
        // word, and escapes outside quotes (literal).
        (b"echo \"\"\r\n", b"$0\r\n\r\n"),
        (b"echo ''\r\n", b"$0\r\n\r\n"),
        (b"\"PING\"\r\n", b"+PONG\r\n"),
        (b"'ping' \"x y\"\r\n", b"$3\r\nx y\r\n"),
        (b"echo a'b'\r\n", b"$2\r\nab\r\n"),
        (b"echo a\\x41\r\n", b"$5\r\na\\x41\r\n"),
        // Non-ASCII bytes pass through; a vertical tab separates words
        // (C's isspace) but does not end one.
        (b"ECHO \xfe\r\n", b"$1\r\n\xfe\r\n"),
        (b"echo \x0ba\r\n", b"$1\r\na\r\n"),
        (b"echo a\x0bb\r\n", b"$3\r\na\x0bb\r\n"),
        // Errors in inline requests are ordinary replies.
        (
            b"foo a b\r\n",
            b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n",
        ),
        (
            b"echo a b\r\n",
            b"-ERR wrong number of arguments for 'echo' command\r\n",
        ),
    ];
    for (request, reply) in cases {
        c.check(request, reply)
            .map_err(|e| format!("{}: {e}", text(request)))?;
    }
    Ok(())
}

#[test]
fn unbalanced_quotes_are_a_protocol_error_and_close() -> TestResult {
    let server = common::start_default()?;
    let requests: &[&[u8]] = &[
        b"set k \"a b\r\n",
        b"echo 'abc\r\n",
        // A closing quote must be followed by a blank.
        b"set k \"a\"b\r\n",
        b"echo a\"b\"c\r\n",
        b"echo a\"b\r\n",
        // An escaped quote does not close.
        b"echo \"\\\"\r\n",
        b"echo \"abc\\\r\n",
    ];
    for request in requests {
        let mut c = Raw::connect(server.addr())?;
        // What follows the bad line is never run.
        c.send(request)?;
        c.send(b"PING\r\n")?;
        c.expect_then_closed(b"-ERR Protocol error: unbalanced quotes in request\r\n")
            .map_err(|e| format!("{}: {e}", text(request)))?;
    }
    Ok(())
}

#[test]
fn a_nul_byte_in_an_inline_request_waits_as_in_redis() -> TestResult {
    // Redis finds an inline request's end with strchr, which stops at a
    // NUL: such a request never completes, and the connection is refused
    // once it has sent 64 KiB. Tandem once split it instead, looping
    // forever and allocating without bound, so check the server stays
    // responsive and the connection just waits.
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.send(b"PING\r\necho\x00a\r\n")?;
    c.expect(b"+PONG\r\n")?;
    // Nothing is answered meanwhile, and the connection stays open: the
    // error below is then the very next and only thing it gets.
    let mut other = Raw::connect(server.addr())?;
    other.check(b"PING\r\n", b"+PONG\r\n")?;
    c.send(&vec![b'x'; 64 * 1024])?;
    c.expect_then_closed(b"-ERR Protocol error: too big inline request\r\n")
}

#[test]
fn huge_claimed_lengths_allocate_nothing_up_front() -> TestResult {
    // The claims below add up to gigabytes. A server that reserved what a
    // client merely claims would grow its address space (and, if it
    // zeroed the memory, its resident set) by that much; one that grows
    // buffers as bytes arrive barely moves. The server runs inside this
    // process, so this process's memory is the server's.
    let _alone = common::exclusive();
    let server = common::start_default()?;
    let mut probe = Raw::connect(server.addr())?;
    probe.check(b"PING\r\n", b"+PONG\r\n")?;
    let rss_before = common::proc_status_kb("VmRSS")?;
    let virt_before = common::proc_status_kb("VmSize")?;
    let mut waiting = Vec::new();
    for _ in 0..16 {
        // A million arguments claimed, one sent.
        let mut c = Raw::connect(server.addr())?;
        c.send(b"*1000000\r\n$4\r\nPING\r\n")?;
        waiting.push(c);
        // A 512 MiB argument (the largest allowed) claimed, 3 bytes sent.
        let mut c = Raw::connect(server.addr())?;
        c.send(b"*2\r\n$3\r\nGET\r\n$536870912\r\nabc")?;
        waiting.push(c);
    }
    // Other clients are served meanwhile.
    let mut other = Raw::connect(server.addr())?;
    other.check(b"SET a 1\r\nGET a\r\n", b"+OK\r\n$1\r\n1\r\n")?;
    let rss_growth = common::proc_status_kb("VmRSS")?.saturating_sub(rss_before);
    let virt_growth = common::proc_status_kb("VmSize")?.saturating_sub(virt_before);
    println!("growth: RSS {rss_growth} kB, address space {virt_growth} kB");
    // 16 x 512 MiB would be 8 GiB of address space. The bounds leave room
    // for what tests running alongside may add: their buffers, and the
    // allocator's arenas for new threads (64 MiB of address space each, at
    // most 16 on two cores).
    assert!(rss_growth < 128 * 1024, "RSS grew by {rss_growth} kB");
    assert!(
        virt_growth < 2 * 1024 * 1024,
        "address space grew by {virt_growth} kB"
    );
    // Both kinds were still waiting for the rest, with the connection
    // open: all 32 are killed (all but `other`), and each then closes
    // without having been sent a byte.
    other.check(b"CLIENT KILL USER default\r\n", b":33\r\n")?;
    for c in &mut waiting {
        c.expect_then_closed(b"")?;
    }
    // A claimed request still completes once its bytes do arrive, and
    // not before: an early reply would come first.
    let mut c = Raw::connect(server.addr())?;
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n")?;
    c.send(&vec![b'v'; 100_000])?;
    c.check(b"\r\n", b"+OK\r\n")?;
    c.check(b"STRLEN k\r\n", b":100000\r\n")
}

#[test]
fn lengths_beyond_the_configured_limits_are_refused() -> TestResult {
    let server = common::start(Config {
        proto_max_bulk_len: 1 << 20,
        proto_max_multibulk_len: 1000,
        ..common::config()
    })?;
    let refused: &[(&[u8], &[u8])] = &[
        (
            b"*1001\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$1048577\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        // Earlier requests in the same read are still answered.
        (
            b"PING\r\n*2\r\n$4\r\nECHO\r\n$2000000\r\n",
            b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
        ),
    ];
    for (request, reply) in refused {
        let mut c = Raw::connect(server.addr())?;
        c.send(request)?;
        c.expect_then_closed(reply)
            .map_err(|e| format!("{}: {e}", text(request)))?;
    }
    // Exactly at the limits is allowed: the request waits for its bytes
    // (a refusal would be the first reply, or close the connection).
    let mut c = Raw::connect(server.addr())?;
    c.send(b"*1000\r\n")?;
    let mut rest = encode(&[b"DEL"]).split_off(b"*1\r\n".len());
    for _ in 1..1000 {
        rest.extend_from_slice(b"$1\r\nx\r\n");
    }
    c.check(&rest, b":0\r\n")?;
    let mut c = Raw::connect(server.addr())?;
    c.send(b"*2\r\n$4\r\nECHO\r\n$1048576\r\n")?;
    let mut request = vec![b'e'; 1 << 20];
    request.extend_from_slice(b"\r\n");
    c.send(&request)?;
    let reply = c.reply()?;
    assert_eq!(reply.len(), "$1048576\r\n".len() + (1 << 20) + 2);
    Ok(())
}

#[test]
fn malformed_lengths_get_redis_protocol_errors() -> TestResult {
    let server = common::start_default()?;
    let bulk = b"-ERR Protocol error: invalid bulk length\r\n";
    let multibulk = b"-ERR Protocol error: invalid multibulk length\r\n";
    let cases: &[(&[u8], &[u8])] = &[
        (b"*abc\r\n", multibulk),
        (b"*1x\r\n", multibulk),
        (b"*9999999999999999999\r\n", multibulk),
        // Redis's own limit: a count above 2^31 - 1.
        (b"*2147483648\r\n", multibulk),
        (b"*1\r\n$abc\r\n", bulk),
        (b"*1\r\n$-1\r\n", bulk),
        (b"*1\r\n$\r\n", bulk),
        // Redis's default proto-max-bulk-len is 512 MiB.
        (b"*2\r\n$3\r\nget\r\n$536870913\r\n", bulk),
        (b"*1\r\n$9223372036854775808\r\n", bulk),
        // Redis's strict integers: no sign, no leading zero, no blank.
        (b"*1\r\n$+4\r\nPING\r\n", bulk),
        (b"*1\r\n$04\r\nPING\r\n", bulk),
        (b"*+1\r\n$4\r\nPING\r\n", multibulk),
        (b"*01\r\n$4\r\nPING\r\n", multibulk),
        (b"*1 \r\n$4\r\nPING\r\n", multibulk),
    ];
    for (request, reply) in cases {
        let mut c = Raw::connect(server.addr())?;
        c.send(request)?;
        c.expect_then_closed(reply)
            .map_err(|e| format!("{}: {e}", text(request)))?;
    }
    Ok(())
}

#[test]
fn garbage_where_a_bulk_should_start_closes_the_connection() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.send(b"*1\r\nxyz\r\n")?;
    c.expect_then_closed(b"-ERR Protocol error: expected '$', got 'x'\r\n")?;
    // Replies to the requests before it are delivered first; nothing
    // after it runs.
    let mut c = Raw::connect(server.addr())?;
    c.send(b"SET a 1\r\n*2\r\n$3\r\nGET\r\n:1\r\nSET a 2\r\n")?;
    c.expect_then_closed(b"+OK\r\n-ERR Protocol error: expected '$', got ':'\r\n")?;
    let mut c = Raw::connect(server.addr())?;
    c.check(b"GET a\r\n", b"$1\r\n1\r\n")
}

#[test]
fn overlong_lines_are_refused() -> TestResult {
    // Redis refuses an inline request, or a `*`/`$` line, longer than
    // 64 KiB without its end.
    let server = common::start_default()?;
    let cases: [(Vec<u8>, &[u8]); 3] = [
        (
            vec![b'a'; 70_000],
            b"-ERR Protocol error: too big inline request\r\n",
        ),
        (
            [b"*".as_slice(), &[b'1'; 70_000]].concat(),
            b"-ERR Protocol error: too big mbulk count string\r\n",
        ),
        (
            [b"*1\r\n$".as_slice(), &[b'1'; 70_000]].concat(),
            b"-ERR Protocol error: too big bulk count string\r\n",
        ),
    ];
    for (request, reply) in &cases {
        let mut c = Raw::connect(server.addr())?;
        c.send(request)?;
        c.expect_then_closed(reply)?;
    }
    Ok(())
}

#[test]
fn empty_requests_and_the_bytes_after_a_bulk_are_skipped() -> TestResult {
    // As in Redis: `*0`, `*-1` (any count below 1) and empty lines are
    // skipped without a reply, and the two bytes after a bulk's data are
    // not checked.
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.check(b"*0\r\n*-1\r\n*-5\r\n\r\nPING\r\n", b"+PONG\r\n")?;
    c.check(
        b"*1\r\n$4\r\nPINGxx*2\r\n$4\r\nECHO\r\n$1\r\naYY",
        b"+PONG\r\n$1\r\na\r\n",
    )?;
    // An empty command name is an unknown command.
    c.check(
        b"*1\r\n$0\r\n\r\n",
        b"-ERR unknown command '', with args beginning with: \r\n",
    )
}

#[test]
fn ten_thousand_pipelined_commands_reply_in_order() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let n = 10_000;
    let mut pipeline = Vec::new();
    let mut expected = Vec::new();
    for i in 0..n {
        // Alternate commands whose replies depend on order.
        match i % 4 {
            0 => {
                pipeline.extend(encode_words("INCR counter"));
                expected.push(format!(":{}\r\n", i / 4 + 1));
            }
            1 => {
                pipeline.extend(encode_words(&format!("SET key:{i} v{i}")));
                expected.push("+OK\r\n".to_string());
            }
            2 => {
                let prev = i - 1;
                pipeline.extend(encode_words(&format!("GET key:{prev}")));
                let v = format!("v{prev}");
                expected.push(format!("${}\r\n{v}\r\n", v.len()));
            }
            _ => {
                pipeline.extend_from_slice(format!("ECHO {i}\r\n").as_bytes());
                expected.push(format!("${}\r\n{i}\r\n", i.to_string().len()));
            }
        }
    }
    c.send(&pipeline)?;
    let replies = c.replies(n)?;
    for (i, (got, want)) in replies.iter().zip(&expected).enumerate() {
        assert_eq!(text(got), text(want.as_bytes()), "reply {i}");
    }
    // Exactly n replies: nothing more follows.
    common::fence(&mut c)
}

#[test]
fn a_thousand_clients_at_once() -> TestResult {
    let _alone = common::exclusive();
    // Each client costs two descriptors here (its socket and the
    // server's); stay within the process's limit.
    let limit = common::open_files_limit()?;
    let wanted: u64 = 1000;
    let clients = wanted.min(limit.saturating_sub(200) / 2);
    if clients < wanted {
        println!("note: open files limit {limit}: testing {clients} clients, not {wanted}");
    }
    let server = common::start_default()?;
    let addr = server.addr();
    let threads = 8;
    let per_thread = usize::try_from(clients)? / threads;
    std::thread::scope(|s| -> TestResult {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || -> Result<(), String> {
                    let run = || -> TestResult {
                        // Every connection opens before any is used, so all
                        // are connected at once.
                        let mut conns = (0..per_thread)
                            .map(|_| Raw::connect(addr))
                            .collect::<Result<Vec<_>, _>>()?;
                        for (i, c) in conns.iter_mut().enumerate() {
                            let id = t * per_thread + i;
                            c.send(format!("SET client:{id} {id}\r\nINCR total\r\n").as_bytes())?;
                        }
                        for (i, c) in conns.iter_mut().enumerate() {
                            let id = t * per_thread + i;
                            c.expect(b"+OK\r\n")?;
                            let incr = c.reply()?;
                            assert!(incr.starts_with(b":"), "{}", text(&incr));
                            let v = id.to_string();
                            c.check(
                                format!("GET client:{id}\r\n").as_bytes(),
                                format!("${}\r\n{v}\r\n", v.len()).as_bytes(),
                            )?;
                        }
                        Ok(())
                    };
                    run().map_err(|e| e.to_string())
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "client thread panicked")??;
        }
        Ok(())
    })?;
    let total = per_thread * threads;
    let mut c = Raw::connect(addr)?;
    c.check(
        b"GET total\r\nDBSIZE\r\n",
        format!(
            "${}\r\n{total}\r\n:{}\r\n",
            total.to_string().len(),
            total + 1
        )
        .as_bytes(),
    )
}

#[test]
fn one_clients_garbage_does_not_disturb_another() -> TestResult {
    let server = common::start_default()?;
    // Two clients in the middle of requests, one multibulk, one inline.
    let mut a = Raw::connect(server.addr())?;
    a.send(b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhel")?;
    let mut b = Raw::connect(server.addr())?;
    b.send(b"ECHO \"half")?;
    // Meanwhile, others send garbage of every kind and are closed.
    let garbage: &[&[u8]] = &[
        b"*1\r\nxyz\r\n",
        b"*-\r\n",
        b"*1\r\n$-7\r\n",
        b"\"unbalanced\r\n",
        b"*2\r\n$3\r\nGET\r\n$99999999999\r\n",
    ];
    for g in garbage {
        let mut bad = Raw::connect(server.addr())?;
        bad.send(g)?;
        let got = bad.read_until_closed()?;
        assert!(got.starts_with(b"-ERR Protocol error: "), "{}", text(&got));
    }
    // The two finish their requests undisturbed.
    a.check(b"lo\r\n", b"+OK\r\n")?;
    b.check(b" way\"\r\n", b"$8\r\nhalf way\r\n")?;
    a.check(b"GET a\r\n", b"$5\r\nhello\r\n")
}

/// HELLO's reply, in RESP3 or RESP2, for a client whose id is unknown.
fn hello_reply(resp3: bool, id: &str) -> Vec<u8> {
    let (map, proto) = if resp3 { ("%7", "3") } else { ("*14", "2") };
    format!(
        "{map}\r\n$6\r\nserver\r\n$6\r\ntandem\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n\
         $5\r\nproto\r\n:{proto}\r\n$2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n\
         $4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
    )
    .into_bytes()
}

/// The client id in a HELLO reply.
fn hello_id(reply: &[u8]) -> Result<String, common::Error> {
    let s = String::from_utf8(reply.to_vec())?;
    let id = s
        .split("$2\r\nid\r\n:")
        .nth(1)
        .and_then(|rest| rest.split("\r\n").next())
        .ok_or_else(|| format!("no id in {}", text(reply)))?;
    Ok(id.to_string())
}

#[test]
fn hello_3_switches_to_resp3() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    c.send(b"HELLO 3\r\n")?;
    let hello = c.reply()?;
    // Redis's HELLO map: server, version, proto, id, mode, role, modules.
    // `server` says tandem; `version` is the Redis version followed.
    let id = hello_id(&hello)?;
    assert_eq!(text(&hello), text(&hello_reply(true, &id)));
    let cases: &[(&[u8], &[u8])] = &[
        // Null is `_` in RESP3, for a missing value and in an array.
        (b"GET nokey\r\n", b"_\r\n"),
        (b"SET k v NX GET\r\n", b"_\r\n"),
        (b"SET k v NX\r\n", b"_\r\n"),
        (b"MGET k nokey\r\n", b"*2\r\n$1\r\nv\r\n_\r\n"),
        (b"RANDOMKEY\r\n", b"$1\r\nk\r\n"),
        // CONFIG GET is a map.
        (
            b"CONFIG GET save\r\n",
            b"%1\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n",
        ),
        (
            b"CONFIG GET appendonly\r\n",
            b"%1\r\n$10\r\nappendonly\r\n$2\r\nno\r\n",
        ),
        (b"CONFIG GET nosuch\r\n", b"%0\r\n"),
        // COMMAND INFO's entry for a command it does not know.
        (b"COMMAND INFO nosuch\r\n", b"*1\r\n_\r\n"),
        // Other replies look as in RESP2.
        (b"INCR n\r\n", b":1\r\n"),
        (b"PING\r\n", b"+PONG\r\n"),
        (
            b"GET\r\n",
            b"-ERR wrong number of arguments for 'get' command\r\n",
        ),
    ];
    for (request, reply) in cases {
        c.check(request, reply)
            .map_err(|e| format!("{}: {e}", text(request)))?;
    }
    // HELLO without a version keeps RESP3; HELLO 2 goes back.
    c.check(b"HELLO\r\n", &hello_reply(true, &id))?;
    c.check(b"HELLO 2\r\n", &hello_reply(false, &id))?;
    c.check(b"GET nokey\r\n", b"$-1\r\n")?;
    c.check(
        b"CONFIG GET save\r\n",
        b"*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n",
    )?;
    // RESET returns to RESP2 as well.
    c.check(b"HELLO 3\r\n", &hello_reply(true, &id))?;
    c.check(b"RESET\r\nGET nokey\r\n", b"+RESET\r\n$-1\r\n")
}

#[test]
fn hello_errors_leave_the_protocol_unchanged() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    let cases: &[(&[u8], &[u8])] = &[
        (b"HELLO 4\r\n", b"-NOPROTO unsupported protocol version\r\n"),
        (b"HELLO 1\r\n", b"-NOPROTO unsupported protocol version\r\n"),
        (
            b"HELLO abc\r\n",
            b"-ERR Protocol version is not an integer or out of range\r\n",
        ),
        (
            b"HELLO 3 foo\r\n",
            b"-ERR Syntax error in HELLO option 'foo'\r\n",
        ),
        (
            b"HELLO 3 SETNAME\r\n",
            b"-ERR Syntax error in HELLO option 'SETNAME'\r\n",
        ),
        (
            b"HELLO 3 AUTH default\r\n",
            b"-ERR Syntax error in HELLO option 'AUTH'\r\n",
        ),
        // Still RESP2.
        (b"GET nokey\r\n", b"$-1\r\n"),
    ];
    for (request, reply) in cases {
        c.check(request, reply)
            .map_err(|e| format!("{}: {e}", text(request)))?;
    }
    Ok(())
}

#[test]
fn quit_replies_ok_and_closes() -> TestResult {
    let server = common::start_default()?;
    let mut c = Raw::connect(server.addr())?;
    // Replies before QUIT are delivered; requests after it never run.
    c.send(b"SET a 1\r\nQUIT\r\nSET a 2\r\n")?;
    c.expect_then_closed(b"+OK\r\n+OK\r\n")?;
    let mut c = Raw::connect(server.addr())?;
    c.check(b"GET a\r\n", b"$1\r\n1\r\n")?;
    // QUIT ignores arguments, as Redis 7.0 does.
    c.send(b"QUIT now\r\n")?;
    c.expect_then_closed(b"+OK\r\n")
}

#[test]
fn every_connection_gets_its_own_client_id() -> TestResult {
    let server = common::start_default()?;
    let mut ids = HashSet::new();
    for _ in 0..5 {
        let mut c = Raw::connect(server.addr())?;
        let hello = c.call(b"HELLO 2\r\n")?;
        let id = hello_id(&hello)?;
        assert!(id.parse::<u64>()? > 0);
        assert!(ids.insert(id), "a client id was reused");
    }
    Ok(())
}
