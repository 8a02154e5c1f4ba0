//! Any bytes as a request stream, from its first byte: with a corpus of
//! multibulk frames, partial frames, pipelines and protocol errors, this
//! mostly exercises the multibulk parser and its resumption.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tandem_fuzz::check_stream(data);
});
