//! Numbers as people read them, in one voice for the terminal, the report,
//! the charts and error messages: one minus sign (U+2212, never a hyphen),
//! one rounding rule (to the nearest shown digit; a value exactly halfway
//! goes to the even digit, as `format!` rounds), and no negative zero: a
//! value that rounds to zero is shown unsigned.
//!
//! Output files that are read back by programs (CSV, JSON) do not use these:
//! they keep every digit (see `output::exact`).

/// The minus sign, not a hyphen, so negative sums read as negative.
pub const MINUS: char = '\u{2212}';

/// `body` (already written without a sign) with a minus in front when `v`
/// is negative and the body shows a non-zero digit.
fn with_sign(v: f64, body: String) -> String {
    if v < 0.0 && body.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("{MINUS}{body}")
    } else {
        body
    }
}

/// An integer with thousands separators: 1234567 → "1,234,567".
pub fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    with_sign(v, out)
}

/// Whole pounds with thousands separators: "£1,234,567".
pub fn pounds(v: f64) -> String {
    with_sign(v, format!("£{}", thousands(v.abs())))
}

/// A sum as a board paper writes it: £420, £350k, £1.8m, £1,448m.
pub fn money(v: f64) -> String {
    let a = v.abs();
    let body = if a >= 99.95e6 {
        format!("£{}m", thousands(a / 1e6))
    } else if a >= 999.5e3 {
        format!("£{:.1}m", a / 1e6)
    } else if a >= 999.5 {
        format!("£{:.0}k", a / 1e3)
    } else {
        format!("£{a:.0}")
    };
    with_sign(v, body)
}

/// Millions of pounds to one decimal place, for columns of like sums:
/// "£1444.9m", "−£5.6m".
pub fn millions(v: f64) -> String {
    with_sign(v, format!("£{:.1}m", v.abs() / 1e6))
}

/// A count with thousands separators and a true minus sign.
pub fn count(v: f64) -> String {
    thousands(v)
}

/// A whole number without separators (for tables whose columns are read
/// down), with a true minus sign.
pub fn whole(v: f64) -> String {
    with_sign(v, format!("{:.0}", v.abs()))
}

/// `x` rounded to `figures` significant figures, as a figure is written
/// to a scenario no more precisely than it is known.
pub fn significant(x: f64, figures: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(figures - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// A number with `decimals` places and a true minus sign.
pub fn decimal(v: f64, decimals: usize) -> String {
    with_sign(v, format!("{:.*}", decimals, v.abs()))
}

/// A number with `decimals` places, its sign always shown (a true minus),
/// or "0" when it rounds to zero.
pub fn signed(v: f64, decimals: usize) -> String {
    let body = format!("{:.*}", decimals, v.abs());
    if body.chars().all(|c| c == '0' || c == '.') {
        "0".into()
    } else if v < 0.0 {
        format!("{MINUS}{body}")
    } else {
        format!("+{body}")
    }
}

/// A share (0 to 1) as a whole percentage, "38%"; an en dash where it is
/// not defined.
pub fn percent(v: f64) -> String {
    if v.is_finite() {
        format!("{:.0}%", v * 100.0)
    } else {
        "–".into()
    }
}

/// A ratio to one decimal place, or an en dash where it is not defined.
pub fn ratio(v: f64) -> String {
    if v.is_finite() {
        decimal(v, 1)
    } else {
        "–".into()
    }
}

/// A size in bytes as megabytes below a gigabyte, gigabytes above:
/// "75 MB", "4.0 GB".
pub fn size(bytes: u64) -> String {
    if bytes < 1 << 30 {
        format!("{:.0} MB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.1} GB", bytes as f64 / (1u64 << 30) as f64)
    }
}

/// A total and its parts, each in the unit [`size`] gives the total, the
/// parts rounded so that the parts shown add up to the total shown: each is
/// rounded down, then those with the largest remainders up, until they do.
pub fn sizes(parts: &[u64]) -> (String, Vec<String>) {
    let total = parts.iter().fold(0u64, |a, &b| a.saturating_add(b));
    // Units of a megabyte below a gigabyte, else of a tenth of a gigabyte.
    let (per, unit) = if total < 1 << 30 {
        (1u128, 1u128 << 20)
    } else {
        (10, 1 << 30)
    };
    let show = |n: u64| {
        if per == 1 {
            format!("{n} MB")
        } else {
            format!("{}.{} GB", n / 10, n % 10)
        }
    };
    let units = |bytes: u64| (bytes as u128 * per / unit, bytes as u128 * per % unit);
    let target = ((total as u128 * per + unit / 2) / unit) as u64;
    let mut shown: Vec<u64> = parts.iter().map(|&p| units(p).0 as u64).collect();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(units(parts[i]).1));
    let short = target.saturating_sub(shown.iter().sum());
    for &i in order.iter().take(short as usize) {
        shown[i] += 1;
    }
    (show(target), shown.into_iter().map(show).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_written_as_a_board_paper_writes_them() {
        assert_eq!(money(1_800_000.0), "£1.8m");
        assert_eq!(money(350_000.0), "£350k");
        assert_eq!(money(-52_100_000.0), "−£52.1m");
        assert_eq!(money(1_448_300_000.0), "£1,448m");
        assert_eq!(money(420.4), "£420");
        assert_eq!(money(-0.2), "£0");
        assert_eq!(pounds(1_234_567.4), "£1,234,567");
        assert_eq!(pounds(-1234.0), "−£1,234");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(signed(-6.36, 2), "−6.36");
        assert_eq!(signed(0.004, 2), "0");
        assert_eq!(signed(1.25, 1), "+1.2");
        assert_eq!(decimal(-0.0004, 3), "0.000");
        assert_eq!(decimal(-0.0126, 3), "−0.013");
    }

    #[test]
    fn columns_of_sums_and_counts_read_the_same_way() {
        assert_eq!(millions(1_444_912_345.0), "£1444.9m");
        assert_eq!(millions(-5_640_000.0), "−£5.6m");
        assert_eq!(whole(15_568.4), "15568");
        assert_eq!(whole(-8_795.2), "−8795");
        assert_eq!(ratio(2.26), "2.3");
        assert_eq!(ratio(-0.74), "−0.7");
        assert_eq!(ratio(f64::NAN), "–");
        assert_eq!(size(75 << 20), "75 MB");
        assert_eq!(size(4 << 30), "4.0 GB");
        // Parts that each round down still add up to the total shown.
        let mb = 1u64 << 20;
        assert_eq!(
            sizes(&[24 * mb, mb / 3, mb / 3, mb / 3 + 10]),
            (
                "25 MB".into(),
                vec!["24 MB".into(), "0 MB".into(), "0 MB".into(), "1 MB".into()]
            )
        );
        let (total, parts) = sizes(&[24 * mb, 3 << 30, (1 << 30) / 20 * 3, 600 * mb]);
        assert_eq!(
            (
                total.as_str(),
                size(3 * (1 << 30) + 24 * mb + (1 << 30) / 20 * 3 + 600 * mb).as_str()
            ),
            ("3.8 GB", "3.8 GB")
        );
        assert_eq!(parts, ["0.0 GB", "3.0 GB", "0.2 GB", "0.6 GB"]);
        // Exactly halfway goes to the even digit, in columns as in prose.
        assert_eq!((whole(2.5), whole(3.5)), ("2".into(), "4".into()));
        assert_eq!(millions(1_250_000.0), money(1_250_000.0));
    }

    #[test]
    fn nothing_that_rounds_to_zero_carries_a_sign() {
        // Each once printed "£-0.0m", "-0" or "-0.0".
        assert_eq!(millions(-10_000.0), "£0.0m");
        assert_eq!(whole(-0.3), "0");
        assert_eq!(ratio(-0.04), "0.0");
        assert_eq!(decimal(-0.0, 1), "0.0");
        for f in [millions, count, whole, money, pounds] {
            assert!(!f(-1e-9).contains(['-', MINUS]), "{}", f(-1e-9));
        }
    }
}
