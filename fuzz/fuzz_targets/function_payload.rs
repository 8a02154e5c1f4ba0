//! Any bytes as a FUNCTION RESTORE payload (from the network, and what
//! the store keeps of the libraries): the RDB strings, LZF included, and
//! each library's first line. Most inputs fail the checksum, so the bytes
//! are sealed as a payload too (version and CRC-64 appended), which puts
//! the fuzzer's effort into the reader behind the check.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tandem_fuzz::check_function_payload(data);
});
