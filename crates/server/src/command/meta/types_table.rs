//! The metadata of the data type commands (strings, bitmaps,
//! HyperLogLog, geo, hashes, sets, lists, sorted sets, streams): one
//! entry per command, in the order of the command table. Facts about the
//! Redis API are Redis 7.0.15's; summaries and complexities are ours.
//! The server, key, pub/sub, scripting and transaction commands are in
//! `table.rs`; lookups go by name (`meta::of`), over both.

use super::acl;
use super::key;
use super::{ks, ks_keynum, ks_keyword, ks_noted, ks_unknown, Meta, Sub};
use crate::command::spec::flags::*;

/// Every data type command's metadata.
pub(super) const TYPES: &[Meta] = &[
    Meta::new("get", "string", "1.0.0", "Returns a key's string value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("set", "string", "1.0.0", "Sets a key's string value, with options for conditions, expiry and returning the old value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks_noted(key::RW | key::ACCESS | key::UPDATE | key::VARIABLE_FLAGS, 1, 0, 1, "RW and ACCESS due to the optional `GET` argument")]),
    Meta::new("setnx", "string", "1.0.0", "Sets a key's value only if the key does not exist", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::OW | key::INSERT, 1, 0, 1)]),
    Meta::new("setex", "string", "2.0.0", "Sets a key's value with a time to live in seconds", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::OW | key::UPDATE, 1, 0, 1)]),
    Meta::new("psetex", "string", "2.6.0", "Sets a key's value with a time to live in milliseconds", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::OW | key::UPDATE, 1, 0, 1)]),
    Meta::new("getset", "string", "1.0.0", "Sets a key's value and returns the old one", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)])
        .deprecated("6.2.0", "`SET` with the `!GET` argument"),
    Meta::new("getdel", "string", "6.2.0", "Returns a key's value and removes the key", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1)]),
    Meta::new("getex", "string", "6.2.0", "Returns a key's value, optionally changing its expiry", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks_noted(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1, "RW and UPDATE because it changes the TTL")]),
    Meta::new("mget", "string", "1.0.0", "Returns the values of several keys", "O(K log N) where K is the number of keys")
        .acl(acl::STRING)
        .tips(&["request_policy:multi_shard"])
        .keys(&[ks(key::RO | key::ACCESS, 1, -1, 1)]),
    Meta::new("mset", "string", "1.0.1", "Sets several keys atomically", "O(K log N) where K is the number of keys")
        .acl(acl::STRING)
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
        .keys(&[ks(key::OW | key::UPDATE, 1, -1, 2)]),
    Meta::new("msetnx", "string", "1.0.1", "Sets several keys atomically, only if none of them exists", "O(K log N) where K is the number of keys")
        .acl(acl::STRING)
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .keys(&[ks(key::OW | key::INSERT, 1, -1, 2)]),
    Meta::new("incr", "string", "1.0.0", "Adds one to a key's integer value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("decr", "string", "1.0.0", "Subtracts one from a key's integer value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("incrby", "string", "1.0.0", "Adds an integer to a key's integer value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("decrby", "string", "1.0.0", "Subtracts an integer from a key's integer value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("incrbyfloat", "string", "2.6.0", "Adds a decimal number to a key's numeric value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("append", "string", "2.0.0", "Appends bytes to a key's value", "O(log N) plus the bytes appended")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("strlen", "string", "2.2.0", "Returns the length of a key's value", "O(log N)")
        .acl(acl::STRING)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("getrange", "string", "2.4.0", "Returns part of a key's value, by byte offsets", "O(log N + M) where M is the length returned")
        .acl(acl::STRING)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("substr", "string", "1.0.0", "Returns part of a key's value, by byte offsets (old name of GETRANGE)", "O(log N + M) where M is the length returned")
        .acl(acl::STRING)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)])
        .deprecated("2.0.0", "`GETRANGE`"),
    Meta::new("setrange", "string", "2.2.0", "Overwrites part of a key's value from a byte offset, growing it if needed", "O(log N + M) where M is the length written")
        .acl(acl::STRING)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("setbit", "bitmap", "2.2.0", "Sets or clears the bit at an offset of a key's value, growing it if needed", "O(1)")
        .acl(acl::BITMAP)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("getbit", "bitmap", "2.2.0", "Returns the bit at an offset of a key's value", "O(1)")
        .acl(acl::BITMAP)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("bitcount", "bitmap", "2.6.0", "Counts the set bits of a key's value, or of a range of it", "O(N)")
        .acl(acl::BITMAP)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("bitpos", "bitmap", "2.8.7", "Finds the first set or clear bit of a key's value, or of a range of it", "O(N)")
        .acl(acl::BITMAP)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("bitop", "bitmap", "2.6.0", "Stores the AND, OR, XOR or NOT of strings in a key", "O(N)")
        .acl(acl::BITMAP)
        .keys(&[
            ks(key::OW | key::UPDATE, 2, 0, 1),
            ks(key::RO | key::ACCESS, 3, -1, 1),
        ]),
    Meta::new("bitfield", "bitmap", "3.2.0", "Reads, sets and increments integer fields of any width at any bit offset of a key's value", "O(1) for each subcommand specified")
        .acl(acl::BITMAP)
        .keys(&[ks_noted(key::RW | key::ACCESS | key::UPDATE | key::VARIABLE_FLAGS, 1, 0, 1, "This command allows both access and modification of the key")]),
    Meta::new("bitfield_ro", "bitmap", "6.0.0", "Reads integer fields of any width at any bit offset of a key's value", "O(1) for each subcommand specified")
        .acl(acl::BITMAP)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("lcs", "string", "7.0.0", "Finds the longest common subsequence of two keys' values", "O(N*M) where N and M are the lengths of s1 and s2, respectively")
        .acl(acl::STRING)
        .keys(&[ks(key::RO | key::ACCESS, 1, 1, 1)]),
    Meta::new("pfadd", "hyperloglog", "2.8.9", "Adds elements to a HyperLogLog, creating it if needed", "O(1) to add every element.")
        .acl(acl::HYPERLOGLOG)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("pfcount", "hyperloglog", "2.8.9", "Estimates how many distinct elements the HyperLogLogs at the keys saw", "O(1) with a very small average constant time for one key; O(N) for N keys, with much bigger constant times.")
        .acl(acl::HYPERLOGLOG)
        .keys(&[ks(key::RW | key::ACCESS, 1, -1, 1)]),
    Meta::new("pfmerge", "hyperloglog", "2.8.9", "Merges HyperLogLogs into one", "O(N) to merge N HyperLogLogs, but with high constant times.")
        .acl(acl::HYPERLOGLOG)
        .keys(&[ks(key::RW | key::ACCESS | key::INSERT, 1, 0, 1), ks(key::RO | key::ACCESS, 2, -1, 1)]),
    Meta::new("pfdebug", "hyperloglog", "2.8.9", "Internal commands for debugging HyperLogLog values", "N/A")
        .acl(acl::HYPERLOGLOG | acl::DANGEROUS)
        .keys(&[ks(key::RW | key::ACCESS, 2, 0, 1)]),
    Meta::new("pfselftest", "hyperloglog", "2.8.9", "An internal command for testing HyperLogLog values", "N/A")
        .acl(acl::HYPERLOGLOG | acl::DANGEROUS),
    Meta::new("geoadd", "geo", "3.2.0", "Adds positions to a geospatial index (a sorted set), creating it if needed", "O(log(N)) for each item added, where N is the number of elements in the sorted set.")
        .acl(acl::GEO)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("geopos", "geo", "3.2.0", "Returns the longitude and latitude of members of a geospatial index", "O(N) where N is the number of members requested.")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("geodist", "geo", "3.2.0", "Returns the distance between two members of a geospatial index", "O(log(N))")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("geohash", "geo", "3.2.0", "Returns members of a geospatial index as geohash strings", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("georadius", "geo", "3.2.0", "Finds members of a geospatial index within a radius of a position; STORE keeps them", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1), ks_unknown(key::OW | key::UPDATE, "For the optional STORE and STOREDIST keywords. It is marked 'unknown' because the keyword can appear anywhere in the argument array")]),
    Meta::new("georadius_ro", "geo", "3.2.10", "Finds members of a geospatial index within a radius of a position", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("georadiusbymember", "geo", "3.2.0", "Finds members of a geospatial index within a radius of a member; STORE keeps them", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1), ks_unknown(key::OW | key::UPDATE, "For the optional STORE and STOREDIST keywords. It is marked 'unknown' because the keyword can appear anywhere in the argument array")]),
    Meta::new("georadiusbymember_ro", "geo", "3.2.10", "Finds members of a geospatial index within a radius of a member", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("geosearch", "geo", "6.2.0", "Finds members of a geospatial index within a circle or a box", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape")
        .acl(acl::GEO)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("geosearchstore", "geo", "6.2.0", "Finds members of a geospatial index within a circle or a box and stores them", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape")
        .acl(acl::GEO)
        .keys(&[ks(key::OW | key::UPDATE, 1, 0, 1), ks(key::RO | key::ACCESS, 2, 0, 1)]),
    Meta::new("hset", "hash", "2.0.0", "Sets fields of a hash, creating it if needed", "O(1) for each field/value pair added")
        .acl(acl::HASH)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("hsetnx", "hash", "2.0.0", "Sets a field of a hash only if the field does not exist", "O(1)")
        .acl(acl::HASH)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("hmset", "hash", "2.0.0", "Sets fields of a hash, creating it if needed", "O(N) where N is the number of fields set")
        .acl(acl::HASH)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)])
        .deprecated("4.0.0", "`HSET` with multiple field-value pairs"),
    Meta::new("hget", "hash", "2.0.0", "Returns the value of a field in a hash", "O(1)")
        .acl(acl::HASH)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("hmget", "hash", "2.0.0", "Returns the values of several fields in a hash", "O(N) where N is the number of fields asked for")
        .acl(acl::HASH)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("hdel", "hash", "2.0.0", "Removes fields from a hash, and the key with its last field", "O(N) where N is the number of fields removed")
        .acl(acl::HASH)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("hlen", "hash", "2.0.0", "Returns the number of fields in a hash", "O(1)")
        .acl(acl::HASH)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("hexists", "hash", "2.0.0", "Says whether a field exists in a hash", "O(1)")
        .acl(acl::HASH)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("hstrlen", "hash", "3.2.0", "Returns the length of a field's value in a hash", "O(1)")
        .acl(acl::HASH)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("hkeys", "hash", "2.0.0", "Returns every field of a hash", "O(N) where N is the size of the hash")
        .acl(acl::HASH)
        .tips(&["nondeterministic_output_order"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("hvals", "hash", "2.0.0", "Returns every value of a hash", "O(N) where N is the size of the hash")
        .acl(acl::HASH)
        .tips(&["nondeterministic_output_order"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("hgetall", "hash", "2.0.0", "Returns every field and value of a hash", "O(N) where N is the size of the hash")
        .acl(acl::HASH)
        .tips(&["nondeterministic_output_order"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("hincrby", "hash", "2.0.0", "Adds an integer to a hash field's integer value", "O(1)")
        .acl(acl::HASH)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("hincrbyfloat", "hash", "2.6.0", "Adds a decimal number to a hash field's numeric value", "O(1)")
        .acl(acl::HASH)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("hrandfield", "hash", "6.2.0", "Returns random fields of a hash, with their values if asked", "O(N) where N is the number of fields returned")
        .acl(acl::HASH)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("hscan", "hash", "2.8.0", "Iterates over the fields and values of a hash", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")
        .acl(acl::HASH)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("sadd", "set", "1.0.0", "Adds members to a set, creating it if needed", "O(1) for each member added")
        .acl(acl::SET)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("srem", "set", "1.0.0", "Removes members from a set, and the key with its last member", "O(N) where N is the number of members removed")
        .acl(acl::SET)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("scard", "set", "1.0.0", "Returns the number of members of a set", "O(1)")
        .acl(acl::SET)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("sismember", "set", "1.0.0", "Says whether a value is a member of a set", "O(1)")
        .acl(acl::SET)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("smismember", "set", "6.2.0", "Says, for each of several values, whether it is a member of a set", "O(N) where N is the number of values asked about")
        .acl(acl::SET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("smembers", "set", "1.0.0", "Returns every member of a set", "O(N) where N is the size of the set")
        .acl(acl::SET)
        .tips(&["nondeterministic_output_order"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("srandmember", "set", "1.0.0", "Returns random members of a set, repeats allowed for a negative count", "O(N) where N is the size of the set with a count, O(1) without")
        .acl(acl::SET)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("spop", "set", "1.0.0", "Removes and returns random members of a set", "O(N) where N is the size of the set")
        .acl(acl::SET)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1)]),
    Meta::new("smove", "set", "1.0.0", "Moves a member from one set to another", "O(1)")
        .acl(acl::SET)
        .keys(&[
            ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1),
            ks(key::RW | key::INSERT, 2, 0, 1),
        ]),
    Meta::new("sinter", "set", "1.0.0", "Returns the members common to every given set", "O(N*M) where N is the size of the smallest set and M the number of sets")
        .acl(acl::SET)
        .tips(&["nondeterministic_output_order"])
        .keys(&[ks(key::RO | key::ACCESS, 1, -1, 1)]),
    Meta::new("sintercard", "set", "7.0.0", "Returns the number of members common to every given set, up to a limit", "O(N*M) where N is the size of the smallest set and M the number of sets")
        .acl(acl::SET)
        .keys(&[ks_keynum(key::RO | key::ACCESS, 1, 0, 1, 1)]),
    Meta::new("sinterstore", "set", "1.0.0", "Stores the members common to every given set in a key", "O(N*M) where N is the size of the smallest set and M the number of sets")
        .acl(acl::SET)
        .keys(&[
            ks(key::RW | key::UPDATE, 1, 0, 1),
            ks(key::RO | key::ACCESS, 2, -1, 1),
        ]),
    Meta::new("sunion", "set", "1.0.0", "Returns the members of any of the given sets", "O(N) where N is the number of members of all the sets")
        .acl(acl::SET)
        .tips(&["nondeterministic_output_order"])
        .keys(&[ks(key::RO | key::ACCESS, 1, -1, 1)]),
    Meta::new("sunionstore", "set", "1.0.0", "Stores the members of any of the given sets in a key", "O(N) where N is the number of members of all the sets")
        .acl(acl::SET)
        .keys(&[
            ks(key::OW | key::UPDATE, 1, 0, 1),
            ks(key::RO | key::ACCESS, 2, -1, 1),
        ]),
    Meta::new("sdiff", "set", "1.0.0", "Returns the members of the first set that are in none of the others", "O(N) where N is the number of members of all the sets")
        .acl(acl::SET)
        .tips(&["nondeterministic_output_order"])
        .keys(&[ks(key::RO | key::ACCESS, 1, -1, 1)]),
    Meta::new("sdiffstore", "set", "1.0.0", "Stores the members of the first set that are in none of the others in a key", "O(N) where N is the number of members of all the sets")
        .acl(acl::SET)
        .keys(&[
            ks(key::OW | key::UPDATE, 1, 0, 1),
            ks(key::RO | key::ACCESS, 2, -1, 1),
        ]),
    Meta::new("sscan", "set", "2.8.0", "Iterates over the members of a set", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")
        .acl(acl::SET)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("lpush", "list", "1.0.0", "Adds elements at the head of a list, creating it if needed", "O(1) for each element added")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("rpush", "list", "1.0.0", "Adds elements at the tail of a list, creating it if needed", "O(1) for each element added")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("lpushx", "list", "2.2.0", "Adds elements at the head of a list, only if it exists", "O(1) for each element added")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("rpushx", "list", "2.2.0", "Adds elements at the tail of a list, only if it exists", "O(1) for each element added")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("lpop", "list", "1.0.0", "Removes and returns elements from the head of a list", "O(N) where N is the number of elements returned")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1)]),
    Meta::new("rpop", "list", "1.0.0", "Removes and returns elements from the tail of a list", "O(N) where N is the number of elements returned")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1)]),
    Meta::new("llen", "list", "1.0.0", "Returns the length of a list", "O(1)")
        .acl(acl::LIST)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("lrange", "list", "1.0.0", "Returns a range of a list's elements, by index", "O(S+N) where S is the distance of the start from the nearer end, in chunks, and N the number of elements returned")
        .acl(acl::LIST)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("lindex", "list", "1.0.0", "Returns the element of a list at an index", "O(N) where N is the distance from the nearer end, in chunks; O(1) near either end")
        .acl(acl::LIST)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("lset", "list", "1.0.0", "Replaces the element of a list at an index", "O(N) where N is the distance from the nearer end, in chunks")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("linsert", "list", "2.2.0", "Inserts an element before or after another in a list", "O(N) where N is the number of elements before the pivot")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::INSERT, 1, 0, 1)]),
    Meta::new("lrem", "list", "1.0.0", "Removes elements equal to a value from a list", "O(N) where N is the length of the list")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("ltrim", "list", "1.0.0", "Keeps only a range of a list's elements", "O(N) where N is the number of elements kept plus those before them")
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("lpos", "list", "6.0.6", "Returns the positions of elements equal to a value in a list", "O(N) where N is the number of elements looked at")
        .acl(acl::LIST)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("lmove", "list", "6.2.0", "Pops an element from one list and pushes it onto another", "O(1)")
        .acl(acl::LIST)
        .keys(&[
            ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1),
            ks(key::RW | key::INSERT, 2, 0, 1),
        ]),
    Meta::new("rpoplpush", "list", "1.2.0", "Pops an element from the tail of one list and pushes it onto the head of another", "O(1)")
        .acl(acl::LIST)
        .keys(&[
            ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1),
            ks(key::RW | key::INSERT, 2, 0, 1),
        ])
        .deprecated("6.2.0", "`LMOVE` with the `RIGHT` and `LEFT` arguments"),
    Meta::new("lmpop", "list", "7.0.0", "Pops elements from the first non-empty list of several", "O(N+M) where N is the number of keys given and M the number of elements returned")
        .acl(acl::LIST)
        .keys(&[ks_keynum(key::RW | key::ACCESS | key::DELETE, 1, 0, 1, 1)]),
    Meta::new("blpop", "list", "2.0.0", "Pops an element from the head of the first non-empty list, waiting for one if all are empty", "O(N) where N is the number of keys")
        .flags(NOSCRIPT)
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, -2, 1)]),
    Meta::new("brpop", "list", "2.0.0", "Pops an element from the tail of the first non-empty list, waiting for one if all are empty", "O(N) where N is the number of keys")
        .flags(NOSCRIPT)
        .acl(acl::LIST)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, -2, 1)]),
    Meta::new("blmove", "list", "6.2.0", "Moves an element from one list to another, waiting for one if the source is empty", "O(1)")
        .flags(NOSCRIPT)
        .acl(acl::LIST)
        .keys(&[
            ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1),
            ks(key::RW | key::INSERT, 2, 0, 1),
        ]),
    Meta::new("brpoplpush", "list", "2.2.0", "Moves an element from the tail of one list to the head of another, waiting for one if the source is empty", "O(1)")
        .flags(NOSCRIPT)
        .acl(acl::LIST)
        .keys(&[
            ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1),
            ks(key::RW | key::INSERT, 2, 0, 1),
        ])
        .deprecated("6.2.0", "`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
    Meta::new("blmpop", "list", "7.0.0", "Pops elements from the first non-empty list of several, waiting for one if all are empty", "O(N+M) where N is the number of keys given and M the number of elements returned")
        .acl(acl::LIST)
        .keys(&[ks_keynum(key::RW | key::ACCESS | key::DELETE, 2, 0, 1, 1)]),
    Meta::new("zadd", "sorted-set", "1.2.0", "Add one or more members to a sorted set, or update its score if it already exists", "O(log(N)) for each item added, where N is the number of elements in the sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("zincrby", "sorted-set", "1.2.0", "Increment the score of a member in a sorted set", "O(log(N)) where N is the number of elements in the sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("zrem", "sorted-set", "1.2.0", "Remove one or more members from a sorted set", "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("zcard", "sorted-set", "1.2.0", "Get the number of members in a sorted set", "O(1)")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("zscore", "sorted-set", "1.2.0", "Get the score associated with the given member in a sorted set", "O(1)")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zmscore", "sorted-set", "6.2.0", "Get the score associated with the given members in a sorted set", "O(N) where N is the number of members being requested.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrank", "sorted-set", "2.0.0", "Determine the index of a member in a sorted set", "O(log(N))")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrevrank", "sorted-set", "2.0.0", "Determine the index of a member in a sorted set, with scores ordered from high to low", "O(log(N))")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zcount", "sorted-set", "2.0.0", "Count the members in a sorted set with scores within the given values", "O(log(N)) with N being the number of elements in the sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zlexcount", "sorted-set", "2.8.9", "Count the number of members in a sorted set between a given lexicographical range", "O(log(N)) with N being the number of elements in the sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrange", "sorted-set", "1.2.0", "Return a range of members in a sorted set", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrevrange", "sorted-set", "1.2.0", "Return a range of members in a sorted set, by index, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrangebyscore", "sorted-set", "1.0.5", "Return a range of members in a sorted set, by score", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrevrangebyscore", "sorted-set", "2.2.0", "Return a range of members in a sorted set, by score, with scores ordered from high to low", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrangebylex", "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zrevrangebylex", "sorted-set", "2.8.9", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zremrangebyrank", "sorted-set", "2.0.0", "Remove all members in a sorted set within the given indexes", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("zremrangebyscore", "sorted-set", "1.2.0", "Remove all members in a sorted set within the given scores", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("zremrangebylex", "sorted-set", "2.8.9", "Remove all members in a sorted set between the given lexicographical range", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("zpopmin", "sorted-set", "5.0.0", "Remove and return members with the lowest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1)]),
    Meta::new("zpopmax", "sorted-set", "5.0.0", "Remove and return members with the highest scores in a sorted set", "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.")
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1)]),
    Meta::new("zunion", "sorted-set", "6.2.0", "Add multiple sorted sets", "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[ks_keynum(key::RO | key::ACCESS, 1, 0, 1, 1)]),
    Meta::new("zinter", "sorted-set", "6.2.0", "Intersect multiple sorted sets", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[ks_keynum(key::RO | key::ACCESS, 1, 0, 1, 1)]),
    Meta::new("zdiff", "sorted-set", "6.2.0", "Subtract multiple sorted sets", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.")
        .acl(acl::SORTEDSET)
        .keys(&[ks_keynum(key::RO | key::ACCESS, 1, 0, 1, 1)]),
    Meta::new("zunionstore", "sorted-set", "2.0.0", "Add multiple sorted sets and store the resulting sorted set in a new key", "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[
            ks(key::OW | key::UPDATE, 1, 0, 1),
            ks_keynum(key::RO | key::ACCESS, 2, 0, 1, 1),
        ]),
    Meta::new("zinterstore", "sorted-set", "2.0.0", "Intersect multiple sorted sets and store the resulting sorted set in a new key", "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.")
        .acl(acl::SORTEDSET)
        .keys(&[
            ks(key::OW | key::UPDATE, 1, 0, 1),
            ks_keynum(key::RO | key::ACCESS, 2, 0, 1, 1),
        ]),
    Meta::new("zdiffstore", "sorted-set", "6.2.0", "Subtract multiple sorted sets and store the resulting sorted set in a new key", "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.")
        .acl(acl::SORTEDSET)
        .keys(&[
            ks(key::OW | key::UPDATE, 1, 0, 1),
            ks_keynum(key::RO | key::ACCESS, 2, 0, 1, 1),
        ]),
    Meta::new("zintercard", "sorted-set", "7.0.0", "Intersect multiple sorted sets and return the cardinality of the result", "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.")
        .acl(acl::SORTEDSET)
        .keys(&[ks_keynum(key::RO | key::ACCESS, 1, 0, 1, 1)]),
    Meta::new("zrangestore", "sorted-set", "6.2.0", "Store a range of members from sorted set into another key", "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.")
        .acl(acl::SORTEDSET)
        .keys(&[
            ks(key::OW | key::UPDATE, 1, 0, 1),
            ks(key::RO | key::ACCESS, 2, 0, 1),
        ]),
    Meta::new("zmpop", "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.")
        .acl(acl::SORTEDSET)
        .keys(&[ks_keynum(key::RW | key::ACCESS | key::DELETE, 1, 0, 1, 1)]),
    Meta::new("zrandmember", "sorted-set", "6.2.0", "Get one or multiple random elements from a sorted set", "O(N) where N is the number of elements returned")
        .acl(acl::SORTEDSET)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("zscan", "sorted-set", "2.8.0", "Incrementally iterate sorted sets elements and associated scores", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..")
        .acl(acl::SORTEDSET)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("bzpopmin", "sorted-set", "5.0.0", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.")
        .flags(NOSCRIPT)
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, -2, 1)]),
    Meta::new("bzpopmax", "sorted-set", "5.0.0", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", "O(log(N)) with N being the number of elements in the sorted set.")
        .flags(NOSCRIPT)
        .acl(acl::SORTEDSET)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, -2, 1)]),
    Meta::new("bzmpop", "sorted-set", "7.0.0", "Remove and return members with scores in a sorted set or block until one is available", "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.")
        .acl(acl::SORTEDSET)
        .keys(&[ks_keynum(key::RW | key::ACCESS | key::DELETE, 2, 0, 1, 1)]),
    Meta::new("xadd", "stream", "5.0.0", "Appends an entry to a stream, creating it if needed, and trims it if asked", "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.")
        .acl(acl::STREAM)
        .tips(&["nondeterministic_output"])
        .keys(&[ks_noted(key::RW | key::UPDATE, 1, 0, 1, "UPDATE instead of INSERT because of the optional trimming feature")]),
    Meta::new("xlen", "stream", "5.0.0", "Returns the number of entries in a stream", "O(1)")
        .acl(acl::STREAM)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("xrange", "stream", "5.0.0", "Returns the entries of a stream whose IDs lie in a range", "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).")
        .acl(acl::STREAM)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("xrevrange", "stream", "5.0.0", "Returns the entries of a stream whose IDs lie in a range, from the highest ID down", "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).")
        .acl(acl::STREAM)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("xdel", "stream", "5.0.0", "Deletes entries from a stream; returns how many were there", "O(1) for each single item to delete in the stream, regardless of the stream size.")
        .acl(acl::STREAM)
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("xtrim", "stream", "5.0.0", "Trims a stream's oldest entries, to a length or below an ID (by whole nodes with ~)", "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.")
        .acl(acl::STREAM)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("xsetid", "stream", "5.0.0", "Sets a stream's last ID and counters (how replicas and AOF carry them)", "O(1)")
        .acl(acl::STREAM)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("xread", "stream", "5.0.0", "Returns the entries of one or more streams past the IDs given; can wait for them", "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.")
        .acl(acl::STREAM)
        .keys(&[ks_keyword(key::RO | key::ACCESS, "STREAMS", 1, -1, 1, 2)]),
    Meta::new("xreadgroup", "stream", "5.0.0", "Delivers a stream's new entries to a consumer of a group, or reads its pending history; can wait for them", "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.")
        .acl(acl::STREAM)
        .keys(&[ks_keyword(key::RO | key::ACCESS, "STREAMS", 4, -1, 1, 2)]),
    Meta::new("xgroup", "stream", "5.0.0", "Creates, moves and destroys consumer groups and their consumers", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("xgroup|create", -5, WRITE | DENYOOM, "5.0.0", "Creates a consumer group (and with MKSTREAM, its stream)", "O(1)")
                .acl(acl::STREAM)
                .keys((2, 2, 1), &[ks(key::RW | key::INSERT, 2, 0, 1)]),
            Sub::new("xgroup|setid", -5, WRITE, "5.0.0", "Sets a consumer group's last delivered ID", "O(1)")
                .acl(acl::STREAM)
                .keys((2, 2, 1), &[ks(key::RW | key::UPDATE, 2, 0, 1)]),
            Sub::new("xgroup|help", 2, LOADING | STALE, "5.0.0", "Lists the XGROUP subcommands", "O(1)")
                .acl(acl::STREAM),
            Sub::new("xgroup|destroy", 4, WRITE, "5.0.0", "Destroys a consumer group", "O(N) where N is the number of entries in the group's pending entries list (PEL).")
                .acl(acl::STREAM)
                .keys((2, 2, 1), &[ks(key::RW | key::DELETE, 2, 0, 1)]),
            Sub::new("xgroup|createconsumer", 5, WRITE | DENYOOM, "6.2.0", "Creates a consumer in a consumer group", "O(1)")
                .acl(acl::STREAM)
                .keys((2, 2, 1), &[ks(key::RW | key::INSERT, 2, 0, 1)]),
            Sub::new("xgroup|delconsumer", 5, WRITE, "5.0.0", "Deletes a consumer from a consumer group, with its pending entries", "O(1)")
                .acl(acl::STREAM)
                .keys((2, 2, 1), &[ks(key::RW | key::DELETE, 2, 0, 1)]),
        ]),
    Meta::new("xack", "stream", "5.0.0", "Acknowledges entries of a consumer group: they leave its pending entries list", "O(1) for each message ID processed.")
        .acl(acl::STREAM)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("xclaim", "stream", "5.0.0", "Gives pending entries of a consumer group to another consumer", "O(log N) with N being the number of messages in the PEL of the consumer group.")
        .acl(acl::STREAM)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("xautoclaim", "stream", "6.2.0", "Gives a consumer the pending entries of its group idle past a time, scanning from an ID", "O(1) if COUNT is small.")
        .acl(acl::STREAM)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RW | key::DELETE, 1, 0, 1)]),
    Meta::new("xpending", "stream", "5.0.0", "Summarises or lists a consumer group's pending entries", "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.")
        .acl(acl::STREAM)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("xinfo", "stream", "5.0.0", "Describes a stream, its consumer groups or a group's consumers", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("xinfo|stream", -3, READONLY, "5.0.0", "Describes a stream; with FULL, its entries, groups and pending entries too", "O(1)")
                .acl(acl::STREAM)
                .keys((2, 2, 1), &[ks(key::RO | key::ACCESS, 2, 0, 1)]),
            Sub::new("xinfo|help", 2, LOADING | STALE, "5.0.0", "Lists the XINFO subcommands", "O(1)")
                .acl(acl::STREAM),
            Sub::new("xinfo|groups", 3, READONLY, "5.0.0", "Lists a stream's consumer groups", "O(1)")
                .acl(acl::STREAM)
                .keys((2, 2, 1), &[ks(key::RO | key::ACCESS, 2, 0, 1)]),
            Sub::new("xinfo|consumers", 4, READONLY, "5.0.0", "Lists the consumers of a consumer group", "O(1)")
                .acl(acl::STREAM)
                .tips(&["nondeterministic_output"])
                .keys((2, 2, 1), &[ks(key::RO | key::ACCESS, 2, 0, 1)]),
        ]),
];
