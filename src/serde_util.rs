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

/// Instants in stored data: RFC 3339 in UTC (`"2026-11-02T10:00:00Z"`) when
/// RFC 3339 can hold them, else `[unix_seconds, nanosecond]` (years before
/// 0000, which `OffsetDateTime` allows). Offsets are
/// normalised to UTC (equal instants compare equal either way); reading
/// accepts any RFC 3339 offset and the integer form.
pub(crate) mod instant {
    use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    pub(crate) fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let utc = t.checked_to_offset(UtcOffset::UTC);
        match utc.map(|u| u.format(&Rfc3339)) {
            Some(Ok(text)) => s.serialize_str(&text),
            _ => (t.unix_timestamp(), t.nanosecond()).serialize(s),
        }
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Parts(i64, u32),
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        match Repr::deserialize(d)? {
            Repr::Text(t) => OffsetDateTime::parse(&t, &Rfc3339)
                .map_err(|e| de::Error::custom(format!("instant {t:?}: {e}"))),
            Repr::Parts(secs, nanos) => OffsetDateTime::from_unix_timestamp(secs)
                .and_then(|t| t.replace_nanosecond(nanos))
                .map_err(|e| de::Error::custom(format!("instant [{secs}, {nanos}]: {e}"))),
        }
    }

    /// The same for `Option<OffsetDateTime>`.
    pub(crate) mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use time::OffsetDateTime;

        pub(crate) fn serialize<S: Serializer>(
            t: &Option<OffsetDateTime>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        #[derive(Deserialize)]
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
        }
    }
}
