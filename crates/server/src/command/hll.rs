//! HyperLogLog: PFADD, PFCOUNT, PFMERGE, and PFDEBUG and PFSELFTEST
//! (refused unless `enable-debug-command` allows them).
//!
//! Owns the commands' arguments and replies in Redis 7.0's words; the
//! values are `tandem_engine::hll`'s, byte for byte Redis's, and when a
//! key changes is the engine's. It must never let PFDEBUG's reply build
//! before the key is found and checked, as Redis orders it.

use super::args::is;
use super::spec::{flags::*, spec, Spec};
use super::{Call, CmdResult, Reject};
use tandem_engine::hll::{self, SPARSE_MAX_BYTES};
use tandem_engine::{PfDebug, PfDebugReply};

pub(super) const COMMANDS: &[Spec] = &[
    spec("pfadd", -2, WRITE | DENYOOM | FAST, (1, 1, 1), pfadd),
    spec("pfcount", -2, READONLY | MAY_REPLICATE, (1, -1, 1), pfcount),
    spec("pfmerge", -2, WRITE | DENYOOM, (1, -1, 1), pfmerge),
    spec(
        "pfdebug",
        3,
        WRITE | DENYOOM | ADMIN | PROTECTED,
        (2, 2, 1),
        pfdebug,
    ),
    spec("pfselftest", 1, ADMIN | PROTECTED, (0, 0, 0), pfselftest),
];

/// `hll-sparse-max-bytes`, as set now.
fn sparse_max(c: &Call<'_>) -> usize {
    usize::try_from(c.shared.config.load().hll_sparse_max_bytes).unwrap_or(SPARSE_MAX_BYTES)
}

fn pfadd(c: &mut Call<'_>) -> CmdResult {
    let changed = c.kv().pfadd(c.arg(1), c.args_from(2), sparse_max(c))?;
    c.out.int(i64::from(changed));
    Ok(())
}

fn pfcount(c: &mut Call<'_>) -> CmdResult {
    let card = match c.args_from(1) {
        [one] => c.kv().pfcount_one(one)?,
        keys => c.kv().pfcount_union(keys)?,
    };
    // Redis replies with the unsigned count as a signed one: a crafted
    // value's 2^63 comes out negative there too.
    c.out.int(card as i64);
    Ok(())
}

fn pfmerge(c: &mut Call<'_>) -> CmdResult {
    c.kv().pfmerge(c.arg(1), c.args_from(2), sparse_max(c))?;
    c.out.ok();
    Ok(())
}

fn pfdebug(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    let what = [
        ("getreg", PfDebug::GetReg),
        ("decode", PfDebug::Decode),
        ("encoding", PfDebug::Encoding),
        ("todense", PfDebug::ToDense),
    ]
    .into_iter()
    .find(|(name, _)| is(sub, name))
    .map(|(_, w)| w);
    // Redis looks the key up and checks it before it reads the
    // subcommand's name.
    let what = match what {
        Some(w) => w,
        None => {
            // The encoding is read only to find the key and check it.
            c.kv()
                .pfdebug(c.arg(2), PfDebug::Encoding)?
                .ok_or(Reject::Static("ERR The specified key does not exist"))?;
            return Err(Reject::Owned(format!(
                "ERR Unknown PFDEBUG subcommand '{}'",
                String::from_utf8_lossy(sub)
            )));
        }
    };
    let reply = c
        .kv()
        .pfdebug(c.arg(2), what)?
        .ok_or(Reject::Static("ERR The specified key does not exist"))?;
    match reply {
        PfDebugReply::Registers(regs) => {
            c.out.array(regs.len());
            for r in regs {
                c.out.int(i64::from(r));
            }
        }
        PfDebugReply::Decoded(Some(text)) => c.out.bulk(text.as_bytes()),
        PfDebugReply::Decoded(None) => {
            return Err(Reject::Static("ERR HLL encoding is not sparse"));
        }
        PfDebugReply::Sparse(sparse) => c.out.simple(if sparse { "sparse" } else { "dense" }),
        PfDebugReply::Converted(done) => c.out.int(i64::from(done)),
    }
    Ok(())
}

fn pfselftest(c: &mut Call<'_>) -> CmdResult {
    let mut rng = fastrand::Rng::new();
    match hll::self_test(sparse_max(c), || rng.u64(..)) {
        Ok(()) => c.out.ok(),
        Err(why) => return Err(Reject::Owned(format!("ERR {why}"))),
    }
    Ok(())
}
