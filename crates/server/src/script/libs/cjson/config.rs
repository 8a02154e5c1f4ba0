//! A `cjson` module's settings (lua-cjson's defaults), shared by its
//! functions.

/// The deepest nesting encoded or decoded, whatever the settings say:
/// both recurse on the thread's stack (lua-cjson stops where Lua's stack
/// does, a few thousand levels). Past it, the settings' own error.
pub const HARD_MAX_DEPTH: i64 = 1000;

use std::cell::RefCell;
use std::rc::Rc;

/// One module's settings.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub sparse_convert: bool,
    pub sparse_ratio: i64,
    pub sparse_safe: i64,
    pub encode_max_depth: i64,
    pub decode_max_depth: i64,
    /// 0: an error, 1: written as `nan`/`inf`, 2: written as `null`.
    pub encode_invalid_numbers: u8,
    pub decode_invalid_numbers: bool,
    pub keep_buffer: bool,
    pub precision: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: false,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: true,
            keep_buffer: true,
            precision: 14,
        }
    }
}

pub type Shared = Rc<RefCell<Config>>;
