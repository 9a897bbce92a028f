//! Word bits: a 256-bit summary of a row's words that an index can carry, so that a search
//! reading its query's order can skip most rows without reading them (see the schema's docs).
//!
//! A row's bits are those of its words' first three and first four characters (a word of
//! three characters gives those of itself, shorter words none). A query's bits are made the same way
//! from its search terms, and a row can only match when it has every one of them:
//! - a term of four or more characters matches words that begin with it, and so with its first
//!   three and first four characters, which set the row's bits of those prefixes;
//! - a term of three characters matches words that begin with it, whose first three characters
//!   set the same bits;
//! - a term of one or two characters sets no bit (it begins too many words to tell rows apart).
//!
//! So a row without some bit of the query is certainly not a match; a row with them all may be
//! one (prefixes share bits), and is checked against its words.
//!
//! Each prefix sets two bits: its UTF-8 bytes hashed by 64-bit FNV-1a, mixed by the SplitMix64
//! finaliser, whose lowest two bytes are the bits. Two, because the words every row of a desk
//! shares (a form's boilerplate) set a good share of the bits in every row, and a query word
//! whose bits all fall among them passes every row: against the benchmark desk's boilerplate,
//! one random six-letter word in 60 did with one bit a prefix, one in 350 with two. The bits
//! are stored in the database, so this function must never change; the tests pin it.

/// How many 64-bit parts the bits are stored in.
pub(crate) const PARTS: usize = 4;

/// The bits of `terms` (a row's [`desk::contract::row_terms`] or a query's
/// [`desk::contract::search_terms`]), as the `words_0` … `words_3` columns hold them.
pub(crate) fn word_bits<S: AsRef<str>>(terms: &[S]) -> [i64; PARTS] {
    let mut parts = [0u64; PARTS];
    for term in terms {
        let term = term.as_ref();
        let ends = term.char_indices().map(|(at, _)| at).chain([term.len()]).skip(3);
        for end in ends.take(2) {
            for bit in prefix_bits(&term[..end]) {
                parts[bit / 64] |= 1 << (bit % 64);
            }
        }
    }
    parts.map(|part| part.cast_signed())
}

/// The two bits, below 256, that `prefix` sets (they may be the same).
fn prefix_bits(prefix: &str) -> [usize; 2] {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in prefix.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash ^= hash >> 30;
    hash = hash.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash ^= hash >> 27;
    hash = hash.wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    [(hash & 0xff) as usize, (hash >> 8 & 0xff) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits_of(parts: [i64; PARTS]) -> Vec<usize> {
        (0..256).filter(|bit| parts[bit / 64].cast_unsigned() >> (bit % 64) & 1 == 1).collect()
    }

    #[test]
    fn a_word_sets_the_bits_of_its_first_three_and_four_characters() {
        // Pinned: the bits are stored, so changing them would miss rows written before.
        assert_eq!([prefix_bits("pri"), prefix_bits("prin")], [PRI, PRIN]);
        assert_eq!(bits_of(word_bits(&["printer"])), sorted(&[PRI, PRIN]));
        assert_eq!(word_bits(&["print"]), word_bits(&["printer"]));
        assert_eq!(bits_of(word_bits(&["pri"])), sorted(&[PRI]));
        assert_eq!(word_bits(&["pr", "p", ""]), [0; PARTS]);
        // Characters, not bytes: "siân" is four characters in five bytes.
        assert_eq!([prefix_bits("siâ"), prefix_bits("siân")], [SIA, SIAN]);
        assert_eq!(bits_of(word_bits(&["siân", "siânx"])), sorted(&[SIA, SIAN]));
        assert_eq!(bits_of(word_bits(&["printer", "siân"])), sorted(&[PRI, PRIN, SIA, SIAN]));
    }

    const PRI: [usize; 2] = [172, 78];
    const PRIN: [usize; 2] = [123, 70];
    const SIA: [usize; 2] = [155, 133];
    const SIAN: [usize; 2] = [182, 249];

    fn sorted(bits: &[[usize; 2]]) -> Vec<usize> {
        let mut bits = bits.concat();
        bits.sort_unstable();
        bits.dedup();
        bits
    }

    proptest! {
        /// A row that matches a query has every bit of the query.
        #[test]
        fn a_matching_row_has_every_bit_of_the_query(
            words in prop::collection::vec("[a-zâé0-9]{1,9}", 1..12),
            picks in prop::collection::vec((any::<prop::sample::Index>(), 1usize..10), 1..5),
        ) {
            let terms: Vec<String> = picks
                .iter()
                .map(|(index, take)| index.get(&words).chars().take(*take).collect())
                .collect();
            let row = word_bits(&words);
            let query = word_bits(&terms);
            for (row, query) in row.iter().zip(query) {
                prop_assert_eq!(row & query, query);
            }
        }
    }
}
