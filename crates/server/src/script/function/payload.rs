//! The libraries as FUNCTION DUMP writes them and FUNCTION RESTORE reads
//! them: Redis 7.0's payload, so that either server restores the other's.
//! The store keeps the same bytes (`Store::set_meta("functions")`).
//!
//! Owns that layout: for each library an opcode and its whole text as an
//! RDB string, then the RDB version and a CRC-64 (`crate::rdb`). It must
//! never run a library: reading a payload gives texts, which the caller
//! loads as FUNCTION LOAD would.

use super::Libraries;
use crate::rdb::{self, string::Reader};

/// The payload of `libraries`. `compress`: LZF for long texts, as Redis
/// does with `rdbcompression yes`.
pub fn dump(libraries: &Libraries, compress: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for library in libraries.iter() {
        body.push(rdb::OPCODE_FUNCTION2);
        rdb::string::put_string(&mut body, &library.code, compress);
    }
    rdb::seal(body)
}

/// The library texts of `payload`, in order, or Redis's error for it.
pub fn texts(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let (body, _version) =
        rdb::open(payload).ok_or("DUMP payload version or checksum are wrong")?;
    let mut r = Reader::new(body);
    let mut texts = Vec::new();
    while !r.at_end() {
        let opcode = r.byte().map_err(|_| "can not read data type")?;
        match opcode {
            rdb::OPCODE_FUNCTION2 => {
                texts.push(r.string().map_err(|_| "Failed loading library payload")?);
            }
            rdb::OPCODE_FUNCTION_PRE_GA => texts.push(pre_ga(&mut r)?),
            _ => return Err("given type is not a function".into()),
        }
    }
    Ok(texts)
}

/// A library as Redis 7.0's release candidates wrote it (name, engine,
/// an optional description, code), made into the text Redis 7.0 loads.
fn pre_ga(r: &mut Reader<'_>) -> Result<Vec<u8>, String> {
    let name = r.string().map_err(|_| "Failed loading library name")?;
    let engine = r.string().map_err(|_| "Failed loading engine name")?;
    let has_description = r
        .len()
        .map_err(|_| "Failed loading library description indicator")?;
    if has_description != 0 {
        r.string()
            .map_err(|_| "Failed loading library description")?;
    }
    let code = r.string().map_err(|_| "Failed loading library blob")?;
    let mut text = Vec::with_capacity(code.len() + name.len() + engine.len() + 10);
    text.extend_from_slice(b"#!");
    text.extend_from_slice(&engine);
    text.extend_from_slice(b" name=");
    text.extend_from_slice(&name);
    text.push(b'\n');
    text.extend_from_slice(&code);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::super::{FunctionInfo, Library};
    use super::*;
    use bytes::Bytes;

    #[test]
    fn a_dump_gives_back_its_texts() {
        let mut libraries = Libraries::default();
        for name in ["one", "two"] {
            let code = format!(
                "#!lua name={name}\nredis.register_function('{name}', function() return 1 end)"
            );
            let library = Library {
                name: name.as_bytes().to_vec(),
                code: Bytes::from(code),
                functions: vec![FunctionInfo {
                    name: name.as_bytes().to_vec(),
                    description: None,
                    flags: Default::default(),
                }],
            };
            assert_eq!(libraries.add(library, false), Ok(()));
        }
        for compress in [true, false] {
            let texts = texts(&dump(&libraries, compress)).unwrap_or_default();
            let expected: Vec<Vec<u8>> = libraries.iter().map(|l| l.code.to_vec()).collect();
            assert_eq!(texts, expected);
        }
        assert_eq!(texts(&dump(&Libraries::default(), true)), Ok(Vec::new()));
        assert_eq!(
            texts(b"abc"),
            Err("DUMP payload version or checksum are wrong".into())
        );
        assert_eq!(
            texts(&rdb::seal(vec![1, 2])),
            Err("given type is not a function".into())
        );
        assert_eq!(
            texts(&rdb::seal(vec![rdb::OPCODE_FUNCTION2, 0x05, b'a'])),
            Err("Failed loading library payload".into())
        );
    }

    #[test]
    fn a_release_candidate_library_reads_as_redis_reads_it() {
        let mut body = vec![rdb::OPCODE_FUNCTION_PRE_GA];
        for s in [&b"lib"[..], b"LUA"] {
            rdb::string::put_string(&mut body, s, false);
        }
        rdb::string::put_len(&mut body, 1);
        rdb::string::put_string(&mut body, b"a description", false);
        rdb::string::put_string(
            &mut body,
            b"redis.register_function('f', function() end)",
            false,
        );
        assert_eq!(
            texts(&rdb::seal(body)),
            Ok(vec![
                b"#!LUA name=lib\nredis.register_function('f', function() end)".to_vec()
            ])
        );
    }
}
