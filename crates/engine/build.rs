//! Compiles the C `long double` shim used by INCRBYFLOAT (see `csrc/longdouble.c`).

fn main() {
    println!("cargo:rerun-if-changed=csrc/longdouble.c");
    cc::Build::new()
        .file("csrc/longdouble.c")
        .opt_level(2)
        .warnings(true)
        .warnings_into_errors(true)
        .compile("tandem_longdouble");
}
