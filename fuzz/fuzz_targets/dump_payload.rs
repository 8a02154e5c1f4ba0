//! Any bytes as a RESTORE payload (from the network): every value type
//! and packed encoding Redis 7.0 reads. Most inputs fail the checksum, so
//! the bytes are sealed as a payload too, which puts the fuzzer's effort
//! into the value reader behind the check.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tandem_fuzz::check_dump_payload(data);
});
