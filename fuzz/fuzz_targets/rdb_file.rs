//! Any bytes as an RDB file for `--import` (from disk): the opcodes and
//! every value type. The bytes are also framed as a file (header, end
//! mark, CRC-64), which puts the fuzzer's effort into the walk behind the
//! checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tandem_fuzz::check_rdb_file(data);
});
