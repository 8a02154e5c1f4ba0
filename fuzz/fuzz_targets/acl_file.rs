//! Any bytes as an ACL file (`aclfile`, from disk): lines of users and
//! rules, selectors, hashes and patterns. Never a panic; what loads,
//! saved again, loads the same.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tandem_fuzz::check_acl_file(data);
});
