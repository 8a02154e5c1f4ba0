//! Session commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET.
//!
//! Owns protocol negotiation and authentication: AUTH and HELLO AUTH log
//! in as an ACL user (`crate::acl`); `AUTH pass` is `AUTH default pass`,
//! the password `requirepass` sets.

use super::args::{int, is, text};
use super::spec::{flags::*, spec, Spec};
use super::{access, Call, CmdResult, Reject};
use crate::acl::log::{Context, Reason};
use crate::resp::Protocol;
use crate::session::After;

pub(super) const COMMANDS: &[Spec] = &[
    spec("ping", -1, FAST, (0, 0, 0), ping),
    spec("echo", 2, FAST, (0, 0, 0), echo),
    spec("hello", -1, FAST | NO_AUTH, (0, 0, 0), hello),
    spec("auth", -2, FAST | NO_AUTH, (0, 0, 0), auth),
    spec("select", 2, FAST, (0, 0, 0), select),
    spec("quit", -1, FAST | NO_AUTH, (0, 0, 0), quit),
    spec("reset", 1, FAST | NO_AUTH, (0, 0, 0), reset),
];

/// The version of Redis whose replies Tandem follows. HELLO reports it as
/// the version, with `tandem` as the server, because clients read the
/// version to decide which commands they may send.
pub const REDIS_VERSION: &str = "7.0.15";

fn ping(c: &mut Call<'_>) -> CmdResult {
    // A RESP2 subscriber gets PING's answer as a push-style array, as in
    // Redis.
    if c.session.subscribed() && c.out.protocol == Protocol::Resp2 {
        if c.args.len() > 2 {
            return Err(Reject::Arity);
        }
        c.out.array(2);
        c.out.bulk(b"pong");
        c.out.bulk(c.arg(1));
        return Ok(());
    }
    match c.args {
        [_] => c.out.simple("PONG"),
        [_, msg] => c.out.bulk(msg),
        _ => return Err(Reject::Arity),
    }
    Ok(())
}

fn echo(c: &mut Call<'_>) -> CmdResult {
    c.out.bulk(c.arg(1));
    Ok(())
}

/// Logs in as `user` if `pass` is its password (AUTH, HELLO AUTH); a
/// refusal is logged in the ACL log, as Redis logs it.
fn login(c: &mut Call<'_>, user: &[u8], pass: &[u8]) -> Result<(), Reject> {
    match c.shared.acl.authenticate(user, pass) {
        Some(u) => {
            c.session.authenticated = true;
            c.session.set_user(u);
            Ok(())
        }
        None => {
            let context = if c.session.multi.is_some() || c.session.in_exec {
                Context::Multi
            } else {
                Context::Toplevel
            };
            let object = c.arg(0).to_vec();
            access::log_entry(
                c.shared,
                c.session,
                Reason::Auth,
                context,
                object,
                user.to_vec(),
            );
            Err(Reject::Static(crate::acl::WRONGPASS))
        }
    }
}

fn auth(c: &mut Call<'_>) -> CmdResult {
    let (user, pass) = match c.args {
        [_, pass] => {
            if c.shared.acl.default_user().nopass() {
                return Err(Reject::Static(
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ));
            }
            (&b"default"[..], *pass)
        }
        [_, user, pass] => (*user, *pass),
        _ => return Err(Reject::Syntax),
    };
    login(c, user, pass)?;
    c.out.ok();
    Ok(())
}

fn hello(c: &mut Call<'_>) -> CmdResult {
    let mut protocol = c.out.protocol;
    if let Some(ver) = c.args.get(1) {
        protocol = match tandem_engine::parse_i64(ver) {
            Some(2) => Protocol::Resp2,
            Some(3) => Protocol::Resp3,
            Some(_) => return Err(Reject::Static("NOPROTO unsupported protocol version")),
            None => {
                return Err(Reject::Static(
                    "ERR Protocol version is not an integer or out of range",
                ))
            }
        };
    }
    // Options take effect one by one, left to right, as in Redis 7.0: an
    // error keeps what came before it (a login, a name).
    let mut i = 2;
    while let Some(opt) = c.args.get(i) {
        let left = c.args.len() - i - 1;
        if is(opt, "auth") && left >= 2 {
            login(c, c.arg(i + 1), c.arg(i + 2))?;
            i += 3;
        } else if is(opt, "setname") && left >= 1 {
            let name = c.arg(i + 1);
            if !super::client::valid_name(name) {
                return Err(Reject::Static(
                    "ERR Client names cannot contain spaces, newlines or special characters.",
                ));
            }
            c.session.name = (!name.is_empty()).then(|| bytes::Bytes::copy_from_slice(name));
            i += 2;
        } else {
            return Err(Reject::Owned(format!(
                "ERR Syntax error in HELLO option '{}'",
                text(opt)
            )));
        }
    }
    if !c.session.authenticated {
        return Err(Reject::Static(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    c.out.protocol = protocol;
    let out = &mut *c.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"tandem");
    out.bulk(b"version");
    out.bulk(REDIS_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(if protocol == Protocol::Resp3 { 3 } else { 2 });
    out.bulk(b"id");
    out.int(i64::try_from(c.session.id).unwrap_or(i64::MAX));
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
    Ok(())
}

fn select(c: &mut Call<'_>) -> CmdResult {
    let index = int(c.arg(1))?;
    let index = usize::try_from(index)
        .ok()
        .filter(|&i| i < c.shared.dbs.len())
        .ok_or(Reject::Static("ERR DB index is out of range"))?;
    c.session.db = index;
    c.out.ok();
    Ok(())
}

fn quit(c: &mut Call<'_>) -> CmdResult {
    c.out.ok();
    c.session.after = After::Close;
    Ok(())
}

fn reset(c: &mut Call<'_>) -> CmdResult {
    c.session.sub = None;
    c.session.ssub = None;
    c.session.monitor = None;
    c.session.multi = None;
    c.session.watched.clear();
    c.session.db = 0;
    c.session.name = None;
    c.session.set_user(c.shared.acl.default_user());
    c.session.authenticated = !c.shared.acl.auth_required();
    c.out.protocol = Protocol::Resp2;
    c.out.simple("RESET");
    Ok(())
}
