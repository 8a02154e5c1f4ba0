//! Access control: where users come from and how they change: the ACL
//! file (loaded, saved, reloaded, refused), users in the configuration,
//! and `acl-pubsub-default`. Replies in the tables were recorded from
//! Redis 7.0.15 (`scripts/acl_record.py`).

mod common;

use common::table::{check_on, connect, reply};
use common::{Config, Raw, TestResult};
use std::time::Duration;

/// How long a connection the server closes may take to see it.
const CLOSING: Duration = Duration::from_secs(10);

/// A fresh directory with an ACL file holding `text`.
fn acl_file(text: &str) -> Result<std::path::PathBuf, common::Error> {
    let dir = common::data_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("users.acl");
    std::fs::write(&path, text)?;
    Ok(path)
}

#[test]
fn the_acl_file_is_loaded_saved_and_reloaded() -> TestResult {
    let path = acl_file("user alice on >apw ~a:* +@read\nuser default on nopass ~* &* +@all\n")?;
    let server = common::start(Config {
        aclfile: Some(path.clone()),
        ..common::config()
    })?;
    check_on(
        &server,
        &[
            (2, "auth alice apw", "+OK"),
            (2, "get a:1", "nil"),
            (
                2,
                "get b:1",
                "-NOPERM this user has no permissions to access one of the keys used as arguments",
            ),
            (1, "acl setuser bob on >bpw +ping", "+OK"),
            (1, "acl save", "+OK"),
            (
                1,
                "config get aclfile",
                &format!("[\"aclfile\", \"{}\"]", path.display()),
            ),
        ],
    )?;
    let saved = std::fs::read_to_string(&path)?;
    // SHA-256 of "apw" and "bpw" (Python's hashlib), as Redis stores them.
    assert_eq!(
        saved,
        "user alice on #e528e908837a6f2c169a132a07f95107a5cc523f61d09d028c2fa799aeef4257 ~a:* resetchannels -@all +@read\n\
         user bob on #9310c3b61938c1dad30836509b0802e94943c56221c6e1b077bbd7c8ed5a427e resetchannels -@all +ping\n\
         user default on nopass ~* &* +@all\n"
    );
    // A file with an error changes nothing, and says why as Redis does.
    std::fs::write(&path, "user carol on +nosuch\nnot a user line\n")?;
    let mut admin = connect(&server)?;
    assert_eq!(
        reply(&mut admin, "acl load")?,
        format!(
            "-ERR {p}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. {p}:2 should start with user keyword followed by the username. WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
            p = path.display()
        )
    );
    assert_eq!(
        reply(&mut admin, "acl users")?,
        "[\"alice\", \"bob\", \"default\"]"
    );
    // A good one replaces every user, closing their clients.
    let mut alice = Raw::connect(server.addr())?;
    alice.check(b"AUTH alice apw\r\n", b"+OK\r\n")?;
    std::fs::write(&path, "user carol on >cpw +@all ~*\n")?;
    assert_eq!(reply(&mut admin, "acl load")?, "+OK");
    assert!(alice.closed_within(CLOSING)?);
    assert_eq!(reply(&mut admin, "acl users")?, "[\"carol\", \"default\"]");
    assert_eq!(reply(&mut admin, "get x")?, "nil", "default's client stays");
    // An ACL file that cannot be read: Redis's words, nothing changed.
    std::fs::remove_file(&path)?;
    assert_eq!(
        reply(&mut admin, "acl load")?,
        format!(
            "-ERR Error loading ACLs, opening file '{}': No such file or directory",
            path.display()
        )
    );
    Ok(())
}

#[test]
fn a_server_with_a_bad_acl_file_or_both_sources_does_not_start() -> TestResult {
    let bad = acl_file("user x on bogus\n")?;
    let err = common::start(Config {
        aclfile: Some(bad.clone()),
        ..common::config()
    })
    .err()
    .ok_or("a bad ACL file must stop the start")?;
    assert!(
        err.to_string()
            .contains(&format!("{}:1: Syntax error.", bad.display())),
        "{err}"
    );
    let good = acl_file("user x on\n")?;
    let both = common::start(Config {
        aclfile: Some(good),
        users: vec!["y on".into()],
        ..common::config()
    });
    assert!(both.is_err(), "users in the configuration and an ACL file");
    Ok(())
}

#[test]
fn users_can_be_given_in_the_configuration() -> TestResult {
    let server = common::start(Config {
        requirepass: Some("secret".into()),
        users: vec!["app on >apppw ~app:* +@all -@dangerous".into()],
        ..common::config()
    })?;
    check_on(
        &server,
        &[
            (1, "get k", "-NOAUTH Authentication required."),
            (1, "auth app apppw", "+OK"),
            (1, "set app:1 v", "+OK"),
            (
                1,
                "set k v",
                "-NOPERM this user has no permissions to access one of the keys used as arguments",
            ),
            (2, "auth secret", "+OK"),
            (2, "acl users", "[\"app\", \"default\"]"),
        ],
    )
}

#[test]
fn the_default_user_in_the_configuration_is_reset_first() -> TestResult {
    // Redis 7.0.15 with `user default on nopass ~* &* +@all` and `user app
    // on >pw +get ~a*` in its configuration.
    let server = common::start(Config {
        users: vec![
            "default on nopass ~* &* +@all".into(),
            "app on >pw +get ~a*".into(),
        ],
        ..common::config()
    })?;
    check_on(
        &server,
        &[(
            1,
            "acl list",
            "[\"user app on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~a* resetchannels -@all +get\", \"user default on nopass sanitize-payload ~* &* +@all\"]",
        )],
    )?;
    // `user default` alone: reset, so off, and every client must log in.
    let closed = common::start(Config {
        users: vec!["default".into()],
        ..common::config()
    })?;
    check_on(
        &closed,
        &[(1, "acl list", "-NOAUTH Authentication required.")],
    )
}

#[test]
fn acl_pubsub_default_gives_new_users_their_channels() -> TestResult {
    let server = common::start(common::config())?;
    check_on(
        &server,
        &[
            (1, "config get acl-pubsub-default", "[\"acl-pubsub-default\", \"resetchannels\"]"),
            (1, "acl setuser before on nopass +subscribe", "+OK"),
            (1, "config set acl-pubsub-default allchannels", "+OK"),
            (1, "config get acl-pubsub-default", "[\"acl-pubsub-default\", \"allchannels\"]"),
            (1, "acl setuser p1 on nopass +subscribe", "+OK"),
            (1, "acl setuser p2 on nopass (+get ~x) resetchannels +subscribe", "+OK"),
            (1, "acl list", "[\"user before on nopass resetchannels -@all +subscribe\", \"user default on nopass ~* &* +@all\", \"user p1 on nopass &* -@all +subscribe\", \"user p2 on nopass resetchannels -@all +subscribe (~x &* -@all +get)\"]"),
            (1, "acl setuser p1 reset", "+OK"),
            (1, "acl getuser p1", "[\"flags\", [\"off\", \"sanitize-payload\"], \"passwords\", [], \"commands\", \"-@all\", \"keys\", \"\", \"channels\", \"&*\", \"selectors\", []]"),
            (1, "acl setuser before (+set)", "+OK"),
            (1, "acl list", "[\"user before on nopass resetchannels -@all +subscribe (&* -@all +set)\", \"user default on nopass ~* &* +@all\", \"user p1 off sanitize-payload &* -@all\", \"user p2 on nopass resetchannels -@all +subscribe (~x &* -@all +get)\"]"),
            (2, "auth p2 x", "+OK"),
            (2, "subscribe anything", "-NOPERM this user has no permissions to access one of the channels used as arguments"),
            (1, "config set acl-pubsub-default foo", "-ERR CONFIG SET failed (possibly related to argument 'acl-pubsub-default') - argument(s) must be one of the following: allchannels, resetchannels"),
            (1, "config set acl-pubsub-default RESETCHANNELS", "+OK"),
            (1, "config get acl-pubsub-default", "[\"acl-pubsub-default\", \"resetchannels\"]"),
            (1, "acl setuser p3 on", "+OK"),
            (1, "acl list", "[\"user before on nopass resetchannels -@all +subscribe (&* -@all +set)\", \"user default on nopass ~* &* +@all\", \"user p1 off sanitize-payload &* -@all\", \"user p2 on nopass resetchannels -@all +subscribe (~x &* -@all +get)\", \"user p3 on resetchannels -@all\"]"),
            (1, "acl deluser before p1 p2 p3", ":4"),
        ],
    )
}

#[test]
fn acl_pubsub_default_applies_to_users_loaded_from_the_file() -> TestResult {
    let path = acl_file("user f on nopass +subscribe\nuser default on nopass ~* &* +@all\n")?;
    let server = common::start(Config {
        aclfile: Some(path),
        acl_pubsub_allchannels: true,
        ..common::config()
    })?;
    check_on(
        &server,
        &[
            (1, "config get acl-pubsub-default", "[\"acl-pubsub-default\", \"allchannels\"]"),
            (1, "acl list", "[\"user default on nopass ~* &* +@all\", \"user f on nopass &* -@all +subscribe\"]"),
            (1, "config set acl-pubsub-default resetchannels", "+OK"),
            (1, "acl load", "+OK"),
            (1, "acl list", "[\"user default on nopass ~* &* +@all\", \"user f on nopass resetchannels -@all +subscribe\"]"),
        ],
    )
}
