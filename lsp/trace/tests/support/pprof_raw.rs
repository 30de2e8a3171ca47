//! Test support: reads the text `go tool pprof -raw` prints for the
//! profiles `go tool trace -pprof=…` writes (the oracle files kept next to
//! the fixture traces) into stack (PCs, leaf first) → (count, delay ns).
//! Shared by the decoder oracle tests and the report's end-to-end test
//! (`#[path]`-included); it does not compute anything from traces.

use std::collections::BTreeMap;

/// PCs of a stack, leaf first.
pub type Key = Vec<u64>;
/// Stack → (contentions, delay in ns), summed over identical stacks.
pub type Profile = BTreeMap<Key, (u64, u64)>;

/// Parses `go tool pprof -raw` output of a contention profile.
pub fn parse_raw(text: &str) -> Result<Profile, String> {
    #[derive(PartialEq)]
    enum Sec {
        Head,
        Types,
        Samples,
        Locations,
        Other,
    }
    let mut samples: Vec<(u64, u64, Vec<u64>)> = Vec::new();
    let mut locs: BTreeMap<u64, u64> = BTreeMap::new();
    let mut sec = Sec::Head;
    for line in text.lines() {
        let t = line.trim();
        match t {
            "Samples:" => {
                sec = Sec::Types;
                continue;
            }
            "Locations" => {
                sec = Sec::Locations;
                continue;
            }
            "Mappings" => {
                sec = Sec::Other;
                continue;
            }
            _ => {}
        }
        match sec {
            Sec::Types => {
                if t != "contentions/count delay/nanoseconds" {
                    return Err(format!("unexpected sample types line {t:?}"));
                }
                sec = Sec::Samples;
            }
            Sec::Samples => {
                if t.is_empty() {
                    continue;
                }
                let (vals, ids) = t
                    .split_once(':')
                    .ok_or_else(|| format!("bad sample line {t:?}"))?;
                let vals: Vec<u64> = vals
                    .split_whitespace()
                    .map(|v| v.parse().map_err(|e| format!("{t:?}: {e}")))
                    .collect::<Result<_, _>>()?;
                let [count, delay] = vals[..] else {
                    return Err(format!("bad sample values {t:?}"));
                };
                let ids: Vec<u64> = ids
                    .split_whitespace()
                    .map(|v| v.parse().map_err(|e| format!("{t:?}: {e}")))
                    .collect::<Result<_, _>>()?;
                samples.push((count, delay, ids));
            }
            Sec::Locations => {
                // `    12: 0x4f2a4e M=1 main.f /path/file.go:42 s=0`, and
                // indented continuation lines (inlined frames) without id.
                let Some((id, rest)) = t.split_once(':') else {
                    continue;
                };
                let Ok(id) = id.trim().parse::<u64>() else {
                    continue;
                };
                let addr = rest
                    .split_whitespace()
                    .next()
                    .and_then(|a| a.strip_prefix("0x"))
                    .ok_or_else(|| format!("bad location line {t:?}"))?;
                let pc = u64::from_str_radix(addr, 16).map_err(|e| format!("{t:?}: {e}"))?;
                locs.insert(id, pc);
            }
            Sec::Head | Sec::Other => {}
        }
    }
    if sec == Sec::Head {
        return Err("no Samples section".into());
    }
    let mut prof = Profile::new();
    for (count, delay, ids) in samples {
        let key: Key = ids
            .iter()
            .map(|id| {
                locs.get(id)
                    .copied()
                    .ok_or(format!("unknown location {id}"))
            })
            .collect::<Result<_, _>>()?;
        let e = prof.entry(key).or_default();
        e.0 += count;
        e.1 += delay;
    }
    Ok(prof)
}

/// Total contentions and delay of a profile.
#[allow(dead_code)] // not every including test needs it
pub fn totals(p: &Profile) -> (u64, u64) {
    p.values().fold((0, 0), |(c, d), &(n, ns)| (c + n, d + ns))
}
