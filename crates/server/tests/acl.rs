//! Access control: ACL users, their rules and their refusals, through
//! real client connections.
//!
//! The tables run requests in order, each on its numbered connection
//! (opened on first use), against a fresh server. Their replies were
//! recorded from Redis 7.0.15 running the same requests in the same
//! order (`scripts/acl_record.py`), so a difference is a difference from
//! Redis. Replies Redis orders by its hash tables (ACL CAT, several
//! single commands in one rule list) are left out of the tables and
//! checked as sets. Where users come from (the ACL file, the
//! configuration) is `acl_users.rs`'s; live connections, the ACL log and
//! HELLO AUTH are `acl_live.rs`'s.

mod common;

use common::table::{check_on, connect, log_entries, render, reply, run, run_args};
use common::{Config, TestResult};
use redis::{Connection, Value};
use std::collections::BTreeSet;

#[test]
fn rules_read_back_and_malformed_ones_are_refused() -> TestResult {
    let server = common::start(common::config())?;
    check_on(
        &server,
        &[
            // Users and how ACL LIST writes them back.
            (1, "acl setuser u1 on >p1 +get ~k*", "+OK"),
            (1, "acl setuser u2 on >p +@read -get %R~r* %W~w* &ch*", "+OK"),
            (1, "acl getuser u2", "[\"flags\", [\"on\"], \"passwords\", [\"148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940\"], \"commands\", \"-@all +@read -get\", \"keys\", \"%R~r* %W~w*\", \"channels\", \"&ch*\", \"selectors\", []]"),
            (1, "acl setuser t1 %R", "+OK"),
            (1, "acl setuser t3 %wr~x %R~x ~y %W~y", "+OK"),
            (1, "acl setuser t4 ON Nopass +GET +@READ -@Read", "+OK"),
            (1, "acl setuser u6 (+get ~a*) +set", "+OK"),
            (1, "acl getuser u6", "[\"flags\", [\"off\"], \"passwords\", [], \"commands\", \"-@all +set\", \"keys\", \"\", \"channels\", \"\", \"selectors\", [[\"commands\", \"-@all +get\", \"keys\", \"~a*\", \"channels\", \"\"]]]"),
            (1, "acl setuser u9 on nopass +@all -@dangerous ~* &*", "+OK"),
            (1, "acl setuser u10 on nopass -@all +@string +@hash -hset", "+OK"),
            (1, "acl setuser u11 on nopass +@all -@write -@admin", "+OK"),
            (1, "acl setuser u12 on nopass +client|list +client|id -@all +ping", "+OK"),
            (1, "acl setuser u13 on #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 !5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 >a >b <a", "+OK"),
            (1, "acl setuser u14 reset", "+OK"),
            (1, "acl setuser u15 on nopass allcommands -config|set allkeys resetkeys ~a %W~b allchannels resetchannels &c &c", "+OK"),
            (1, "acl list", "[\"user default on nopass ~* &* +@all\", \"user t1 off %R~ resetchannels -@all\", \"user t3 off ~x ~y resetchannels -@all\", \"user t4 on nopass resetchannels -@all\", \"user u1 on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a ~k* resetchannels -@all +get\", \"user u10 on nopass resetchannels -@all +@string +@hash -hset\", \"user u11 on nopass resetchannels +@all -@write -@admin\", \"user u12 on nopass resetchannels -@all +ping\", \"user u13 on #3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d resetchannels -@all\", \"user u14 off sanitize-payload resetchannels -@all\", \"user u15 on nopass ~a %W~b resetchannels &c +@all -config|set\", \"user u2 on #148de9c5a7a44d19e56cd9ae1a554bf67847afb0c58f6e12fa29ac7ddfca9940 %R~r* %W~w* resetchannels &ch* -@all +@read -get\", \"user u6 off resetchannels -@all +set (~a* resetchannels -@all +get)\", \"user u9 on nopass ~* &* +@all -@dangerous\"]"),
            (1, "acl users", "[\"default\", \"t1\", \"t3\", \"t4\", \"u1\", \"u10\", \"u11\", \"u12\", \"u13\", \"u14\", \"u15\", \"u2\", \"u6\", \"u9\"]"),
            (1, "acl whoami", "\"default\""),
            // Every malformed rule, with Redis's reason; nothing of a refused list applies.
            (1, "acl setuser u3 %~x", "-ERR Error in ACL SETUSER modifier '%~x': Syntax error"),
            (1, "acl setuser t2 %RR~x", "-ERR Error in ACL SETUSER modifier '%RR~x': Syntax error"),
            (1, "acl setuser u7 (+get", "-ERR Unmatched parenthesis in acl selector starting at '(+get'."),
            (1, "acl setuser u7 +config|get|x", "-ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not supported"),
            (1, "acl setuser u7 -select|0", "-ERR Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL"),
            (1, "acl setuser u7 +nosuch", "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"),
            (1, "acl setuser u7 -@nosuch", "-ERR Error in ACL SETUSER modifier '-@nosuch': Unknown command or category name in ACL"),
            (1, "acl setuser u7 #abc", "-ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
            (1, "acl setuser u7 #5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8", "-ERR Error in ACL SETUSER modifier '#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
            (1, "acl setuser u7 !abc", "-ERR Error in ACL SETUSER modifier '!abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"),
            (1, "acl setuser u7 <zz", "-ERR Error in ACL SETUSER modifier '<zz': The password you are trying to remove from the user does not exist"),
            (1, "acl setuser u7 allkeys ~x", "-ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"),
            (1, "acl setuser u7 allkeys %R*", "-ERR Error in ACL SETUSER modifier '%R*': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"),
            (1, "acl setuser u7 allkeys %X~foo", "-ERR Error in ACL SETUSER modifier '%X~foo': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"),
            (1, "acl setuser u7 %X~foo", "-ERR Error in ACL SETUSER modifier '%X~foo': Syntax error"),
            (1, "acl setuser u7 &* &x", "-ERR Error in ACL SETUSER modifier '&x': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"),
            (1, "acl setuser u7 bogus", "-ERR Error in ACL SETUSER modifier 'bogus': Syntax error"),
            (1, "acl setuser u7 +debug|", "-ERR Error in ACL SETUSER modifier '+debug|': Syntax error"),
            (1, "acl setuser u1 -get +nosuch", "-ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"),
            (1, "acl getuser u1", "[\"flags\", [\"on\"], \"passwords\", [\"f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a\"], \"commands\", \"-@all +get\", \"keys\", \"~k*\", \"channels\", \"\", \"selectors\", []]"),
            (1, "acl getuser u7", "nil"),
            (1, "acl getuser nosuch", "nil"),
            // The other subcommands' errors.
            (1, "acl cat nosuch", "-ERR Unknown category 'nosuch'"),
            (1, "acl genpass 0", "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"),
            (1, "acl genpass 5000", "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"),
            (1, "acl genpass abc", "-ERR value is not an integer or out of range"),
            (1, "acl deluser default", "-ERR The 'default' user cannot be removed"),
            (1, "acl deluser nosuch u13", ":1"),
            (1, "acl load", "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."),
            (1, "acl save", "-ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."),
            (1, "acl log x y", "-ERR unknown subcommand or wrong number of arguments for 'log'. Try ACL HELP."),
            (1, "acl log abc", "-ERR value is not an integer or out of range"),
            (1, "acl foo", "-ERR unknown subcommand 'foo'. Try ACL HELP."),
            (1, "acl getuser", "-ERR wrong number of arguments for 'acl|getuser' command"),
            (1, "acl whoami extra", "-ERR wrong number of arguments for 'acl|whoami' command"),
            // DRYRUN: every kind of rule allowed and refused.
            (1, "acl dryrun u1 get k1", "+OK"),
            (1, "acl dryrun u1 get x", "\"This user has no permissions to access the \\'x\\' key\""),
            (1, "acl dryrun u1 set k1 v", "\"This user has no permissions to run the \\'set\\' command\""),
            (1, "acl dryrun u2 set w1 v", "\"This user has no permissions to run the \\'set\\' command\""),
            (1, "acl dryrun u2 getrange r1 0 1", "+OK"),
            (1, "acl dryrun u2 getrange w1 0 1", "\"This user has no permissions to access the \\'w1\\' key\""),
            (1, "acl dryrun u2 set r1 v", "\"This user has no permissions to run the \\'set\\' command\""),
            (1, "acl dryrun u2 exists w1", "+OK"),
            (1, "acl dryrun u2 mget r1 r2 w1", "\"This user has no permissions to access the \\'w1\\' key\""),
            (1, "acl dryrun nosuch get k", "-ERR User 'nosuch' not found"),
            (1, "acl dryrun u1 nosuch k", "-ERR Command 'nosuch' not found"),
            (1, "acl dryrun u1 get", "-ERR wrong number of arguments for 'get' command"),
            (1, "acl dryrun u1 config nosuch", "-ERR Command 'config' not found"),
            (1, "acl dryrun u2 publish ch1 x", "\"This user has no permissions to run the \\'publish\\' command\""),
            (1, "acl dryrun u2 publish other x", "\"This user has no permissions to run the \\'publish\\' command\""),
            (1, "acl dryrun u2 subscribe ch1 other", "\"This user has no permissions to run the \\'subscribe\\' command\""),
            (1, "acl dryrun u2 psubscribe ch*", "\"This user has no permissions to run the \\'psubscribe\\' command\""),
            (1, "acl dryrun u2 psubscribe ch1", "\"This user has no permissions to run the \\'psubscribe\\' command\""),
            (1, "acl dryrun u6 get a1", "+OK"),
            (1, "acl dryrun u6 get b1", "\"This user has no permissions to access the \\'b1\\' key\""),
            (1, "acl dryrun u6 set b1 v", "\"This user has no permissions to access the \\'b1\\' key\""),
            (1, "acl dryrun u6 set a1 v", "\"This user has no permissions to access the \\'a1\\' key\""),
            (1, "acl dryrun u9 debug sleep 0", "\"This user has no permissions to run the \\'debug\\' command\""),
            (1, "acl dryrun u9 get x", "+OK"),
            (1, "acl dryrun u11 get x", "\"This user has no permissions to access the \\'x\\' key\""),
            (1, "acl dryrun u11 set x v", "\"This user has no permissions to run the \\'set\\' command\""),
            (1, "acl dryrun u12 client id", "\"This user has no permissions to run the \\'client|id\\' command\""),
            (1, "acl dryrun u12 client list", "\"This user has no permissions to run the \\'client|list\\' command\""),
            (1, "acl dryrun u12 client kill x", "\"This user has no permissions to run the \\'client|kill\\' command\""),
            (1, "acl dryrun u15 config get x", "+OK"),
            (1, "acl dryrun u15 config set x y", "\"This user has no permissions to run the \\'config|set\\' command\""),
            (1, "acl dryrun u15 set b v", "+OK"),
            (1, "acl dryrun u15 get b", "\"This user has no permissions to access the \\'b\\' key\""),
            (1, "acl dryrun u15 append a x", "+OK"),
            (1, "acl dryrun u15 publish c x", "+OK"),
            (1, "acl dryrun u15 auth x y", "+OK"),
            (1, "acl dryrun u14 hello", "+OK"),        ],
    )
}

#[test]
fn restricted_users_are_refused_as_redis_refuses_them() -> TestResult {
    let server = common::start(common::config())?;
    check_on(
        &server,
        &[
            // requirepass is the default user's password.
            (1, "config set requirepass secret", "+OK"),
            (2, "get k", "-NOAUTH Authentication required."),
            (2, "auth wrong", "-WRONGPASS invalid username-password pair or user is disabled."),
            (2, "auth secret", "+OK"),
            (2, "auth default secret", "+OK"),
            (2, "acl whoami", "\"default\""),
            (1, "auth secret", "+OK"),
            (1, "acl getuser default", "[\"flags\", [\"on\"], \"passwords\", [\"2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b\"], \"commands\", \"+@all\", \"keys\", \"~*\", \"channels\", \"&*\", \"selectors\", []]"),
            (1, "acl setuser default resetpass", "+OK"),
            (3, "ping", "-NOAUTH Authentication required."),
            (3, "auth x", "-WRONGPASS invalid username-password pair or user is disabled."),
            (3, "hello 3", "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"),
            (1, "acl setuser default nopass", "+OK"),
            (3, "ping", "+PONG"),
            (1, "config set requirepass \"\"", "+OK"),
            (1, "acl getuser default", "[\"flags\", [\"on\", \"nopass\"], \"passwords\", [], \"commands\", \"+@all\", \"keys\", \"~*\", \"channels\", \"&*\", \"selectors\", []]"),
            (4, "auth x", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"),
            // Keys: read and write patterns.
            (1, "acl setuser app on >pw ~app:* +@read +@write -@dangerous", "+OK"),
            (5, "auth app wrong", "-WRONGPASS invalid username-password pair or user is disabled."),
            (5, "auth app pw", "+OK"),
            (5, "acl whoami", "-NOPERM this user has no permissions to run the 'acl|whoami' command"),
            (5, "set app:1 v", "+OK"),
            (5, "get app:1", "\"v\""),
            (5, "set other v", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (5, "mset app:2 v other v", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (5, "keys *", "-NOPERM this user has no permissions to run the 'keys' command"),
            (5, "flushall", "-NOPERM this user has no permissions to run the 'flushall' command"),
            (5, "acl list", "-NOPERM this user has no permissions to run the 'acl|list' command"),
            (5, "reset", "+RESET"),
            (5, "acl whoami", "\"default\""),
            (5, "auth app pw", "+OK"),
            (1, "acl setuser app off", "+OK"),
            (5, "get app:1", "\"v\""),
            (6, "auth app pw", "-WRONGPASS invalid username-password pair or user is disabled."),
            (1, "acl setuser app on", "+OK"),
            (1, "acl setuser rw on nopass +@all -@dangerous %R~r:* %W~w:* ~rw:*", "+OK"),
            (7, "auth rw x", "+OK"),
            (7, "set w:1 v", "+OK"),
            (7, "get w:1", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "set r:1 v", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "get r:1", "nil"),
            (7, "strlen w:1", ":1"),
            (7, "exists w:1 r:1 x", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "copy r:1 w:2", ":0"),
            (7, "copy w:1 r:2", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "rename rw:1 w:3", "-ERR no such key"),
            (7, "set rw:1 v", "+OK"),
            (7, "getdel rw:1", "\"v\""),
            (7, "lmove r:1 w:1 left left", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            // BITFIELD reads when it only GETs (Redis's bitfieldGetKeys).
            (7, "bitfield r:1 get u8 0", "[:0]"),
            (7, "bitfield w:1 get u8 0", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "bitfield r:1 get u8 0 overflow wrap get i4 4", "[:0, :0]"),
            (7, "bitfield w:1 set u8 0 1", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "bitfield r:1 incrby u8 0 1", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "bitfield rw:2 set u8 0 1 get u8 0", "[:0, :1]"),
            (7, "bitfield r:1 get u8", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (7, "bitfield_ro w:1 get u8 0", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            // Channels.
            (1, "acl setuser sub on nopass +subscribe +psubscribe +publish +ping &news.* &exact", "+OK"),
            (8, "auth sub x", "+OK"),
            (8, "publish news.1 x", ":0"),
            (8, "publish other x", "-NOPERM this user has no permissions to access one of the channels used as arguments"),
            (8, "publish exact x", ":0"),
            (9, "auth sub x", "+OK"),
            (9, "subscribe news.a exact", "[\"subscribe\", \"news.a\", :1]"),
            (9, "psubscribe news.*", "[\"subscribe\", \"exact\", :2]"),
            (9, "psubscribe news.b*", "[\"psubscribe\", \"news.*\", :3]"),
            (9, "ping", "-NOPERM this user has no permissions to access one of the channels used as arguments"),
            // MULTI: refused when queued, and again at EXEC when the rules changed.
            (1, "acl setuser tx on nopass +multi +exec +discard +set +get ~t:*", "+OK"),
            (10, "auth tx x", "+OK"),
            (10, "multi", "+OK"),
            (10, "set t:1 v", "+QUEUED"),
            (10, "get other", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (10, "exec", "-EXECABORT Transaction discarded because of previous errors."),
            (10, "multi", "+OK"),
            (10, "set t:1 v", "+QUEUED"),
            (10, "get t:1", "+QUEUED"),
            (1, "acl setuser tx -set", "+OK"),
            (10, "exec", "[-NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand, nil]"),
            (1, "acl setuser tx +set", "+OK"),
            // SORT's BY and GET read keys only the data names.
            (1, "acl setuser so on nopass +sort +lpush %R~* %W~b*", "+OK"),
            (11, "auth so x", "+OK"),
            (11, "lpush b1 3 2 1", ":3"),
            (11, "sort b1 by nosort get #", "[\"1\", \"2\", \"3\"]"),
            (11, "sort b1 by w_*", "[\"1\", \"2\", \"3\"]"),
            (11, "sort b1 store b2", ":3"),
            (11, "sort b1 store a2", "-NOPERM this user has no permissions to access one of the keys used as arguments"),
            (1, "acl setuser so2 on nopass +sort ~b*", "+OK"),
            (12, "auth so2 x", "+OK"),
            (12, "sort b1 by w*", "-ERR BY option of SORT denied due to insufficient ACL permissions."),
            (12, "sort b1 by nosort", "[\"1\", \"2\", \"3\"]"),
            (12, "sort b1 get #", "-ERR GET option of SORT denied due to insufficient ACL permissions."),
            // First arguments and subcommands.
            (1, "acl setuser fa on nopass -@all +select|1 +client|id", "+OK"),
            (13, "auth fa x", "+OK"),
            (13, "select 1", "+OK"),
            (13, "select 0", "-NOPERM this user has no permissions to run the 'select' command"),
            (13, "client list", "-NOPERM this user has no permissions to run the 'client|list' command"),
            (13, "ping", "-NOPERM this user has no permissions to run the 'ping' command"),
            (13, "config get x", "-NOPERM this user has no permissions to run the 'config|get' command"),
            // The log, newest first.
            (1, "acl log reset", "+OK"),
            (1, "acl log", "[]"),
            (1, "acl deluser app rw sub tx so so2 fa", ":7"),
            (1, "client kill user nosuch", "-ERR No such user 'nosuch'"),        ],
    )
}

/// The replies of `requests` (each its arguments) on one connection,
/// rendered.
fn replies(con: &mut Connection, requests: &[&[&str]]) -> Result<Vec<String>, common::Error> {
    requests
        .iter()
        .map(|args| {
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            Ok(render(&run_args(con, &args)?))
        })
        .collect()
}

#[test]
fn scripts_run_with_the_caller_s_permissions() -> TestResult {
    let server = common::start(common::config())?;
    let mut admin = connect(&server)?;
    reply(&mut admin, "acl setuser sc on nopass +eval +get +set ~a*")?;
    let mut con = connect(&server)?;
    reply(&mut con, "auth sc x")?;
    // Recorded from Redis 7.0.15. The last one differs on purpose in
    // what follows the reason: Redis names the script's SHA-1 and line
    // after it, as Tandem does (checked apart below).
    let got = replies(
        &mut con,
        &[
            &["eval", "return(redis.call('get','a1'))", "1", "a1"],
            &["eval", "return(redis.call('get','b1'))", "1", "b1"],
            &["eval", "return(redis.pcall('del','a1'))", "1", "a1"],
            &["eval", "return(redis.pcall('get','b1'))", "1", "b1"],
        ],
    )?;
    assert_eq!(
        got,
        [
            "nil",
            "-NOPERM this user has no permissions to access one of the keys used as arguments",
            "-ERR The user executing the script can't run this command or subcommand",
            "-NOPERM this user has no permissions to access one of the keys used as arguments",
        ]
    );
    let got = replies(
        &mut con,
        &[&["eval", "return(redis.call('del','a1'))", "1", "a1"]],
    )?;
    assert_eq!(
        got,
        ["-ERR The user executing the script can't run this command or subcommand script: bd384b3301acf768e703487289e28ed7341a3857, on @user_script:1."]
    );
    // The refusals inside the script are logged as Lua's.
    let log = log_entries(&mut admin, 10)?;
    let lua: Vec<(String, String)> = log
        .iter()
        .filter(|e| e["context"] == "lua")
        .map(|e| (e["reason"].clone(), e["object"].clone()))
        .collect();
    assert_eq!(lua, [("command".to_string(), "del".to_string())]);
    assert_eq!(lua.len(), 1);
    let count = log
        .iter()
        .find(|e| e["context"] == "lua")
        .map(|e| e["count"].clone());
    assert_eq!(
        count.as_deref(),
        Some("2"),
        "the two del refusals fold into one entry"
    );
    Ok(())
}

#[test]
fn acl_cat_lists_redis_s_categories_and_their_commands() -> TestResult {
    let server = common::start(common::config())?;
    let mut con = connect(&server)?;
    // Recorded from Redis 7.0.15, in its order.
    assert_eq!(
        reply(&mut con, "acl cat")?,
        "[\"keyspace\", \"read\", \"write\", \"set\", \"sortedset\", \"list\", \"hash\", \"string\", \"bitmap\", \"hyperloglog\", \"geo\", \"stream\", \"pubsub\", \"admin\", \"fast\", \"slow\", \"blocking\", \"dangerous\", \"connection\", \"transaction\", \"scripting\"]"
    );
    // Redis lists a category's commands in its hash table's order.
    let Value::Array(geo) = run(&mut con, "acl cat GEO")? else {
        return Err("not an array".into());
    };
    let geo: BTreeSet<String> = geo.iter().map(render).collect();
    let want: BTreeSet<String> = "geoadd geodist geohash geopos georadius georadius_ro georadiusbymember georadiusbymember_ro geosearch geosearchstore"
        .split(' ')
        .map(|c| format!("\"{c}\""))
        .collect();
    assert_eq!(geo, want);
    Ok(())
}

#[test]
fn keys_are_checked_where_the_command_finds_them() -> TestResult {
    let server = common::start(common::config())?;
    check_on(
        &server,
        &[
            // `limit` and `streams` are allowed keys, so that checking the
            // wrong argument would let the request through.
            (
                1,
                "acl setuser r on nopass +@all ~app:* ~limit ~streams",
                "+OK",
            ),
            (1, "set secret s", "+OK"),
            (1, "rpush app:list 1", ":1"),
            (2, "auth r x", "+OK"),
            // SORT writes the last STORE's key: that is the key checked.
            (
                2,
                "sort app:list store limit store secret",
                "-NOPERM this user has no permissions to access one of the keys used as arguments",
            ),
            (2, "sort app:list store limit store app:out", ":1"),
            // XREADGROUP's consumer may be named STREAMS: the keys are
            // those after the real STREAMS.
            (
                2,
                "xreadgroup count 1 group g streams streams secret >",
                "-NOPERM this user has no permissions to access one of the keys used as arguments",
            ),
            (
                2,
                "xread count 1 streams secret 0",
                "-NOPERM this user has no permissions to access one of the keys used as arguments",
            ),
            // TANDEM.RANGE returns keys it does not name: every key must
            // be readable.
            (
                2,
                "tandem.range - + withvalues",
                "-NOPERM this user has no permissions to access one of the keys used as arguments",
            ),
            (
                1,
                "acl dryrun r tandem.range - +",
                "\"This user has no permissions to access the \\'tandem.range\\' key\"",
            ),
            (
                1,
                "tandem.range [app: (app;",
                "[nil, [\"app:list\", \"app:out\"]]",
            ),
            // A container alone is found, and fails its arity (Redis's).
            (
                1,
                "acl dryrun r config",
                "-ERR wrong number of arguments for 'config' command",
            ),
        ],
    )
}

#[test]
fn an_unknown_subcommand_is_answered_before_any_check() -> TestResult {
    // Redis 7.0.15 answers it before arity, authentication and the ACL,
    // and logs nothing.
    let server = common::start(common::config())?;
    check_on(
        &server,
        &[
            (
                1,
                "acl setuser o on nopass -@all +get +eval +multi +exec +acl|log",
                "+OK",
            ),
            (2, "auth o x", "+OK"),
            (
                2,
                "config nosuch",
                "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.",
            ),
            (
                2,
                "object nosuch x",
                "-ERR unknown subcommand 'nosuch'. Try OBJECT HELP.",
            ),
            (
                2,
                "config",
                "-ERR wrong number of arguments for 'config' command",
            ),
            (2, "multi", "+OK"),
            (
                2,
                "config nosuch",
                "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.",
            ),
            (
                2,
                "exec",
                "-EXECABORT Transaction discarded because of previous errors.",
            ),
            (2, "acl log", "[]"),
        ],
    )?;
    let mut con = connect(&server)?;
    reply(&mut con, "auth o x")?;
    let script = run_args(
        &mut con,
        &[b"eval", b"return redis.pcall('config','nosuch')", b"0"],
    );
    assert_eq!(
        render(&script?),
        "-ERR Unknown Redis command called from script"
    );
    assert_eq!(reply(&mut con, "acl log")?, "[]");
    let locked = common::start(Config {
        requirepass: Some("pw".into()),
        ..common::config()
    })?;
    check_on(
        &locked,
        &[
            (
                1,
                "config nosuch",
                "-ERR unknown subcommand 'nosuch'. Try CONFIG HELP.",
            ),
            (1, "config get x", "-NOAUTH Authentication required."),
        ],
    )
}

#[test]
fn acl_check_cmd_asks_the_caller_s_user() -> TestResult {
    // Redis 7.0.15's replies.
    let server = common::start(common::config())?;
    let mut admin = connect(&server)?;
    reply(&mut admin, "acl setuser ac on nopass -@all +eval +get ~k*")?;
    let mut con = connect(&server)?;
    reply(&mut con, "auth ac x")?;
    let script = |call: &str| format!("return redis.acl_check_cmd({call})");
    let calls = ["'set','k','v'", "'get','k'", "'get','other'"];
    let texts: Vec<String> = calls.iter().map(|c| script(c)).collect();
    let requests: Vec<[&str; 3]> = texts.iter().map(|t| ["eval", t.as_str(), "0"]).collect();
    let requests: Vec<&[&str]> = requests.iter().map(|r| &r[..]).collect();
    assert_eq!(replies(&mut con, &requests)?, ["nil", ":1", "nil"]);
    for call in ["'config','nosuch'", "'nosuch'"] {
        let text = script(call);
        let got = replies(&mut con, &[&["eval", &text, "0"]])?;
        assert!(
            got[0].starts_with("-ERR Invalid command passed to redis.acl_check_cmd() script: "),
            "{call}: {got:?}"
        );
    }
    let text = script("'set','k','v'");
    assert_eq!(replies(&mut admin, &[&["eval", &text, "0"]])?, [":1"]);
    Ok(())
}
