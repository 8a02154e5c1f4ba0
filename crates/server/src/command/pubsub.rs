//! Pub/sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
//! SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and PUBSUB.
//!
//! Owns their replies, and the encoding of delivered messages. The hubs
//! do the work: `Shared::hub` for channels, patterns and keyspace
//! notifications, `Shared::shard_hub` for shard channels, which on a
//! single node behave as channels in a namespace of their own (patterns
//! never see them, as in Redis). Subscription replies and messages are
//! pushes: `>` frames in RESP3, arrays in RESP2.

use super::args::is;
use super::spec::{flags::*, spec, Spec};
use super::{unknown_subcommand, Call, CmdResult, Reject};
use crate::resp::Out;
use crate::session::Session;
use tandem_engine::pubsub::{Hub, Message, Subscriber};

pub(super) const COMMANDS: &[Spec] = &[
    spec("subscribe", -2, PUBSUB, (0, 0, 0), subscribe),
    spec("unsubscribe", -1, PUBSUB, (0, 0, 0), unsubscribe),
    spec("psubscribe", -2, PUBSUB, (0, 0, 0), psubscribe),
    spec("punsubscribe", -1, PUBSUB, (0, 0, 0), punsubscribe),
    spec("ssubscribe", -2, PUBSUB, (1, -1, 1), ssubscribe),
    spec("sunsubscribe", -1, PUBSUB, (1, -1, 1), sunsubscribe),
    spec(
        "publish",
        3,
        PUBSUB | FAST | MAY_REPLICATE,
        (0, 0, 0),
        publish,
    ),
    spec(
        "spublish",
        3,
        PUBSUB | FAST | MAY_REPLICATE,
        (1, 1, 1),
        spublish,
    ),
    spec("pubsub", -2, 0, (0, 0, 0), pubsub),
];

/// Which kind of subscription a command manages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

/// The session's subscriber for `kind`, created on first use.
fn subscriber<'s>(
    session: &'s mut Session,
    c_hub: &Hub,
    shard_hub: &Hub,
    kind: Kind,
) -> &'s Subscriber {
    let (slot, hub) = match kind {
        Kind::Shard => (&mut session.ssub, shard_hub),
        Kind::Channel | Kind::Pattern => (&mut session.sub, c_hub),
    };
    slot.get_or_insert_with(|| hub.subscriber())
}

/// The count Redis reports after a (un)subscription of `kind`: channels
/// plus patterns, or shard channels alone.
fn count(session: &Session, kind: Kind) -> usize {
    match kind {
        Kind::Shard => session.shard_subscriptions(),
        Kind::Channel | Kind::Pattern => session.subscriptions(),
    }
}

fn add(c: &mut Call<'_>, kind: Kind) -> CmdResult {
    let start = c.out.buf.len();
    for &name in c.args_from(1) {
        let sub = subscriber(c.session, &c.shared.hub, &c.shared.shard_hub, kind);
        match kind {
            Kind::Pattern => sub.psubscribe(name),
            Kind::Channel | Kind::Shard => sub.subscribe(name),
        };
        let n = count(c.session, kind);
        c.out.push(3);
        c.out.bulk(kind.subscribe_word());
        c.out.bulk(name);
        c.out.count(n);
    }
    c.session.pushes.push(start..c.out.buf.len());
    Ok(())
}

fn remove(c: &mut Call<'_>, kind: Kind) -> CmdResult {
    let start = c.out.buf.len();
    confirm_removal(c, kind);
    c.session.pushes.push(start..c.out.buf.len());
    Ok(())
}

/// Unsubscribes and writes a confirmation per name (or the one for no
/// subscription at all).
fn confirm_removal(c: &mut Call<'_>, kind: Kind) {
    let slot = match kind {
        Kind::Shard => &c.session.ssub,
        Kind::Channel | Kind::Pattern => &c.session.sub,
    };
    // With no names: every subscription of this kind, in no set order.
    let names: Vec<bytes::Bytes> = match (c.args_from(1), slot) {
        ([], Some(sub)) if kind == Kind::Pattern => sub.patterns(),
        ([], Some(sub)) => sub.channels(),
        ([], None) => Vec::new(),
        (given, _) => given
            .iter()
            .map(|n| bytes::Bytes::copy_from_slice(n))
            .collect(),
    };
    if names.is_empty() {
        c.out.push(3);
        c.out.bulk(kind.unsubscribe_word());
        c.out.null();
        c.out.count(count(c.session, kind));
        return;
    }
    for name in names {
        if let Some(sub) = slot {
            match kind {
                Kind::Pattern => sub.punsubscribe(&name),
                Kind::Channel | Kind::Shard => sub.unsubscribe(&name),
            };
        }
        c.out.push(3);
        c.out.bulk(kind.unsubscribe_word());
        c.out.bulk(&name);
        c.out.count(count(c.session, kind));
    }
}

fn subscribe(c: &mut Call<'_>) -> CmdResult {
    add(c, Kind::Channel)
}

fn psubscribe(c: &mut Call<'_>) -> CmdResult {
    add(c, Kind::Pattern)
}

fn ssubscribe(c: &mut Call<'_>) -> CmdResult {
    add(c, Kind::Shard)
}

fn unsubscribe(c: &mut Call<'_>) -> CmdResult {
    remove(c, Kind::Channel)
}

fn punsubscribe(c: &mut Call<'_>) -> CmdResult {
    remove(c, Kind::Pattern)
}

fn sunsubscribe(c: &mut Call<'_>) -> CmdResult {
    remove(c, Kind::Shard)
}

fn publish(c: &mut Call<'_>) -> CmdResult {
    let n = c.shared.hub.publish(c.arg(1).to_vec(), c.arg(2).to_vec());
    c.out.count(n);
    Ok(())
}

fn spublish(c: &mut Call<'_>) -> CmdResult {
    let n = c
        .shared
        .shard_hub
        .publish(c.arg(1).to_vec(), c.arg(2).to_vec());
    c.out.count(n);
    Ok(())
}

fn pubsub(c: &mut Call<'_>) -> CmdResult {
    let sub = c.arg(1);
    let rest = c.args_from(2);
    let arity = |name: &str| {
        Reject::Owned(format!(
            "ERR wrong number of arguments for 'pubsub|{name}' command"
        ))
    };
    let channels = |hub: &Hub, c: &mut Call<'_>, name: &str| {
        if rest.len() > 1 {
            return Err(arity(name));
        }
        let found = hub.channels(rest.first().copied());
        c.out.bulks(found.iter());
        Ok(())
    };
    let numsub = |hub: &Hub, c: &mut Call<'_>| {
        c.out.array(rest.len() * 2);
        for &ch in rest {
            c.out.bulk(ch);
            c.out.count(hub.numsub(ch));
        }
    };
    if is(sub, "channels") {
        channels(&c.shared.hub, c, "channels")?;
    } else if is(sub, "shardchannels") {
        channels(&c.shared.shard_hub, c, "shardchannels")?;
    } else if is(sub, "numsub") {
        numsub(&c.shared.hub, c);
    } else if is(sub, "shardnumsub") {
        numsub(&c.shared.shard_hub, c);
    } else if is(sub, "numpat") {
        if !rest.is_empty() {
            return Err(arity("numpat"));
        }
        c.out.count(c.shared.hub.numpat());
    } else if is(sub, "help") {
        let lines = [
            "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CHANNELS [<pattern>]",
            "    Return the currently active channels matching a <pattern> (default: '*').",
            "NUMPAT",
            "    Return number of subscriptions to patterns.",
            "NUMSUB [<channel> ...]",
            "    Return the number of subscribers for the specified channels, excluding",
            "    pattern subscriptions(default: no channels).",
            "SHARDCHANNELS [<pattern>]",
            "    Return the currently active shard level channels matching a <pattern> (default: '*').",
            "SHARDNUMSUB [<shardchannel> ...]",
            "    Return the number of subscribers for the specified shard level channel(s)",
            "HELP",
            "    Prints this help.",
        ];
        c.out.array(lines.len());
        for l in lines {
            c.out.simple(l);
        }
    } else {
        return Err(unknown_subcommand(sub, "pubsub"));
    }
    Ok(())
}

/// Encodes a delivered message: `message`, or `pmessage` with its pattern,
/// or `smessage` from a shard channel.
pub fn write_message(out: &mut Out, msg: &Message, shard: bool) {
    match (shard, msg.pattern()) {
        (true, _) => {
            out.push(3);
            out.bulk(b"smessage");
        }
        (false, Some(pattern)) => {
            out.push(4);
            out.bulk(b"pmessage");
            out.bulk(pattern);
        }
        (false, None) => {
            out.push(3);
            out.bulk(b"message");
        }
    }
    out.bulk(msg.channel());
    out.bulk(msg.payload());
}

/// Whether a RESP2 client with subscriptions may run `name`.
pub fn allowed_while_subscribed(name: &str) -> bool {
    matches!(
        name,
        "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}
