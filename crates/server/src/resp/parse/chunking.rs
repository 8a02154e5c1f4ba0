//! Property: however a request stream is cut into reads, it parses to
//! the same requests, and a malformed one to the same error after the
//! same requests. Streams mix multibulk and inline requests with random
//! bytes in their arguments, and pieces of broken protocol.

use super::replay::{inline_quoted, multibulk, replay, End, Replay};
use super::{Limits, MAX_INLINE};
use proptest::prelude::*;

/// Redis's defaults, which nothing generated here reaches.
const ROOMY: Limits = Limits {
    max_bulk: 512 << 20,
    max_args: 1 << 20,
};

/// Small enough that generated requests cross every limit.
const TIGHT: Limits = Limits {
    max_bulk: 6,
    max_args: 3,
};
const TIGHT_INLINE: usize = 12;

/// One piece of a stream.
#[derive(Debug, Clone)]
enum Piece {
    Multibulk(Vec<Vec<u8>>),
    /// Every byte escaped: any argument survives.
    Quoted(Vec<Vec<u8>>),
    /// Bare words, with a `\r\n` or a bare `\n` after them.
    Words(Vec<Vec<u8>>, bool),
    /// Tokens of protocol glued at random: mostly malformed.
    Broken(Vec<u8>),
}

impl Piece {
    fn encode(&self) -> Vec<u8> {
        match self {
            Piece::Multibulk(args) => multibulk(args),
            Piece::Quoted(args) => inline_quoted(args),
            Piece::Words(words, crlf) => {
                let mut line = words.join(&b' ');
                line.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
                line
            }
            Piece::Broken(bytes) => bytes.clone(),
        }
    }

    /// The arguments it parses to, if it is well formed.
    fn expected(&self) -> Option<&[Vec<u8>]> {
        match self {
            Piece::Multibulk(args) | Piece::Quoted(args) | Piece::Words(args, _) => Some(args),
            Piece::Broken(_) => None,
        }
    }
}

fn args() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..10), 1..5)
}

fn words() -> impl Strategy<Value = Vec<Vec<u8>>> {
    let word = prop::collection::vec(prop::sample::select(b"azAZ09_-+*$".to_vec()), 1..8);
    // A word must not start with `*`, or the line is a multibulk request.
    let word = word.prop_map(|mut w| {
        if w.first() == Some(&b'*') {
            w.insert(0, b'x');
        }
        w
    });
    prop::collection::vec(word, 1..4)
}

fn broken() -> impl Strategy<Value = Vec<u8>> {
    let tokens: &[&[u8]] = &[
        b"*", b"$", b"\r\n", b"\r", b"\n", b"1", b"3", b"-1", b"0", b"99", b"x", b" ", b"\"", b"'",
        b"\\", b"\\x4", b"\0",
    ];
    let token = prop::sample::select(tokens.to_vec());
    prop::collection::vec(token, 1..8).prop_map(|t| t.concat())
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        3 => args().prop_map(Piece::Multibulk),
        2 => args().prop_map(Piece::Quoted),
        2 => (words(), any::<bool>()).prop_map(|(w, crlf)| Piece::Words(w, crlf)),
        1 => broken().prop_map(Piece::Broken),
    ]
}

/// A stream and where to cut it: up to 12 positions, each taken modulo
/// the stream's length.
fn stream_and_cuts() -> impl Strategy<Value = (Vec<Piece>, Vec<usize>)> {
    (
        prop::collection::vec(piece(), 1..8),
        prop::collection::vec(any::<usize>(), 0..12),
    )
}

fn cut_points(len: usize, raw: &[usize]) -> Vec<usize> {
    let mut cuts: Vec<usize> = raw.iter().map(|c| c % len.max(1)).collect();
    cuts.sort_unstable();
    cuts
}

fn byte_by_byte(len: usize) -> Vec<usize> {
    (1..len).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_cut_parses_as_the_whole(
        (pieces, raw_cuts) in stream_and_cuts(),
        tight in any::<bool>(),
    ) {
        let stream: Vec<u8> = pieces.iter().flat_map(Piece::encode).collect();
        let (limits, max_inline) = if tight { (TIGHT, TIGHT_INLINE) } else { (ROOMY, MAX_INLINE) };
        let whole = replay(&stream, &[], limits, max_inline);
        let cut = replay(&stream, &cut_points(stream.len(), &raw_cuts), limits, max_inline);
        prop_assert_eq!(&cut, &whole);
        let trickled = replay(&stream, &byte_by_byte(stream.len()), limits, max_inline);
        prop_assert_eq!(&trickled, &whole);
        // A stream of well-formed requests within the limits parses to
        // exactly what was encoded, however it is cut.
        let expected: Option<Vec<Vec<Vec<u8>>>> =
            pieces.iter().map(|p| p.expected().map(<[_]>::to_vec)).collect();
        if let (Some(expected), false) = (expected, tight) {
            let want = Replay { requests: expected, end: End::Waiting(Vec::new()) };
            prop_assert_eq!(whole, want);
        }
    }
}

#[test]
fn a_long_inline_line_is_refused_however_it_arrives() {
    // Found by `any_cut_parses_as_the_whole`: whole, a line longer than
    // the limit was accepted; cut before its newline, it was refused.
    let mut line = vec![b'a'; TIGHT_INLINE + 1];
    line.push(b'\n');
    let whole = replay(&line, &[], TIGHT, TIGHT_INLINE);
    let cut = replay(&line, &[TIGHT_INLINE + 1], TIGHT, TIGHT_INLINE);
    let refused = End::Error("too big inline request".into());
    assert_eq!(whole.end, refused);
    assert_eq!(cut.end, refused);
    // At the limit exactly (the newline not counted), it is a request.
    let mut line = vec![b'a'; TIGHT_INLINE];
    line.push(b'\n');
    let whole = replay(&line, &[], TIGHT, TIGHT_INLINE);
    assert_eq!(whole.requests, vec![vec![vec![b'a'; TIGHT_INLINE]]]);
}
