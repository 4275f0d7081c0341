//! The event CSV of `peers.py generate` (`profile,interest,ts,weight`),
//! read into columns. Shared by the `batch_score` and `bulk_score` examples.

/// Event columns read from the CSV.
#[derive(Default)]
pub(crate) struct Columns {
    pub(crate) profiles: Vec<u32>,
    pub(crate) interests: Vec<u16>,
    pub(crate) ts: Vec<i64>,
    pub(crate) weights: Vec<f32>,
}

/// Parses an unsigned decimal integer field.
fn parse_uint(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 19 {
        return None;
    }
    field.iter().try_fold(0_u64, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

/// Parses a signed decimal integer field.
fn parse_int(field: &[u8]) -> Option<i64> {
    match field.split_first() {
        Some((b'-', rest)) => parse_uint(rest).and_then(|v| 0_i64.checked_sub_unsigned(v)),
        Some((b'+', rest)) => parse_uint(rest).and_then(|v| i64::try_from(v).ok()),
        _ => parse_uint(field).and_then(|v| i64::try_from(v).ok()),
    }
}

pub(crate) fn parse_csv(data: &[u8]) -> Result<Columns, String> {
    let mut lines = data.split(|&b| b == b'\n');
    let header = lines.next().unwrap_or_default();
    let header = header.strip_suffix(b"\r").unwrap_or(header);
    if header != b"profile,interest,ts,weight" {
        return Err(format!(
            "line 1: expected header \"profile,interest,ts,weight\", got {:?}",
            String::from_utf8_lossy(header)
        ));
    }
    let estimate = data.len() / 36 + 1;
    let mut c = Columns {
        profiles: Vec::with_capacity(estimate),
        interests: Vec::with_capacity(estimate),
        ts: Vec::with_capacity(estimate),
        weights: Vec::with_capacity(estimate),
    };
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let bad = |what: &str| {
            format!(
                "line {line_no}: {what} in {:?}",
                String::from_utf8_lossy(line)
            )
        };
        let mut fields = line.split(|&b| b == b',');
        let (Some(p), Some(k), Some(t), Some(w), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(bad("expected 4 comma-separated fields"));
        };
        let p = parse_uint(p)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| bad("bad profile (u32)"))?;
        let k = parse_uint(k)
            .and_then(|v| u16::try_from(v).ok())
            .ok_or_else(|| bad("bad interest (u16)"))?;
        let t = parse_int(t).ok_or_else(|| bad("bad ts (i64)"))?;
        let w = std::str::from_utf8(w)
            .ok()
            .and_then(|s| s.parse::<f32>().ok())
            .ok_or_else(|| bad("bad weight (f32)"))?;
        c.profiles.push(p);
        c.interests.push(k);
        c.ts.push(t);
        c.weights.push(w);
    }
    Ok(c)
}

