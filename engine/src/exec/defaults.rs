//! Default values the engine generates when a create runs: `uuid()` (v4 and v7), `cuid()` (v1,
//! Prisma's format) and `cuid(2)`, `nanoid()`, `ulid()`. Plans only name the generator
//! ([`Generator`]); the value is drawn here, per execution. Randomness comes from getrandom (the
//! browser's crypto on wasm32); time comes from the clock the host gives the engine, because
//! wasm32 has no clock of its own.

use crate::error::{Error, Result};
use crate::sql::Generator;
use sha3::Digest;
use std::sync::atomic::{AtomicU32, Ordering};

/// Milliseconds since the Unix epoch.
#[derive(Clone, Copy)]
pub struct Clock(pub fn() -> i64);

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock(system_millis)
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn system_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// wasm32 has no system clock; the binding installs the host's (`Date.now`).
#[cfg(target_arch = "wasm32")]
fn system_millis() -> i64 {
    0
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Generates default values for one request.
#[derive(Clone, Copy, Debug)]
pub struct Defaults {
    now_ms: i64,
}

const BASE36: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|_| Error::internal("no source of randomness available"))?;
    Ok(buf)
}

fn base36(mut n: u128) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE36[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Left-pads (or keeps the last `width` characters) like cuid's `pad`.
fn pad(s: String, width: usize) -> String {
    if s.len() >= width {
        s[s.len() - width..].to_owned()
    } else {
        "0".repeat(width - s.len()) + &s
    }
}

/// A big-endian byte string in base 36.
fn bytes_base36(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = bytes.to_vec();
    let mut out = Vec::new();
    while digits.iter().any(|d| *d != 0) {
        let mut rem: u32 = 0;
        for d in digits.iter_mut() {
            let acc = (rem << 8) | *d as u32;
            *d = (acc / 36) as u8;
            rem = acc % 36;
        }
        out.push(BASE36[rem as usize]);
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Defaults {
    pub fn new(clock: Clock) -> Self {
        Defaults { now_ms: (clock.0)() }
    }

    /// A fresh value from a generator.
    pub fn generate(&self, g: Generator) -> Result<String> {
        match g {
            Generator::Uuid(v) => self.uuid(v),
            Generator::Cuid(v) => self.cuid(v),
            Generator::Nanoid(n) => self.nanoid(n),
            Generator::Ulid => self.ulid(),
        }
    }

    pub fn uuid(&self, version: u8) -> Result<String> {
        let bytes = random::<16>()?;
        let id = if version == 7 {
            let mut rnd = [0u8; 10];
            rnd.copy_from_slice(&bytes[..10]);
            uuid::Builder::from_unix_timestamp_millis(self.now_ms.max(0) as u64, &rnd).into_uuid()
        } else {
            uuid::Builder::from_random_bytes(bytes).into_uuid()
        };
        Ok(id.hyphenated().to_string())
    }

    /// cuid v1: `c` + timestamp + counter + fingerprint + random, base 36, 25 characters.
    pub fn cuid(&self, version: u8) -> Result<String> {
        if version == 2 {
            return self.cuid2(24);
        }
        let r = random::<12>()?;
        let count = COUNTER.fetch_add(1, Ordering::Relaxed) % 1_679_616; // 36^4
        let fingerprint = u32::from_le_bytes([r[0], r[1], r[2], r[3]]) % 1_679_616;
        let rand_a = u32::from_le_bytes([r[4], r[5], r[6], r[7]]) % 1_679_616;
        let rand_b = u32::from_le_bytes([r[8], r[9], r[10], r[11]]) % 1_679_616;
        Ok(format!(
            "c{}{}{}{}{}",
            pad(base36(self.now_ms.max(0) as u128), 8),
            pad(base36(count as u128), 4),
            pad(base36(fingerprint as u128), 4),
            pad(base36(rand_a as u128), 4),
            pad(base36(rand_b as u128), 4)
        ))
    }

    /// cuid2: a random letter, then the SHA3-512 of time, entropy, a counter and a fingerprint in
    /// base 36, `length` characters in all.
    fn cuid2(&self, length: usize) -> Result<String> {
        let r = random::<64>()?;
        let first = (b'a' + (r[0] % 26)) as char;
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut h = sha3::Sha3_512::new();
        h.update(base36(self.now_ms.max(0) as u128).as_bytes());
        h.update(bytes_base36(&r[1..33]).as_bytes());
        h.update(base36(count as u128).as_bytes());
        h.update(bytes_base36(&r[33..64]).as_bytes());
        let digest = h.finalize();
        let body = bytes_base36(&digest);
        let body = body.get(1..length).unwrap_or(&body);
        Ok(format!("{first}{body}"))
    }

    pub fn nanoid(&self, size: u32) -> Result<String> {
        const ALPHABET: &[u8] = b"useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";
        let size = size.clamp(1, 255) as usize;
        let mut out = String::with_capacity(size);
        while out.len() < size {
            let r = random::<32>()?;
            for b in r {
                if out.len() == size {
                    break;
                }
                out.push(ALPHABET[(b & 63) as usize] as char);
            }
        }
        Ok(out)
    }

    /// ULID: 48-bit timestamp and 80 random bits in Crockford's base 32.
    pub fn ulid(&self) -> Result<String> {
        const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let r = random::<10>()?;
        let mut value: u128 = (self.now_ms.max(0) as u128 & 0xFFFF_FFFF_FFFF) << 80;
        for (i, b) in r.iter().enumerate() {
            value |= (*b as u128) << (72 - 8 * i);
        }
        let mut out = [0u8; 26];
        for i in (0..26).rev() {
            out[i] = CROCKFORD[(value & 31) as usize];
            value >>= 5;
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> i64 {
        1_700_000_000_000
    }

    #[test]
    fn generated_ids_have_their_formats() {
        let d = Defaults::new(Clock(fixed));
        let v4 = d.uuid(4).unwrap();
        assert_eq!(v4.len(), 36);
        assert_eq!(&v4[14..15], "4");
        let v7 = d.uuid(7).unwrap();
        assert_eq!(&v7[14..15], "7");
        assert!(v7.starts_with("018bcfe5-6800"), "{v7}");
        let c = d.cuid(1).unwrap();
        assert_eq!(c.len(), 25);
        assert!(c.starts_with(&format!("c{}", base36(1_700_000_000_000))), "{c}");
        assert!(c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit()));
        let c2 = d.cuid(2).unwrap();
        assert_eq!(c2.len(), 24);
        assert!(c2.chars().next().unwrap().is_ascii_lowercase());
        assert_eq!(d.nanoid(21).unwrap().len(), 21);
        let u = d.ulid().unwrap();
        assert_eq!(u.len(), 26);
        assert!(u.starts_with("01HF"), "{u}");
        assert_ne!(d.cuid(1).unwrap(), d.cuid(1).unwrap());
    }

    #[test]
    fn base36_of_bytes_matches_integers() {
        assert_eq!(bytes_base36(&[1, 0]), base36(256));
        assert_eq!(bytes_base36(&[0xff, 0xff, 0xff]), base36(0xff_ffff));
    }
}
