//! Reply encoding: RESP2 and RESP3 frames written straight into a
//! connection's output buffer.
//!
//! Owns how each kind of reply looks in each protocol version. Commands
//! say what they reply (a map, a null, a double) and this module picks the
//! bytes: RESP3's own types where Redis uses them, their RESP2 forms
//! otherwise. Nothing here allocates beyond growing the buffer.

use bytes::{BufMut, BytesMut};

/// The protocol a connection speaks, chosen with HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// RESP2, every connection's start.
    #[default]
    Resp2,
    /// RESP3.
    Resp3,
}

/// A connection's output buffer, with the protocol its replies use.
#[derive(Debug, Default)]
pub struct Out {
    /// The encoded replies, written to the socket in one go.
    pub buf: BytesMut,
    /// The protocol in use.
    pub protocol: Protocol,
}

impl Out {
    /// The protocol's version number, 2 or 3.
    pub fn resp_version(&self) -> u8 {
        match self.protocol {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }

    fn header(&mut self, tag: u8, n: i64) {
        let mut digits = itoa::Buffer::new();
        self.buf.put_u8(tag);
        self.buf.put_slice(digits.format(n).as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    fn len_header(&mut self, tag: u8, n: usize) {
        self.header(tag, i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// `+OK`.
    pub fn ok(&mut self) {
        self.buf.put_slice(b"+OK\r\n");
    }

    /// A simple string; `s` must not contain `\r` or `\n`.
    pub fn simple(&mut self, s: &str) {
        self.buf.put_u8(b'+');
        self.buf.put_slice(s.as_bytes());
        self.buf.put_slice(b"\r\n");
    }

    /// An error reply. Line breaks in `msg` become spaces, as Redis does,
    /// so that a client's bytes echoed in an error cannot break framing.
    pub fn error(&mut self, msg: &str) {
        self.error_bytes(msg.as_bytes());
    }

    /// An error reply whose text holds a client's bytes as they came.
    pub fn error_bytes(&mut self, msg: &[u8]) {
        self.buf.put_u8(b'-');
        for &b in msg {
            self.buf
                .put_u8(if b == b'\r' || b == b'\n' { b' ' } else { b });
        }
        self.buf.put_slice(b"\r\n");
    }

    /// An integer.
    pub fn int(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// An integer from a count.
    pub fn count(&mut self, n: usize) {
        self.int(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// A bulk string.
    pub fn bulk(&mut self, s: &[u8]) {
        self.len_header(b'$', s.len());
        self.buf.put_slice(s);
        self.buf.put_slice(b"\r\n");
    }

    /// A bulk string, or the null for a missing value.
    pub fn bulk_or_null(&mut self, s: Option<&[u8]>) {
        match s {
            Some(s) => self.bulk(s),
            None => self.null(),
        }
    }

    /// The null for a missing value: `$-1` in RESP2, `_` in RESP3.
    pub fn null(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.buf.put_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    /// The null for a missing array: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&mut self) {
        match self.protocol {
            Protocol::Resp2 => self.buf.put_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.put_slice(b"_\r\n"),
        }
    }

    /// The header of an array of `n` elements; the elements follow.
    pub fn array(&mut self, n: usize) {
        self.len_header(b'*', n);
    }

    /// The header of an out-of-band push of `n` elements (pub/sub
    /// messages and subscription replies): `>n` in RESP3, an array in
    /// RESP2.
    pub fn push(&mut self, n: usize) {
        match self.protocol {
            Protocol::Resp2 => self.len_header(b'*', n),
            Protocol::Resp3 => self.len_header(b'>', n),
        }
    }

    /// The header of a map of `n` pairs (RESP2: an array of 2n).
    pub fn map(&mut self, n: usize) {
        match self.protocol {
            Protocol::Resp2 => self.len_header(b'*', n.saturating_mul(2)),
            Protocol::Resp3 => self.len_header(b'%', n),
        }
    }

    /// The header of a set of `n` elements (RESP2: an array).
    pub fn set(&mut self, n: usize) {
        match self.protocol {
            Protocol::Resp2 => self.len_header(b'*', n),
            Protocol::Resp3 => self.len_header(b'~', n),
        }
    }

    /// A double, given as the text Redis prints for it (RESP2: a bulk
    /// string): ZSCORE's and the other scores.
    pub fn double_text(&mut self, text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.buf.put_u8(b',');
                self.buf.put_slice(text);
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// Text for people to read, as Redis sends INFO: RESP3's verbatim
    /// string of format `txt`, a bulk string in RESP2.
    pub fn verbatim_text(&mut self, text: &[u8]) {
        match self.protocol {
            Protocol::Resp2 => self.bulk(text),
            Protocol::Resp3 => {
                self.len_header(b'=', text.len() + 4);
                self.buf.put_slice(b"txt:");
                self.buf.put_slice(text);
                self.buf.put_slice(b"\r\n");
            }
        }
    }

    /// An array of bulk strings.
    pub fn bulks<I, B>(&mut self, items: I)
    where
        I: ExactSizeIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        self.array(items.len());
        for item in items {
            self.bulk(item.as_ref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(f: impl Fn(&mut Out)) -> (Vec<u8>, Vec<u8>) {
        let mut two = Out::default();
        let mut three = Out {
            protocol: Protocol::Resp3,
            ..Out::default()
        };
        f(&mut two);
        f(&mut three);
        (two.buf.to_vec(), three.buf.to_vec())
    }

    #[test]
    fn each_type_has_its_resp2_and_resp3_form() {
        assert_eq!(both(|o| o.null()), (b"$-1\r\n".to_vec(), b"_\r\n".to_vec()));
        assert_eq!(
            both(|o| o.null_array()),
            (b"*-1\r\n".to_vec(), b"_\r\n".to_vec())
        );
        assert_eq!(both(|o| o.map(2)), (b"*4\r\n".to_vec(), b"%2\r\n".to_vec()));
        assert_eq!(both(|o| o.set(3)), (b"*3\r\n".to_vec(), b"~3\r\n".to_vec()));
        assert_eq!(
            both(|o| o.double_text(b"1.5")),
            (b"$3\r\n1.5\r\n".to_vec(), b",1.5\r\n".to_vec())
        );
        assert_eq!(both(|o| o.int(-7)).0, b":-7\r\n".to_vec());
        assert_eq!(
            both(|o| o.verbatim_text(b"a:1")),
            (b"$3\r\na:1\r\n".to_vec(), b"=7\r\ntxt:a:1\r\n".to_vec())
        );
        assert_eq!(both(|o| o.bulk(b"a\r\nb")).0, b"$4\r\na\r\nb\r\n".to_vec());
    }

    #[test]
    fn errors_cannot_break_framing() {
        assert_eq!(both(|o| o.error("ERR a\r\nb")).0, b"-ERR a  b\r\n".to_vec());
    }
}
