//! Any bytes as an inline request line, then whatever follows it: a `*`
//! at the start is dropped, so the first request is always inline and
//! the fuzzer's effort goes to quotes, escapes, blanks and NULs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let line = data.strip_prefix(b"*").unwrap_or(data);
    tandem_fuzz::check_stream(line);
});
