//! Unit tests of request framing, including every prefix of a request.

use super::*;

const LIMITS: Limits = Limits {
    max_bulk: 512 << 20,
    max_args: 1 << 20,
};

fn args_of(p: &RequestParser, buf: &[u8], parsed: Parsed) -> Vec<Vec<u8>> {
    match parsed.form {
        Form::Multibulk => p.ranges.iter().map(|r| buf[r.clone()].to_vec()).collect(),
        Form::Inline => p.inline.clone(),
        Form::Empty => Vec::new(),
    }
}

/// Feeds `input` one byte at a time, returning each request's arguments.
fn trickle(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
    let mut p = RequestParser::default();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    for &b in input {
        buf.push(b);
        while let Some(parsed) = p.parse(&buf, LIMITS)? {
            out.push(args_of(&p, &buf, parsed));
            buf.drain(..parsed.consumed);
        }
    }
    Ok(out)
}

fn v(words: &[&str]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.as_bytes().to_vec()).collect()
}

#[test]
fn multibulk_requests_parse_byte_by_byte() {
    let got = trickle(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n*1\r\n$4\r\nPING\r\n");
    assert_eq!(got, Ok(vec![v(&["SET", "k", "va\r\nl"]), v(&["PING"])]));
}

#[test]
fn inline_requests_follow_sdssplitargs() {
    let got = trickle(b"set k \"a b\\x41\\n\" 'it\\'s'\r\nPING\n\r\n");
    assert_eq!(
        got,
        Ok(vec![
            vec![
                b"set".to_vec(),
                b"k".to_vec(),
                b"a bA\n".to_vec(),
                b"it's".to_vec()
            ],
            v(&["PING"]),
            vec![],
        ])
    );
    assert!(trickle(b"set k \"abc\r\n").is_err());
    assert!(trickle(b"set k \"abc\"x\r\n").is_err());
}

#[test]
fn malformed_frames_get_redis_errors() {
    let err = |input: &[u8]| trickle(input).err().map(|e| e.0);
    assert_eq!(err(b"*x\r\n"), Some("invalid multibulk length".into()));
    assert_eq!(err(b"*1\r\nx"), Some("expected '$', got 'x'".into()));
    assert_eq!(err(b"*1\r\n$-1\r\n"), Some("invalid bulk length".into()));
    assert_eq!(
        err(b"*1\r\n$99999999999\r\n"),
        Some("invalid bulk length".into())
    );
    assert_eq!(
        err(b"*2000000\r\n"),
        Some("invalid multibulk length".into())
    );
    assert_eq!(trickle(b"*0\r\n*-1\r\n"), Ok(vec![vec![], vec![]]));
}

#[test]
fn huge_claims_reserve_little() {
    let mut p = RequestParser::default();
    let buf = b"*1000000\r\n$536870912\r\nabc";
    assert_eq!(p.parse(buf, LIMITS), Ok(None));
    assert!(p.ranges.capacity() <= MAX_PREALLOC_ARGS);
    assert_eq!(p.need(), 10 + 12 + 536_870_912 + 2);
}

#[test]
fn endless_lines_are_refused() {
    let long = vec![b'a'; MAX_INLINE + 1];
    assert_eq!(
        trickle(&long).err().map(|e| e.0),
        Some("too big inline request".into())
    );
    let mut star = b"*".to_vec();
    star.extend(std::iter::repeat_n(b'1', MAX_INLINE + 1));
    assert_eq!(
        trickle(&star).err().map(|e| e.0),
        Some("too big mbulk count string".into())
    );
}

#[test]
fn a_nul_in_an_inline_request_waits_as_in_redis() {
    // Redis looks for the newline with strchr, which stops at the NUL: the
    // request never completes, and is refused once past MAX_INLINE.
    // (Splitting it once looped forever, pushing empty arguments.)
    assert_eq!(trickle(b"echo\0a\r\n"), Ok(vec![]));
    assert_eq!(trickle(b"PING\r\necho\0a\r\n"), Ok(vec![v(&["PING"])]));
    let mut long = b"echo\0a\r\n".to_vec();
    long.extend(std::iter::repeat_n(b'x', MAX_INLINE));
    assert_eq!(
        trickle(&long).err().map(|e| e.0),
        Some("too big inline request".into())
    );
    let mut out = Vec::new();
    assert_eq!(split_args(b"a\0b", &mut out), Some(()));
    assert_eq!(out, v(&["a"]));
}

#[test]
fn blanks_are_c_isspace() {
    let mut out = Vec::new();
    // Between arguments, and after a closing quote; inside an unquoted
    // argument only space, tab, CR and LF end it (as in sdssplitargs).
    assert_eq!(
        split_args(b"echo \x0ba \x0c\"b\"\x0b c\x0bd", &mut out),
        Some(())
    );
    assert_eq!(out, v(&["echo", "a", "b", "c\x0bd"]));
}

/// Regression: the connection freed the argument list of a request with
/// more than 1024 arguments between two reads of it, so the arguments
/// read before were lost and the rest ran as a command of their own
/// (SADD of 2000 members answered "unknown command 'm1587'").
#[test]
fn freeing_idle_memory_keeps_a_request_still_arriving() {
    let mut request = b"*2001\r\n$4\r\nSADD\r\n".to_vec();
    for i in 0..2000 {
        let m = format!("m{i}");
        request.extend(format!("${}\r\n{m}\r\n", m.len()).into_bytes());
    }
    let mut p = RequestParser::default();
    let half = request.len() / 2;
    assert_eq!(p.parse(&request[..half], LIMITS), Ok(None));
    p.release_idle();
    let parsed = p.parse(&request, LIMITS).ok().flatten();
    let parsed = parsed.expect("complete");
    let args = args_of(&p, &request, parsed);
    assert_eq!(args.len(), 2001);
    assert_eq!(args[1], b"m0".to_vec());
    assert_eq!(args[2000], b"m1999".to_vec());
    p.release_idle();
    assert_eq!(p.ranges.capacity(), 0, "freed between requests");
}
