//! The metadata table of the server, connection, key, pub/sub, scripting
//! and transaction commands: one entry per command, in the order of the
//! command table (the data type commands are `types_table.rs`'s). Facts
//! about the Redis API (groups, versions, ACL categories, tips, key
//! specifications, subcommand arities and flags) are Redis 7.0.15's;
//! summaries and complexities are ours.

use super::acl;
use super::key;
use super::{ks, ks_keynum, ks_unknown, KeySpec, Meta, Sub};

/// EVAL's keys: counted by `numkeys`, and read and written as the script
/// pleases.
const EVAL_RW_KEYS: KeySpec = KeySpec {
    notes: Some("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"),
    ..ks_keynum(key::RW | key::ACCESS | key::UPDATE, 2, 0, 1, 1)
};

/// EVAL_RO's keys.
const EVAL_RO_KEYS: KeySpec = KeySpec {
    notes: Some("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"),
    ..ks_keynum(key::RO | key::ACCESS, 2, 0, 1, 1)
};
use crate::command::spec::flags::*;

/// The metadata of every command but the data types'.
pub(super) const META: &[Meta] = &[
    Meta::new("command", "server", "2.8.13", "Describes the commands this server supports", "O(N) where N is the number of commands")
        .flags(LOADING | STALE)
        .acl(acl::CONNECTION)
        .tips(&["nondeterministic_output_order"])
        .subcommands(&[
            Sub::new("command|docs", -2, LOADING | STALE, "7.0.0", "Documents the named commands, or all of them", "O(N) where N is the number of commands documented")
                .acl(acl::CONNECTION)
                .tips(&["nondeterministic_output_order"]),
            Sub::new("command|count", 2, LOADING | STALE, "2.8.13", "Counts the commands this server supports", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("command|getkeys", -4, LOADING | STALE, "2.8.13", "Lists the keys of a full command", "O(N) where N is the number of arguments")
                .acl(acl::CONNECTION),
            Sub::new("command|getkeysandflags", -4, LOADING | STALE, "7.0.0", "Lists the keys of a full command, with how the command uses each", "O(N) where N is the number of arguments")
                .acl(acl::CONNECTION),
            Sub::new("command|help", 2, LOADING | STALE, "5.0.0", "Lists the COMMAND subcommands", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("command|info", -2, LOADING | STALE, "2.8.13", "Describes the named commands, or all of them", "O(N) where N is the number of commands described")
                .acl(acl::CONNECTION)
                .tips(&["nondeterministic_output_order"]),
            Sub::new("command|list", -2, LOADING | STALE, "7.0.0", "Lists the names of every command", "O(N) where N is the number of commands")
                .acl(acl::CONNECTION)
                .tips(&["nondeterministic_output_order"]),
        ]),
    Meta::new("shutdown", "server", "1.0.0", "Stops the server after closing every connection, saving first when save rules are set or SAVE is given", "O(N) where N is the number of connections")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY),
    Meta::new("config", "server", "2.0.0", "Reads and changes the server's settings", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("config|get", -3, ADMIN | NOSCRIPT | LOADING | STALE, "2.0.0", "Reads the settings whose names match glob patterns", "O(N) where N is the number of settings"),
            Sub::new("config|set", -4, ADMIN | NOSCRIPT | LOADING | STALE, "2.0.0", "Changes settings at run time, all or none", "O(N) where N is the number of settings given")
                .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
            Sub::new("config|resetstat", 2, ADMIN | NOSCRIPT | LOADING | STALE, "2.0.0", "Zeroes the statistics INFO reports", "O(1)"),
            Sub::new("config|help", 2, LOADING | STALE, "5.0.0", "Lists the CONFIG subcommands", "O(1)"),
        ]),
    Meta::new("acl", "server", "6.0.0", "A container for access control commands", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("acl|cat", -2, NOSCRIPT | LOADING | STALE, "6.0.0", "Lists the ACL categories, or the commands in one", "O(1) since the categories and commands are a fixed set."),
            Sub::new("acl|deluser", -3, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Removes users, closing their connections", "O(1) amortized time considering the typical user."),
            Sub::new("acl|dryrun", -4, ADMIN | NOSCRIPT | LOADING | STALE, "7.0.0", "Says whether a user could run a command, without running it", "O(1)."),
            Sub::new("acl|genpass", -2, NOSCRIPT | LOADING | STALE, "6.0.0", "Makes a random password from the OS's random source", "O(1)"),
            Sub::new("acl|getuser", 3, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Shows a user's flags, password digests and permissions", "O(N). Where N is the number of password, command and pattern rules that the user has."),
            Sub::new("acl|help", 2, LOADING | STALE, "6.0.0", "Lists the ACL subcommands", "O(1)"),
            Sub::new("acl|list", 2, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Lists the users as ACL file lines", "O(N). Where N is the number of configured users."),
            Sub::new("acl|load", 2, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Replaces the users with the ACL file's, all or none", "O(N). Where N is the number of configured users."),
            Sub::new("acl|log", -2, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Lists the latest refusals, or clears them", "O(N) with N being the number of entries shown."),
            Sub::new("acl|save", 2, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Writes the users to the ACL file, atomically", "O(N). Where N is the number of configured users."),
            Sub::new("acl|setuser", -3, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Creates a user or changes its rules, all or none", "O(N). Where N is the number of rules provided."),
            Sub::new("acl|users", 2, ADMIN | NOSCRIPT | LOADING | STALE, "6.0.0", "Lists the users' names", "O(N). Where N is the number of configured users."),
            Sub::new("acl|whoami", 2, NOSCRIPT | LOADING | STALE, "6.0.0", "Names the connection's user", "O(1)"),
        ]),
    Meta::new("ping", "connection", "1.0.0", "Answers PONG, or echoes its argument", "O(1)")
        .acl(acl::CONNECTION)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Meta::new("echo", "connection", "1.0.0", "Replies with its argument", "O(1)")
        .flags(LOADING | STALE)
        .acl(acl::CONNECTION),
    Meta::new("hello", "connection", "6.0.0", "Chooses the protocol (RESP2 or RESP3), optionally authenticating and naming the connection", "O(1)")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::CONNECTION),
    Meta::new("auth", "connection", "1.0.0", "Authenticates the connection", "O(1)")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::CONNECTION),
    Meta::new("select", "connection", "1.0.0", "Chooses the connection's database", "O(1)")
        .flags(LOADING | STALE)
        .acl(acl::CONNECTION),
    Meta::new("quit", "connection", "1.0.0", "Closes the connection after replying", "O(1)")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::CONNECTION),
    Meta::new("reset", "connection", "6.2.0", "Returns the connection to its initial state", "O(1)")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::CONNECTION),
    Meta::new("expire", "generic", "1.0.0", "Gives a key a time to live in seconds", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("pexpire", "generic", "2.6.0", "Gives a key a time to live in milliseconds", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("expireat", "generic", "1.2.0", "Makes a key expire at a Unix time in seconds", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("pexpireat", "generic", "2.6.0", "Makes a key expire at a Unix time in milliseconds", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("ttl", "generic", "1.0.0", "Returns a key's remaining time to live in seconds", "O(log N)")
        .acl(acl::KEYSPACE)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("pttl", "generic", "2.6.0", "Returns a key's remaining time to live in milliseconds", "O(log N)")
        .acl(acl::KEYSPACE)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("expiretime", "generic", "7.0.0", "Returns the Unix time in seconds at which a key expires", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("pexpiretime", "generic", "7.0.0", "Returns the Unix time in milliseconds at which a key expires", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("persist", "generic", "2.2.0", "Removes a key's time to live", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::UPDATE, 1, 0, 1)]),
    Meta::new("del", "generic", "1.0.0", "Removes keys", "O(K log N) where K is the number of keys")
        .acl(acl::KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[ks(key::RM | key::DELETE, 1, -1, 1)]),
    Meta::new("unlink", "generic", "4.0.0", "Removes keys (as DEL: freeing is already cheap)", "O(K log N) where K is the number of keys")
        .acl(acl::KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[ks(key::RM | key::DELETE, 1, -1, 1)]),
    Meta::new("exists", "generic", "1.0.0", "Counts how many of the given keys exist", "O(K log N) where K is the number of keys")
        .acl(acl::KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[ks(key::RO, 1, -1, 1)]),
    Meta::new("touch", "generic", "3.2.1", "Counts how many of the given keys exist (access times are not tracked)", "O(K log N) where K is the number of keys")
        .acl(acl::KEYSPACE)
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .keys(&[ks(key::RO, 1, -1, 1)]),
    Meta::new("type", "generic", "1.0.0", "Returns the type of a key's value", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RO, 1, 0, 1)]),
    Meta::new("rename", "generic", "1.0.0", "Renames a key, replacing any key of the new name", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1), ks(key::OW | key::UPDATE, 2, 0, 1)]),
    Meta::new("renamenx", "generic", "1.0.0", "Renames a key only if the new name is free", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::ACCESS | key::DELETE, 1, 0, 1), ks(key::OW | key::INSERT, 2, 0, 1)]),
    Meta::new("copy", "generic", "6.2.0", "Copies a key's value to another key, in this or another database", "O(log N) plus the value's length")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1), ks(key::OW | key::UPDATE, 2, 0, 1)]),
    Meta::new("dump", "generic", "2.6.0", "Returns a key's value serialized in Redis's format", "O(1) to find the key, plus O(N*M) to serialize it: N items of average size M")
        .acl(acl::KEYSPACE)
        .tips(&["nondeterministic_output"])
        .keys(&[ks(key::RO | key::ACCESS, 1, 0, 1)]),
    Meta::new("restore", "generic", "2.6.0", "Creates a key from a value serialized by DUMP", "O(1) to create the key, plus O(N*M) to rebuild the value: N items of average size M")
        .acl(acl::KEYSPACE | acl::DANGEROUS)
        .keys(&[ks(key::OW | key::UPDATE, 1, 0, 1)]),
    Meta::new("move", "generic", "1.0.0", "Moves a key to another database", "O(log N)")
        .acl(acl::KEYSPACE)
        .keys(&[ks(key::RW | key::ACCESS | key::UPDATE, 1, 0, 1)]),
    Meta::new("swapdb", "server", "4.0.0", "Swaps the contents of two databases", "O(1)")
        .acl(acl::KEYSPACE | acl::DANGEROUS),
    Meta::new("keys", "generic", "1.0.0", "Lists every key matching a glob pattern", "O(N) where N is the number of keys in the database")
        .acl(acl::KEYSPACE | acl::DANGEROUS)
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    Meta::new("scan", "generic", "2.8.0", "Iterates over the keys, a page at a time, by cursor", "O(C log N) per call where C is the COUNT; O(N) for a full iteration")
        .acl(acl::KEYSPACE)
        .tips(&["nondeterministic_output", "request_policy:special"]),
    Meta::new("randomkey", "generic", "1.0.0", "Returns a key picked at random", "O(S log N) where S is the number of shards")
        .acl(acl::KEYSPACE)
        .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    Meta::new("dbsize", "server", "1.0.0", "Counts the keys in the database", "O(S) where S is the number of shards")
        .acl(acl::KEYSPACE)
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    Meta::new("flushdb", "server", "1.0.0", "Removes every key of the database", "O(N) where N is the number of keys in the database")
        .acl(acl::KEYSPACE | acl::DANGEROUS)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Meta::new("flushall", "server", "1.0.0", "Removes every key of every database", "O(N) where N is the number of keys")
        .acl(acl::KEYSPACE | acl::DANGEROUS)
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    Meta::new("subscribe", "pubsub", "2.0.0", "Listens for messages on channels", "O(N) where N is the number of channels")
        .flags(NOSCRIPT | LOADING | STALE),
    Meta::new("unsubscribe", "pubsub", "2.0.0", "Stops listening on channels, or on all", "O(N) where N is the number of channels")
        .flags(NOSCRIPT | LOADING | STALE),
    Meta::new("psubscribe", "pubsub", "2.0.0", "Listens for messages on channels matching glob patterns", "O(N) where N is the number of patterns")
        .flags(NOSCRIPT | LOADING | STALE),
    Meta::new("punsubscribe", "pubsub", "2.0.0", "Stops listening on patterns, or on all", "O(N) where N is the number of patterns")
        .flags(NOSCRIPT | LOADING | STALE),
    Meta::new("ssubscribe", "pubsub", "7.0.0", "Listens for messages on shard channels", "O(N) where N is the number of shard channels")
        .flags(NOSCRIPT | LOADING | STALE)
        .keys(&[ks(key::NOT_KEY, 1, -1, 1)]),
    Meta::new("sunsubscribe", "pubsub", "7.0.0", "Stops listening on shard channels, or on all", "O(N) where N is the number of shard channels")
        .flags(NOSCRIPT | LOADING | STALE)
        .keys(&[ks(key::NOT_KEY, 1, -1, 1)]),
    Meta::new("publish", "pubsub", "2.0.0", "Sends a message to a channel's subscribers and matching patterns", "O(N+M) where N is the channel's subscribers and M the patterns")
        .flags(LOADING | STALE),
    Meta::new("spublish", "pubsub", "7.0.0", "Sends a message to a shard channel's subscribers", "O(N) where N is the shard channel's subscribers")
        .flags(LOADING | STALE)
        .keys(&[ks(key::NOT_KEY, 1, 0, 1)]),
    Meta::new("pubsub", "pubsub", "2.8.0", "Reports on channels, patterns and their subscribers", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("pubsub|channels", -2, PUBSUB | LOADING | STALE, "2.8.0", "Lists channels with subscribers, optionally matching a pattern", "O(N) where N is the number of channels"),
            Sub::new("pubsub|numpat", 2, PUBSUB | LOADING | STALE, "2.8.0", "Counts the patterns subscribed to", "O(1)"),
            Sub::new("pubsub|numsub", -2, PUBSUB | LOADING | STALE, "2.8.0", "Counts the subscribers of channels", "O(N) where N is the number of channels given"),
            Sub::new("pubsub|shardchannels", -2, PUBSUB | LOADING | STALE, "7.0.0", "Lists shard channels with subscribers, optionally matching a pattern", "O(N) where N is the number of shard channels"),
            Sub::new("pubsub|shardnumsub", -2, PUBSUB | LOADING | STALE, "7.0.0", "Counts the subscribers of shard channels", "O(N) where N is the number of shard channels given"),
            Sub::new("pubsub|help", 2, LOADING | STALE, "6.2.0", "Lists the PUBSUB subcommands", "O(1)"),
        ]),
    Meta::new("sort", "generic", "1.0.0", "Sort the elements in a list, set or sorted set", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")
        .acl(acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS)
        .keys(&[
            ks(key::RO | key::ACCESS, 1, 0, 1),
            ks_unknown(key::RO | key::ACCESS, "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
            ks_unknown(key::OW | key::UPDATE, "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array"),
        ]),
    Meta::new("sort_ro", "generic", "7.0.0", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")
        .acl(acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS)
        .keys(&[
            ks(key::RO | key::ACCESS, 1, 0, 1),
            ks_unknown(key::RO | key::ACCESS, "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort"),
        ]),
    Meta::new("eval", "scripting", "2.6.0", "Executes a server-side Lua script", "Depends on the script that is executed.")
        .flags(STALE | SKIP_MONITOR | NO_MANDATORY_KEYS)
        .acl(acl::SCRIPTING)
        .keys(&[EVAL_RW_KEYS]),
    Meta::new("evalsha", "scripting", "2.6.0", "Executes a server-side Lua script by SHA1 digest", "Depends on the script that is executed.")
        .flags(STALE | SKIP_MONITOR | NO_MANDATORY_KEYS)
        .acl(acl::SCRIPTING)
        .keys(&[EVAL_RW_KEYS]),
    Meta::new("eval_ro", "scripting", "7.0.0", "Executes a read-only server-side Lua script", "Depends on the script that is executed.")
        .flags(STALE | SKIP_MONITOR | NO_MANDATORY_KEYS)
        .acl(acl::SCRIPTING)
        .keys(&[EVAL_RO_KEYS]),
    Meta::new("evalsha_ro", "scripting", "7.0.0", "Executes a read-only server-side Lua script by SHA1 digest", "Depends on the script that is executed.")
        .flags(STALE | SKIP_MONITOR | NO_MANDATORY_KEYS)
        .acl(acl::SCRIPTING)
        .keys(&[EVAL_RO_KEYS]),
    Meta::new("script", "scripting", "2.6.0", "A container for Lua scripts management commands", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("script|help", 2, LOADING | STALE, "5.0.0", "Show helpful text about the different subcommands", "O(1)")
                .acl(acl::SCRIPTING),
            Sub::new("script|exists", -3, NOSCRIPT, "2.6.0", "Check existence of scripts in the script cache.", "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).")
                .acl(acl::SCRIPTING)
                .tips(&["request_policy:all_shards", "response_policy:agg_logical_and"]),
            Sub::new("script|kill", 2, NOSCRIPT | ALLOW_BUSY, "2.6.0", "Kill the script currently in execution.", "O(1)")
                .acl(acl::SCRIPTING)
                .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
            Sub::new("script|load", 3, NOSCRIPT | STALE, "2.6.0", "Load the specified Lua script into the script cache.", "O(N) with N being the length in bytes of the script body.")
                .acl(acl::SCRIPTING)
                .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
            Sub::new("script|flush", -2, NOSCRIPT, "2.6.0", "Remove all the scripts from the script cache.", "O(N) with N being the number of scripts in cache")
                .acl(acl::SCRIPTING)
                .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
        ]),
    Meta::new("fcall", "scripting", "7.0.0", "Invokes a function", "Depends on the function that is executed.")
        .flags(STALE | SKIP_MONITOR | NO_MANDATORY_KEYS)
        .acl(acl::SCRIPTING)
        .keys(&[EVAL_RW_KEYS]),
    Meta::new("fcall_ro", "scripting", "7.0.0", "Invokes a read-only function", "Depends on the function that is executed.")
        .flags(STALE | SKIP_MONITOR | NO_MANDATORY_KEYS)
        .acl(acl::SCRIPTING)
        .keys(&[EVAL_RO_KEYS]),
    Meta::new("function", "scripting", "7.0.0", "A container for function commands", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("function|delete", 3, WRITE | NOSCRIPT, "7.0.0", "Delete a function by name", "O(1)")
                .acl(acl::WRITE | acl::SCRIPTING)
                .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
            Sub::new("function|dump", 2, NOSCRIPT, "7.0.0", "Dump all functions into a serialized binary payload", "O(N) where N is the number of functions")
                .acl(acl::SCRIPTING),
            Sub::new("function|flush", -2, WRITE | NOSCRIPT, "7.0.0", "Deleting all functions", "O(N) where N is the number of functions deleted")
                .acl(acl::WRITE | acl::SCRIPTING)
                .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
            Sub::new("function|help", 2, LOADING | STALE, "7.0.0", "Show helpful text about the different subcommands", "O(1)")
                .acl(acl::SCRIPTING),
            Sub::new("function|kill", 2, NOSCRIPT | ALLOW_BUSY, "7.0.0", "Kill the function currently in execution.", "O(1)")
                .acl(acl::SCRIPTING)
                .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
            Sub::new("function|list", -2, NOSCRIPT, "7.0.0", "List information about all the functions", "O(N) where N is the number of functions")
                .acl(acl::SCRIPTING)
                .tips(&["nondeterministic_output_order"]),
            Sub::new("function|load", -3, WRITE | DENYOOM | NOSCRIPT, "7.0.0", "Create a function with the given arguments (name, code, description)", "O(1) (considering compilation time is redundant)")
                .acl(acl::WRITE | acl::SCRIPTING)
                .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
            Sub::new("function|restore", -3, WRITE | DENYOOM | NOSCRIPT, "7.0.0", "Restore all the functions on the given payload", "O(N) where N is the number of functions on the payload")
                .acl(acl::WRITE | acl::SCRIPTING)
                .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
            Sub::new("function|stats", 2, NOSCRIPT | ALLOW_BUSY, "7.0.0", "Return information about the function currently running (name, description, duration)", "O(1)")
                .acl(acl::SCRIPTING)
                .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
        ]),
    Meta::new("multi", "transactions", "1.2.0", "Starts a transaction: the commands that follow are queued", "O(1)")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::TRANSACTION),
    Meta::new("exec", "transactions", "1.2.0", "Runs the queued commands atomically", "Depends on the commands queued")
        .flags(NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG)
        .acl(acl::TRANSACTION),
    Meta::new("discard", "transactions", "2.0.0", "Drops the queued commands and ends the transaction", "O(N) where N is the number of queued commands")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::TRANSACTION),
    Meta::new("watch", "transactions", "2.2.0", "Makes the next EXEC fail if any of the keys changes first", "O(K) where K is the number of keys")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::TRANSACTION)
        .keys(&[ks(key::RO, 1, -1, 1)]),
    Meta::new("unwatch", "transactions", "2.2.0", "Forgets the watched keys", "O(1)")
        .flags(NOSCRIPT | LOADING | STALE | ALLOW_BUSY)
        .acl(acl::TRANSACTION),
    Meta::new("client", "connection", "2.4.0", "Inspects and manages client connections", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("client|id", 2, NOSCRIPT | LOADING | STALE, "5.0.0", "Returns the connection's id", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("client|info", 2, NOSCRIPT | LOADING | STALE, "6.2.0", "Describes this connection", "O(1)")
                .acl(acl::CONNECTION)
                .tips(&["nondeterministic_output"]),
            Sub::new("client|list", -2, ADMIN | NOSCRIPT | LOADING | STALE, "2.4.0", "Describes every connection", "O(N) where N is the number of connections")
                .acl(acl::CONNECTION)
                .tips(&["nondeterministic_output"]),
            Sub::new("client|getname", 2, NOSCRIPT | LOADING | STALE, "2.6.9", "Returns the connection's name", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("client|setname", 3, NOSCRIPT | LOADING | STALE, "2.6.9", "Names the connection", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("client|kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, "2.4.0", "Closes connections chosen by id, address or user", "O(N) where N is the number of connections")
                .acl(acl::CONNECTION),
            Sub::new("client|pause", -3, ADMIN | NOSCRIPT | LOADING | STALE, "2.9.50", "Holds clients' commands for a while", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("client|unblock", -3, ADMIN | NOSCRIPT | LOADING | STALE, "5.0.0", "Ends another connection's blocking command, as a timeout or an error", "O(log N) where N is the number of client connections")
                .acl(acl::CONNECTION),
            Sub::new("client|unpause", 2, ADMIN | NOSCRIPT | LOADING | STALE, "6.2.0", "Lets paused clients run again", "O(N) where N is the number of paused clients")
                .acl(acl::CONNECTION),
            Sub::new("client|reply", 3, NOSCRIPT | LOADING | STALE, "3.2.0", "Turns replies to this connection on or off, or skips the next", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("client|no-evict", 3, ADMIN | NOSCRIPT | LOADING | STALE, "7.0.0", "Sets whether this connection may be evicted", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("client|tracking", -3, NOSCRIPT | LOADING | STALE, "6.0.0", "Client-side caching support (not supported yet)", "O(1)")
                .acl(acl::CONNECTION),
            Sub::new("client|help", 2, LOADING | STALE, "5.0.0", "Lists the CLIENT subcommands", "O(1)")
                .acl(acl::CONNECTION),
        ]),
    Meta::new("info", "server", "1.0.0", "Reports the server's state and statistics, by section", "O(1) per section; O(D+C) for keyspace and commandstats")
        .flags(LOADING | STALE)
        .acl(acl::DANGEROUS)
        .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
    Meta::new("memory", "server", "4.0.0", "Reports on memory use", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("memory|usage", -3, READONLY, "4.0.0", "Estimates the bytes a key and its value take", "O(log N)")
                .keys((2, 2, 1), &[ks(key::RO, 2, 0, 1)]),
            Sub::new("memory|help", 2, LOADING | STALE, "4.0.0", "Lists the MEMORY subcommands", "O(1)"),
            Sub::new("memory|doctor", 2, 0, "4.0.0", "Reports memory problems", "O(1)")
                .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
            Sub::new("memory|malloc-stats", 2, 0, "4.0.0", "Shows the allocator's own statistics", "Depends on how much memory is allocated, could be slow")
                .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
            Sub::new("memory|purge", 2, 0, "4.0.0", "Asks the allocator to return unused memory", "Depends on how much memory is allocated, could be slow")
                .tips(&["request_policy:all_shards"]),
            Sub::new("memory|stats", 2, 0, "4.0.0", "Shows memory use in detail", "O(1)")
                .tips(&["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]),
        ]),
    Meta::new("monitor", "server", "1.0.0", "Streams every command the server runs to this client", "O(1)")
        .flags(NOSCRIPT | LOADING | STALE),
    Meta::new("slowlog", "server", "2.2.12", "Reads and clears the slow log", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("slowlog|get", -2, ADMIN | LOADING | STALE, "2.2.12", "Returns the newest entries of the slow log", "O(N) where N is the number of entries returned")
                .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
            Sub::new("slowlog|help", 2, LOADING | STALE, "6.2.0", "Lists the SLOWLOG subcommands", "O(1)"),
            Sub::new("slowlog|len", 2, ADMIN | LOADING | STALE, "2.2.12", "Counts the entries in the slow log", "O(1)")
                .tips(&["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"]),
            Sub::new("slowlog|reset", 2, ADMIN | LOADING | STALE, "2.2.12", "Clears the slow log", "O(N) where N is the number of entries in the slowlog")
                .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
        ]),
    Meta::new("latency", "server", "2.8.13", "Reads and clears the latency monitor and the commands' latency histograms", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("latency|doctor", 2, ADMIN | NOSCRIPT | LOADING | STALE, "2.8.13", "Analyses the latency spikes recorded, in words", "O(1)")
                .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
            Sub::new("latency|graph", 3, ADMIN | NOSCRIPT | LOADING | STALE, "2.8.13", "Draws an event's latency spikes as an ASCII graph", "O(1)")
                .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
            Sub::new("latency|help", 2, LOADING | STALE, "2.8.13", "Lists the LATENCY subcommands", "O(1)"),
            Sub::new("latency|histogram", -2, ADMIN | NOSCRIPT | LOADING | STALE, "7.0.0", "Returns the cumulative distribution of latencies of the named commands, or of all", "O(N) where N is the number of commands with latency information being retrieved.")
                .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
            Sub::new("latency|history", 3, ADMIN | NOSCRIPT | LOADING | STALE, "2.8.13", "Returns an event's latency spikes, one per second", "O(1)")
                .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
            Sub::new("latency|latest", 2, ADMIN | NOSCRIPT | LOADING | STALE, "2.8.13", "Returns every event's latest latency spike", "O(1)")
                .tips(&["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]),
            Sub::new("latency|reset", -2, ADMIN | NOSCRIPT | LOADING | STALE, "2.8.13", "Forgets the spikes of the named events, or of all", "O(1)")
                .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
        ]),
    Meta::new("object", "generic", "2.2.3", "Inspects how a key's value is stored", "Depends on subcommand.")
        .subcommands(&[
            Sub::new("object|encoding", 3, READONLY, "2.2.3", "Returns the name Redis would give a key's value's representation", "O(log N)")
                .acl(acl::KEYSPACE)
                .tips(&["nondeterministic_output"])
                .keys((2, 2, 1), &[ks(key::RO, 2, 0, 1)]),
            Sub::new("object|refcount", 3, READONLY, "2.2.3", "Returns the number of references to a key's value (always 1 here)", "O(log N)")
                .acl(acl::KEYSPACE)
                .tips(&["nondeterministic_output"])
                .keys((2, 2, 1), &[ks(key::RO, 2, 0, 1)]),
            Sub::new("object|idletime", 3, READONLY, "2.2.3", "Seconds since a key was last used (not tracked here: always an error)", "O(log N)")
                .acl(acl::KEYSPACE)
                .tips(&["nondeterministic_output"])
                .keys((2, 2, 1), &[ks(key::RO, 2, 0, 1)]),
            Sub::new("object|freq", 3, READONLY, "4.0.0", "A key's access frequency (not tracked here: always an error)", "O(log N)")
                .acl(acl::KEYSPACE)
                .tips(&["nondeterministic_output"])
                .keys((2, 2, 1), &[ks(key::RO, 2, 0, 1)]),
            Sub::new("object|help", 2, LOADING | STALE, "6.2.0", "Lists the OBJECT subcommands", "O(1)")
                .acl(acl::KEYSPACE),
        ]),
    Meta::new("time", "server", "2.6.0", "Returns the server's clock: Unix seconds and microseconds", "O(1)")
        .flags(LOADING | STALE)
        .tips(&["nondeterministic_output"]),
    Meta::new("lastsave", "server", "1.0.0", "Unix time of the last successful snapshot (the start time before the first)", "O(1)")
        .flags(LOADING | STALE)
        .acl(acl::ADMIN | acl::DANGEROUS)
        .tips(&["nondeterministic_output"]),
    Meta::new("save", "server", "1.0.0", "Takes a snapshot now; the client waits for it", "O(N) where N is the total number of keys in all databases")
        .flags(NOSCRIPT | NO_ASYNC_LOADING)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS),
    Meta::new("bgsave", "server", "1.0.0", "Takes a snapshot in the background", "O(1)")
        .flags(NOSCRIPT | NO_ASYNC_LOADING)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS),
    Meta::new("bgrewriteaof", "server", "1.0.0", "Compacts the write-ahead log into a new snapshot, in the background", "O(1)")
        .flags(NOSCRIPT | NO_ASYNC_LOADING)
        .acl(acl::ADMIN | acl::SLOW | acl::DANGEROUS),
    Meta::new("debug", "server", "1.0.0", "Debugging commands: pausing the server, reloading the data from disk, forcing a resize", "Depends on subcommand.")
        .flags(NOSCRIPT | LOADING | STALE)
        .syscmd(),
    Meta::new("tandem.range", "generic", "0.1.0", "Returns keys and values in key order between two bounds, a page at a time (Tandem's own)", "O(log N + M) where M is the number of entries returned")
        .acl(acl::KEYSPACE),
];

/// The test-only fault hook's documentation (`command/fault.rs`).
#[cfg(feature = "fault-injection")]
pub(super) const FAULT_META: &[Meta] = &[Meta::new(
    "tandem.panic",
    "server",
    "0.1.0",
    "Panics while serving the request (test builds only)",
    "O(1)",
)];
