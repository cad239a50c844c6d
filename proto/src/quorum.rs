//! Quorum values as they travel in `uint32` fields (r, w, pr, pw, dw, rw).
//!
//! Riak encodes the symbolic quorums as magic numbers at the top of the
//! `u32` range; an absent field means "use the bucket's setting". Resolving
//! a quorum against n_val is left to the KV layer.

/// `one`: a single replica.
pub const ONE: u32 = 4_294_967_294;
/// `quorum`: a majority of n_val.
pub const QUORUM: u32 = 4_294_967_293;
/// `all`: every replica.
pub const ALL: u32 = 4_294_967_292;
/// `default`: the bucket's configured value.
pub const DEFAULT: u32 = 4_294_967_291;

/// A decoded quorum field value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quorum {
    One,
    Quorum,
    All,
    Default,
    /// An explicit replica count.
    N(u32),
}

impl Quorum {
    /// Interprets a wire value; any non-magic number is an explicit count.
    pub const fn from_wire(value: u32) -> Quorum {
        match value {
            ONE => Quorum::One,
            QUORUM => Quorum::Quorum,
            ALL => Quorum::All,
            DEFAULT => Quorum::Default,
            n => Quorum::N(n),
        }
    }

    /// The value to put on the wire.
    pub const fn to_wire(self) -> u32 {
        match self {
            Quorum::One => ONE,
            Quorum::Quorum => QUORUM,
            Quorum::All => ALL,
            Quorum::Default => DEFAULT,
            Quorum::N(n) => n,
        }
    }
}

impl From<u32> for Quorum {
    fn from(value: u32) -> Quorum {
        Quorum::from_wire(value)
    }
}

impl From<Quorum> for u32 {
    fn from(q: Quorum) -> u32 {
        q.to_wire()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_values_match_riak() {
        assert_eq!(ONE, 0xFFFF_FFFE);
        assert_eq!(QUORUM, 0xFFFF_FFFD);
        assert_eq!(ALL, 0xFFFF_FFFC);
        assert_eq!(DEFAULT, 0xFFFF_FFFB);
    }

    #[test]
    fn wire_round_trip() {
        for q in [
            Quorum::One,
            Quorum::Quorum,
            Quorum::All,
            Quorum::Default,
            Quorum::N(0),
            Quorum::N(3),
            Quorum::N(u32::MAX),
        ] {
            assert_eq!(Quorum::from_wire(q.to_wire()), q);
        }
        assert_eq!(Quorum::from(2u32), Quorum::N(2));
        assert_eq!(u32::from(Quorum::One), 4_294_967_294);
    }
}
