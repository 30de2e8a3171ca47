//! How goblock writes durations, counts and shares for people: the one
//! format of every surface (the report's table, hovers, diagnostics, inlay
//! hints, and the editors' lists, which show labels the server renders).
//!
//! A duration has three significant digits and a unit: `40 ns`, `850 µs`,
//! `12.0 ms`, `60.6 s`; from 1000 s on, whole seconds (`1234 s`). The same
//! value always reads the same. The minutes of goroutine dumps are lower
//! bounds in whole minutes (`≥ 17 min`). Pure functions; knows nothing of where the
//! text goes (no LSP, no table layout).

/// `40 ns`, `1.23 µs`, `850 µs`, `12.0 ms`, `583 ms`, `2.00 s`, `60.6 s`, `254 s`, `1234 s`.
pub fn duration(ns: u64) -> String {
    if ns < 1_000 {
        return format!("{ns} ns");
    }
    const UNITS: [(f64, &str); 3] = [(1e3, "µs"), (1e6, "ms"), (1e9, "s")];
    let v = ns as f64;
    let mut i = if ns < 1_000_000 {
        0
    } else if ns < 1_000_000_000 {
        1
    } else {
        2
    };
    loop {
        let (scale, unit) = UNITS[i];
        let x = v / scale;
        let decimals = if x >= 99.95 {
            0
        } else if x >= 9.995 {
            1
        } else {
            2
        };
        let text = format!("{x:.decimals$}");
        // 999.7 µs rounds to "1000": say "1.00 ms" instead.
        if i + 1 < UNITS.len() && text.len() > 3 && !text.contains('.') {
            i += 1;
            continue;
        }
        return format!("{text} {unit}");
    }
}

/// `12`, `1,204`, `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `999`, `1.2k`, `25k`, `5.6M` (inlay hints, where room is short): rounded
/// down, so it never claims more than there was.
pub fn count_short(n: u64) -> String {
    let short = |v: f64, unit: &str| {
        if v < 10.0 {
            format!("{:.1}{unit}", (v * 10.0).floor() / 10.0)
        } else {
            format!("{}{unit}", v.floor() as u64)
        }
    };
    if n < 1000 {
        n.to_string()
    } else if n < 1_000_000 {
        short(n as f64 / 1e3, "k")
    } else {
        short(n as f64 / 1e6, "M")
    }
}

/// A share (0–1) as a percentage: `0 %`, `< 0.1 %`, `0.4 %`, `4.6 %`, `46 %`, `100 %`.
pub fn share(s: f64) -> String {
    let p = s * 100.0;
    if p > 0.0 && p < 0.05 {
        "< 0.1 %".to_owned()
    } else if p >= 9.95 || p == 0.0 {
        format!("{p:.0} %")
    } else {
        format!("{p:.1} %")
    }
}

/// The minutes a goroutine dump prints for a wait (`[chan receive, 17
/// minutes]`): a lower bound, so `≥ 17 min`; a range of several goroutines
/// `≥ 5–17 min`.
pub fn minutes(lo: u32, hi: u32) -> String {
    if lo == hi {
        format!("≥ {hi} min")
    } else {
        format!("≥ {lo}–{hi} min")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_have_three_significant_digits() {
        for (ns, want) in [
            (0, "0 ns"),
            (40, "40 ns"),
            (999, "999 ns"),
            (1_000, "1.00 µs"),
            (1_234, "1.23 µs"),
            (12_340, "12.3 µs"),
            (850_000, "850 µs"),
            (999_499, "999 µs"),
            (999_500, "1.00 ms"),
            (999_999, "1.00 ms"),
            (9_996_000, "10.0 ms"),
            (12_000_000, "12.0 ms"),
            (583_630_000, "584 ms"),
            (999_600_000, "1.00 s"),
            (1_980_000_000, "1.98 s"),
            (2_000_000_000, "2.00 s"),
            (3_410_000_000, "3.41 s"),
            (60_600_000_000, "60.6 s"),
            (60_640_000_000, "60.6 s"),
            (253_900_000_000, "254 s"),
            (1_234_400_000_000, "1234 s"),
        ] {
            assert_eq!(duration(ns), want, "{ns} ns");
        }
    }

    #[test]
    fn counts_and_shares() {
        assert_eq!(count(12), "12");
        assert_eq!(count(1204), "1,204");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count_short(999), "999");
        assert_eq!(count_short(1204), "1.2k");
        assert_eq!(count_short(1999), "1.9k");
        assert_eq!(count_short(25_300), "25k");
        assert_eq!(count_short(5_600_000), "5.6M");
        assert_eq!(share(0.0), "0 %");
        assert_eq!(share(0.0001), "< 0.1 %");
        assert_eq!(share(0.004), "0.4 %");
        assert_eq!(share(0.046), "4.6 %");
        assert_eq!(share(0.46), "46 %");
        assert_eq!(share(1.0), "100 %");
        assert_eq!(minutes(17, 17), "≥ 17 min");
        assert_eq!(minutes(5, 17), "≥ 5–17 min");
    }
}
