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
