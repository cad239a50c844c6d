//! LEB128 varints (seven bits a byte, low bits first, high bit set on all
//! but the last), read strictly: the canonical spelling only, so every value
//! has exactly one encoding. Used by the causal context encodings.

pub fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads one varint off the front of `input`; the error says why not.
pub fn get(input: &mut &[u8]) -> Result<u64, &'static str> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some((&b, rest)) = input.split_first() else {
            return Err("truncated");
        };
        *input = rest;
        let bits = u64::from(b & 0x7f);
        // The tenth byte may only hold the top bit of a u64, and a final zero
        // byte would make a second spelling of a shorter number.
        if i == 9 && bits > 1 {
            return Err("varint overflow");
        }
        v |= bits << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err("non-canonical varint");
            }
            return Ok(v);
        }
    }
    Err("varint too long")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_odd_spellings() {
        for v in [0, 1, 127, 128, 300, u64::MAX] {
            let mut b = Vec::new();
            put(&mut b, v);
            let mut s = b.as_slice();
            assert_eq!(get(&mut s), Ok(v));
            assert!(s.is_empty());
        }
        assert_eq!(get(&mut &[0x80, 0x00][..]), Err("non-canonical varint"));
        assert_eq!(get(&mut &[0x80][..]), Err("truncated"));
        assert_eq!(get(&mut &[0xff; 10][..]), Err("varint overflow"));
    }
}
