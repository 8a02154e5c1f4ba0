//! Replaying requests recorded against a real redis-server: each line of
//! a fixture is `{"request": [...], "reply": "..."}`, the reply as
//! Latin-1 text (one char per byte), and every request is sent in order
//! on one connection.

use super::{Error, Raw};

/// Sends every request of `fixture` on `c`; returns a description of each
/// reply that differs from the recorded one (empty: all matched).
pub fn replay(c: &mut Raw, fixture: &str) -> Result<Vec<String>, Error> {
    let mut wrong = Vec::new();
    for line in fixture.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line)?;
        let request: Vec<Vec<u8>> = case["request"]
            .as_array()
            .ok_or("a request is an array")?
            .iter()
            .map(|a| a.as_str().map(|s| s.as_bytes().to_vec()).ok_or("text"))
            .collect::<Result<_, _>>()?;
        let expected: Vec<u8> = case["reply"]
            .as_str()
            .ok_or("a reply is text")?
            .chars()
            .map(|ch| u8::try_from(u32::from(ch)).unwrap_or(b'?'))
            .collect();
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
