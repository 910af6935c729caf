//! Timestamps as users write them (`-o 2024-08-01`, `-n "2024-08-01 13:00+02:00"`) and as
//! results files carry them (`2024-08-01T13:00:00.123000`, local time). Calendar arithmetic is
//! the `time` crate's; the accepted forms (those of Python's `datetime.fromisoformat`, which the
//! Python tool used) are parsed here, since no format description of `time` takes all of them.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `Z`, `±HH`, `±HHMM` or `±HH:MM` as seconds east of UTC.
fn zone_offset(zone: &str) -> Option<i32> {
    if zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let z = zone.get(1..)?.replace(':', "");
    let zh = digits(z.get(..2)?, 2)?;
    let zm = match z.len() {
        4 => digits(&z[2..], 2)?,
        2 => 0,
        _ => return None,
    };
    Some(sign * i32::try_from(zh * 3600 + zm * 60).ok()?)
}

/// `HH:MM[:SS[.fraction]]` as a time of day and the fraction of its second.
fn clock_time(clock: &str) -> Option<(Time, f64)> {
    let mut f = clock.split(':');
    let h = digits(f.next()?, 2)?;
    let m = digits(f.next()?, 2)?;
    let (mut sec, mut frac) = (0, 0.0);
    if let Some(s_part) = f.next() {
        let (whole, fraction) = match s_part.split_once('.') {
            Some((w, fr)) => (w, Some(fr)),
            None => (s_part, None),
        };
        sec = digits(whole, 2)?;
        if let Some(fr) = fraction {
            if fr.is_empty() || !fr.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            frac = format!("0.{fr}").parse().ok()?;
        }
    }
    if f.next().is_some() {
        return None;
    }
    let time = Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(sec).ok()?,
    )
    .ok()?;
    Some((time, frac))
}

/// A date or date-time (ISO 8601 forms: `T` or space, optional seconds and fraction, optional
/// `Z`/`±HH:MM`/`±HHMM`) as Unix seconds. A time without an offset is local:
/// `local_offset_seconds` is the user's UTC offset (east positive).
pub fn parse_iso(text: &str, local_offset_seconds: i32) -> Option<f64> {
    let s = text.trim();
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = digits(parts.next()?, 2)?;
    let day = digits(parts.next()?, 2)?;
    if parts.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;
    let (mut time, mut frac, mut offset) = (Time::MIDNIGHT, 0.0, local_offset_seconds);
    if let Some(rest) = rest {
        let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        (time, frac) = clock_time(clock)?;
        if let Some(zone) = zone {
            offset = zone_offset(zone)?;
        }
    }
    let offset = UtcOffset::from_whole_seconds(offset).ok()?;
    let at = PrimitiveDateTime::new(date, time).assume_offset(offset);
    Some(at.unix_timestamp() as f64 + frac)
}

/// Unix milliseconds as local ISO time with microseconds, as Python's
/// `datetime.now().isoformat(timespec='microseconds')` writes it: `2024-05-01T13:45:12.123000`.
pub fn local_iso(unix_ms: i64, utc_offset_seconds: i32) -> String {
    let offset = UtcOffset::from_whole_seconds(utc_offset_seconds).unwrap_or(UtcOffset::UTC);
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(offset);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn parsing() {
        assert_eq!(parse_iso("2024-02-29", 0), Some(1_709_164_800.0));
        assert_eq!(
            parse_iso("2024-02-29T12:00:00Z", 3600),
            Some(1_709_208_000.0)
        );
        assert_eq!(parse_iso("2024-02-29 12:00", 3600), Some(1_709_204_400.0));
        assert_eq!(
            parse_iso("2024-02-29T12:00:00+02:00", 0),
            Some(1_709_200_800.0)
        );
        assert_eq!(
            parse_iso("2024-02-29T12:00:00-0500", 0),
            Some(1_709_226_000.0)
        );
        assert_eq!(
            parse_iso("2024-02-29T12:00:00.5Z", 0),
            Some(1_709_208_000.5)
        );
        assert_eq!(parse_iso("1969-12-31T23:59:59Z", 0), Some(-1.0));
        assert_eq!(parse_iso("2000-03-01", 0), Some(951_868_800.0));
        assert_eq!(parse_iso("1994-11-06T08:49:37Z", 0), Some(784_111_777.0));
        for bad in [
            "",
            "yesterday",
            "2024-2-29",
            "2023-02-29",
            "2024-02-29T25:00",
            "2024-02-29T12:00:00+2",
            "2024-13-01",
            "2024-02-29T12:00:00.Z",
        ] {
            assert_eq!(parse_iso(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn local_time_for_results() {
        assert_eq!(local_iso(0, 0), "1970-01-01T00:00:00.000000");
        assert_eq!(
            local_iso(1_709_208_000_123, 3600),
            "2024-02-29T13:00:00.123000"
        );
        assert_eq!(
            local_iso(1_709_208_000_000, -5 * 3600),
            "2024-02-29T07:00:00.000000"
        );
    }
}
