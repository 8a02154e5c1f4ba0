//! LATENCY GRAPH's drawing: a series of values as rows of characters, in
//! the layout of Redis 7.0's sparklines (so that what an operator reads
//! is what Redis would print).
//!
//! Owns the layout: `rows` rows of three steps each (`_`, `o`, `#`
//! filled, with `|` below the top of a column), then each sample's label
//! written downwards under it, one blank row between; `columns` samples
//! per block, blocks one after another. It only formats: no I/O, and
//! every value is drawn (NaN and infinities land at the ends).

/// The characters of one row, from the lowest step.
const FILL: [u8; 3] = *b"_o#";
/// Blank rows between the graph and the labels.
const LABEL_MARGIN: usize = 1;

/// One value to draw, with the label printed under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The value.
    pub value: f64,
    /// Its label (empty: none).
    pub label: String,
}

/// The graph of `samples` in blocks of `columns`, `rows` rows high.
pub fn render(samples: &[Sample], columns: usize, rows: usize) -> String {
    let min = samples
        .iter()
        .map(|s| s.value)
        .fold(f64::INFINITY, f64::min);
    let max = samples
        .iter()
        .map(|s| s.value)
        .fold(f64::NEG_INFINITY, f64::max);
    let labelled = samples.iter().any(|s| !s.label.is_empty());
    let mut out = String::new();
    for (i, block) in samples.chunks(columns.max(1)).enumerate() {
        if i != 0 {
            out.push('\n');
        }
        block_rows(&mut out, block, min, max, rows, labelled);
    }
    out
}

/// The step (0 to `steps` - 1) a value reaches, as Redis rounds it: the
/// scaled value truncated, divided by the range, truncated again.
fn step(value: f64, min: f64, range: f64, steps: usize) -> usize {
    let scaled = ((value - min) * steps as f64).trunc();
    let step = (scaled / range).trunc();
    if step.is_nan() || step < 0.0 {
        0
    } else {
        (step as usize).min(steps.saturating_sub(1))
    }
}

fn block_rows(out: &mut String, block: &[Sample], min: f64, max: f64, rows: usize, labelled: bool) {
    let range = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = FILL.len() * rows;
    let mut row = 0;
    loop {
        let mut line = vec![b' '; block.len()];
        let mut more = false;
        if row < rows {
            more = true;
            // This row shows steps from `base` up.
            let base = (rows - row - 1) * FILL.len();
            for (c, s) in line.iter_mut().zip(block) {
                let st = step(s.value, min, range, steps);
                if st >= base + FILL.len() {
                    *c = b'|';
                } else if let Some(&f) = st.checked_sub(base).and_then(|i| FILL.get(i)) {
                    *c = f;
                }
            }
        } else if labelled && row - rows < LABEL_MARGIN {
            more = true;
        } else if let Some(at) = (row - rows).checked_sub(LABEL_MARGIN) {
            for (c, s) in line.iter_mut().zip(block) {
                if let Some(&b) = s.label.as_bytes().get(at) {
                    *c = b;
                    more = true;
                }
            }
        }
        if !more {
            return;
        }
        out.push_str(&String::from_utf8_lossy(&line));
        out.push('\n');
        row += 1;
    }
}

/// A sample's label as Redis writes it: how long ago, in the largest
/// whole unit (`5s`, `3m`, `2h`, `1d`).
pub fn ago(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[(f64, &str)]) -> Vec<Sample> {
        values
            .iter()
            .map(|(value, label)| Sample {
                value: *value,
                label: label.to_string(),
            })
            .collect()
    }

    #[test]
    fn rows_steps_and_labels_are_laid_out_as_redis_lays_them() {
        // Redis 7.0.15's LATENCY GRAPH body for spikes of 10, 50, 100, 30
        // and 3 ms, 4 to 0 seconds ago (4 rows, filled, 80 columns).
        let got = render(
            &samples(&[
                (10.0, "4s"),
                (50.0, "3s"),
                (100.0, "2s"),
                (30.0, "1s"),
                (3.0, "0s"),
            ]),
            80,
            4,
        );
        let want = "  #  \n  |  \n #|_ \n_|||_\n     \n43210\nsssss\n";
        assert_eq!(got, want);
    }

    #[test]
    fn a_flat_series_sits_on_the_floor_and_blocks_wrap() {
        let flat = samples(&[(5.0, ""), (5.0, ""), (5.0, "")]);
        assert_eq!(render(&flat, 80, 2), "   \n___\n");
        assert_eq!(render(&flat, 2, 1), "__\n\n_\n");
        assert_eq!(render(&[], 80, 4), "");
    }

    #[test]
    fn labels_name_the_largest_whole_unit() {
        assert_eq!(ago(59), "59s");
        assert_eq!(ago(60), "1m");
        assert_eq!(ago(7200), "2h");
        assert_eq!(ago(200_000), "2d");
    }
}
