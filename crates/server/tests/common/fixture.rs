//! Replaying requests recorded against a real redis-server: each line of
//! a fixture is `{"request": [...], "reply": "..."}`, the reply as
//! Latin-1 text (one char per byte), as are the arguments of a request
//! marked `"latin1": true` (binary ones, such as DUMP payloads); every
//! request is sent in order on one connection.

use super::{Error, Raw};

/// Sends every request of `fixture` on `c`; returns a description of each
/// reply that differs from the recorded one (empty: all matched).
pub fn replay(c: &mut Raw, fixture: &str) -> Result<Vec<String>, Error> {
    let mut wrong = Vec::new();
    for line in fixture.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line)?;
        // A request with binary arguments is recorded as Latin-1 text.
        let latin1 = case["latin1"].as_bool() == Some(true);
        let request: Vec<Vec<u8>> = case["request"]
            .as_array()
            .ok_or("a request is an array")?
            .iter()
            .map(|a| {
                a.as_str()
                    .map(|s| {
                        if latin1 {
                            latin1_bytes(s)
                        } else {
                            s.as_bytes().to_vec()
                        }
                    })
                    .ok_or("text")
            })
            .collect::<Result<_, _>>()?;
        let expected = latin1_bytes(case["reply"].as_str().ok_or("a reply is text")?);
        let refs: Vec<&[u8]> = request.iter().map(Vec::as_slice).collect();
        let got = c.call(&super::encode(&refs))?;
        if got != expected {
            wrong.push(format!(
                "{:?}\n  redis:  {}\n  tandem: {}",
                refs.iter().map(|a| super::text(a)).collect::<Vec<_>>(),
                super::text(&expected),
                super::text(&got)
            ));
        }
    }
    Ok(wrong)
}

/// Latin-1 text back to its bytes, one per char.
fn latin1_bytes(s: &str) -> Vec<u8> {
    s.chars()
        .map(|ch| u8::try_from(u32::from(ch)).unwrap_or(b'?'))
        .collect()
}
