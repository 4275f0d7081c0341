//! Serde helpers shared by the configuration types.

/// Durations in configuration: written as `"14d"`, `"36h"`, `"30m"`, `"45s"`
/// or `"1500ns"`; read from such a string or from an integer number of
/// seconds.
pub(crate) mod duration {
    use serde::{de, Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub(crate) fn format(d: Duration) -> String {
        let nanos = d.whole_nanoseconds();
        if nanos % 1_000_000_000 != 0 {
            return format!("{nanos}ns");
        }
        let secs = d.whole_seconds();
        if secs != 0 && secs % 86_400 == 0 {
            format!("{}d", secs / 86_400)
        } else if secs != 0 && secs % 3_600 == 0 {
            format!("{}h", secs / 3_600)
        } else if secs != 0 && secs % 60 == 0 {
            format!("{}m", secs / 60)
        } else {
            format!("{secs}s")
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Duration, String> {
        let s = s.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .ok_or_else(|| format!("duration {s:?} lacks a unit (d, h, m, s, ns)"))?;
        let (num, unit) = s.split_at(split);
        let n: i64 = num
            .parse()
            .map_err(|_| format!("duration {s:?}: {num:?} is not an integer"))?;
        let per: i64 = match unit {
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            "ns" => return Ok(Duration::nanoseconds(n)),
            _ => {
                return Err(format!(
                    "duration {s:?}: unknown unit {unit:?} (d, h, m, s, ns)"
                ))
            }
        };
        n.checked_mul(per)
            .map(Duration::seconds)
            .ok_or_else(|| format!("duration {s:?} is out of range"))
    }

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*d))
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Secs(i64),
        Text(String),
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Secs(n) => Ok(Duration::seconds(n)),
            Repr::Text(t) => parse(&t).map_err(de::Error::custom),
        }
    }

    /// The same for `Option<Duration>`.
    pub(crate) mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::Duration;

        pub(crate) fn serialize<S: Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&super::format(*d)),
                None => s.serialize_none(),
            }
        }

        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super")] Duration);

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Duration>, D::Error> {
            Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
        }
    }

    #[cfg(test)]
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    mod tests {
        use super::*;

        #[test]
        fn formats_and_parses_back() {
            for d in [
                Duration::days(14),
                Duration::hours(36),
                Duration::minutes(90),
                Duration::seconds(45),
                Duration::ZERO,
                Duration::nanoseconds(1500),
                Duration::days(-2),
            ] {
                assert_eq!(parse(&format(d)), Ok(d), "{}", format(d));
            }
        }

        #[test]
        fn rejects_garbage() {
            assert!(parse("14").is_err());
            assert!(parse("x14d").is_err());
            assert!(parse("14 weeks").is_err());
            assert!(parse("99999999999999999d").is_err());
        }
    }
}

/// Instants in stored data. Human-readable formats (JSON) get RFC 3339 in UTC
/// (`"2026-11-02T10:00:00Z"`) when RFC 3339 can hold the instant, else RFC
/// 3339 with the instant's own offset, else `[unix_seconds, nanosecond,
/// offset_seconds]` (years before 0000, offsets with seconds, or instants at
/// the edge of the range whose UTC form lies outside it). Binary formats get
/// the triple always. Every `OffsetDateTime` round-trips; reading also
/// accepts any RFC 3339 offset and 0.1's `[unix_seconds, nanosecond]`.
pub(crate) mod instant {
    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    /// The exact parts of an instant: Unix seconds, nanosecond, offset seconds.
    pub(crate) fn parts(t: OffsetDateTime) -> (i64, u32, i32) {
        (
            t.unix_timestamp(),
            t.nanosecond(),
            t.offset().whole_seconds(),
        )
    }

    /// The instant of [`parts`], for every triple `parts` can return.
    pub(crate) fn from_parts(secs: i64, nanos: u32, offset: i32) -> Result<OffsetDateTime, String> {
        let bad = |e: &dyn std::fmt::Display| format!("instant [{secs}, {nanos}, {offset}]: {e}");
        let off = UtcOffset::from_whole_seconds(offset).map_err(|e| bad(&e))?;
        // Build the wall clock (always in range when the instant is), then
        // attach the offset: this also holds instants whose UTC form is not.
        let local = secs
            .checked_add(i64::from(offset))
            .ok_or_else(|| bad(&"out of range"))?;
        OffsetDateTime::from_unix_timestamp(local)
            .and_then(|t| t.replace_nanosecond(nanos))
            .map(|t| t.replace_offset(off))
            .map_err(|e| bad(&e))
    }

    pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        if !s.is_human_readable() {
            return parts(*t).serialize(s);
        }
        let utc = t.checked_to_offset(UtcOffset::UTC);
        if let Some(Ok(text)) = utc.map(|u| u.format(&Rfc3339)) {
            return s.serialize_str(&text);
        }
        match t.format(&Rfc3339) {
            Ok(text) => s.serialize_str(&text),
            Err(_) => parts(*t).serialize(s),
        }
    }

    struct Visit;

    impl<'de> de::Visitor<'de> for Visit {
        type Value = OffsetDateTime;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 instant or [unix_seconds, nanosecond, offset_seconds]")
        }

        fn visit_str<E: de::Error>(self, t: &str) -> Result<OffsetDateTime, E> {
            parse(t).map_err(E::custom)
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<OffsetDateTime, A::Error> {
            let missing = || de::Error::custom("an instant needs [unix_seconds, nanosecond]");
            let secs: i64 = seq.next_element()?.ok_or_else(missing)?;
            let nanos: u32 = seq.next_element()?.ok_or_else(missing)?;
            let offset: i32 = seq.next_element()?.unwrap_or(0);
            if seq.next_element::<de::IgnoredAny>()?.is_some() {
                return Err(de::Error::custom("an instant has at most three parts"));
            }
            from_parts(secs, nanos, offset).map_err(de::Error::custom)
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        if !d.is_human_readable() {
            let (secs, nanos, offset) = <(i64, u32, i32)>::deserialize(d)?;
            return from_parts(secs, nanos, offset).map_err(de::Error::custom);
        }
        d.deserialize_any(Visit)
    }

    /// Parses RFC 3339 text; the form this module writes (UTC, `Z`) takes
    /// a fast path.
    pub(crate) fn parse(t: &str) -> Result<OffsetDateTime, String> {
        if let Some(fast) = parse_utc(t.as_bytes()) {
            return Ok(fast);
        }
        OffsetDateTime::parse(t, &Rfc3339).map_err(|e| format!("instant {t:?}: {e}"))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, or `None` to take the full parser.
    fn parse_utc(b: &[u8]) -> Option<OffsetDateTime> {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b.get(r)?.iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let sep = |i: usize, c: u8| b.get(i) == Some(&c);
        if b.len() < 20
            || !(sep(4, b'-') && sep(7, b'-') && sep(10, b'T') && sep(13, b':') && sep(16, b':'))
        {
            return None;
        }
        if b.last() != Some(&b'Z') {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let nanos = match b.len() {
            20 => 0,
            n if sep(19, b'.') && (22..=30).contains(&n) => {
                let digits = n - 21;
                num(20..n - 1)? * 10u32.pow(u32::try_from(9 - digits).ok()?)
            }
            _ => return None,
        };
        let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
        let date = time::Date::from_calendar_date(
            i32::try_from(year).ok()?,
            month,
            u8::try_from(day).ok()?,
        )
        .ok()?;
        let time = time::Time::from_hms_nano(
            u8::try_from(hour).ok()?,
            u8::try_from(minute).ok()?,
            u8::try_from(second).ok()?,
            nanos,
        )
        .ok()?;
        Some(time::PrimitiveDateTime::new(date, time).assume_utc())
    }

    /// The same for `Option<OffsetDateTime>`.
    pub(crate) mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        pub(crate) fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            // `serialize_some` keeps the tag binary formats need.
            match t {
                Some(t) => s.serialize_some(&Wrap(*t)),
                None => s.serialize_none(),
            }
        }

        #[derive(serde::Serialize, Deserialize)]
        struct Wrap(#[serde(with = "super")] OffsetDateTime);

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<OffsetDateTime>, D::Error> {
            Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
        }
    }

    #[cfg(test)]
    #[allow(clippy::unwrap_used, clippy::expect_used)]
    mod tests {
        use time::macros::datetime;

        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct T(#[serde(with = "super")] time::OffsetDateTime);

        #[test]
        fn every_instant_round_trips() {
            for t in [
                datetime!(2026-11-02 10:00 UTC),
                datetime!(2026-11-02 10:00 +02:00),
                datetime!(2027-02-25 12:38:20 +23:59:59),
                datetime!(-9999-01-01 0:00 UTC),
                datetime!(9999-12-31 23:59:59.999999999 UTC),
                datetime!(9999-12-31 23:59:59.999999999 -23:59:59),
                datetime!(-9999-01-01 0:00 +23:59:59),
                datetime!(9999-12-31 22:00 -05:00),
                datetime!(-9999-01-01 0:00:01 +00:00:01),
            ] {
                let json = serde_json::to_string(&T(t)).unwrap();
                let back: T = serde_json::from_str(&json).unwrap();
                assert_eq!(back, T(t), "{json}");
                assert_eq!(serde_json::to_string(&back).unwrap(), json);
            }
            assert_eq!(
                serde_json::to_string(&T(datetime!(2026-11-02 12:00 +02:00))).unwrap(),
                "\"2026-11-02T10:00:00Z\""
            );
            // The edge of the range keeps its offset instead of failing.
            let edge = datetime!(9999-12-31 22:00 -05:00);
            let json = serde_json::to_string(&T(edge)).unwrap();
            let back: T = serde_json::from_str(&json).unwrap();
            assert_eq!(back.0.offset(), edge.offset());
            // 0.1's two-part form still reads.
            let old: T = serde_json::from_str("[0, 5]").unwrap();
            assert_eq!(old.0, datetime!(1970-01-01 0:00:00.000000005 UTC));
        }

        #[test]
        fn fast_path_agrees_with_the_full_parser() {
            for t in [
                "2026-11-02T10:00:00Z",
                "2026-11-02T10:00:00.5Z",
                "2026-11-02T10:00:00.123456789Z",
                "0000-01-01T00:00:00Z",
                "2024-02-29T23:59:59.000000001Z",
            ] {
                let full =
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .unwrap();
                assert_eq!(super::parse_utc(t.as_bytes()), Some(full), "{t}");
            }
            for t in [
                "2026-02-30T10:00:00Z",
                "2026-11-02T24:00:00Z",
                "2026-11-02T10:00:00.Z",
                "2026-11-02 10:00:00Z",
                "2026-11-02T10:00:00+00:00",
            ] {
                assert_eq!(super::parse_utc(t.as_bytes()), None, "{t}");
            }
        }
    }
}
