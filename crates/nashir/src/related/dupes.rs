//! Near-duplicate detection: word 5-gram shingles over normalized tokens, MinHash signatures
//! and LSH banding. The same wire story run by several outlets differs in a headline, a
//! dateline or a closing line; its shingle sets still overlap far more than any two stories.

/// Words per shingle. Five keeps shared phrases («قال وزير الخارجية الروسي») from making two
/// different stories look alike, while a few edited sentences still leave most shingles equal.
pub const SHINGLE_WORDS: usize = 5;
/// Signature length = BANDS × ROWS. 16 bands of 4 rows put the LSH threshold near
/// (1/16)^(1/4) ≈ 0.5: pairs far below that are rarely even compared.
pub const BANDS: usize = 16;
pub const ROWS: usize = 4;
pub const SIGNATURE_LEN: usize = BANDS * ROWS;

pub type Signature = [u32; SIGNATURE_LEN];

#[inline]
fn mix64(mut x: u64) -> u64 {
    // splitmix64 finaliser: a cheap, well-distributed permutation of u64.
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// FNV-1a: stable across runs and platforms (signatures may be compared across processes).
#[inline]
fn word_hash(word: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in word.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Hashes of the word 5-grams of `words` (normalized tokens, stopwords included: they are
/// part of the wording). A text shorter than a shingle is one shingle.
pub fn shingles<'a>(words: impl IntoIterator<Item = &'a str>) -> Vec<u64> {
    let hashes: Vec<u64> = words.into_iter().map(word_hash).collect();
    if hashes.is_empty() {
        return Vec::new();
    }
    let n = SHINGLE_WORDS.min(hashes.len());
    let mut out: Vec<u64> = hashes.windows(n).map(|w| w.iter().fold(0u64, |acc, &h| mix64(acc.rotate_left(17) ^ h))).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// MinHash signature of a shingle set: for each of the hash functions, the minimum.
/// `None` for an empty text, which is a duplicate of nothing.
pub fn signature(shingles: &[u64]) -> Option<Signature> {
    if shingles.is_empty() {
        return None;
    }
    let mut sig = [u32::MAX; SIGNATURE_LEN];
    for &s in shingles {
        for (i, slot) in sig.iter_mut().enumerate() {
            let h = (mix64(s ^ SEEDS[i]) >> 32) as u32;
            if h < *slot {
                *slot = h;
            }
        }
    }
    Some(sig)
}

/// Estimated Jaccard similarity of the two shingle sets.
pub fn similarity(a: &Signature, b: &Signature) -> f32 {
    let equal = a.iter().zip(b.iter()).filter(|(x, y)| x == y).count();
    equal as f32 / SIGNATURE_LEN as f32
}

/// The LSH bucket key of each band: signatures sharing any key are candidate duplicates.
pub fn band_keys(sig: &Signature) -> impl Iterator<Item = (u8, u64)> + '_ {
    sig.chunks(ROWS).enumerate().map(|(band, rows)| (band as u8, rows.iter().fold(band as u64, |acc, &r| mix64(acc ^ u64::from(r)))))
}

const SEEDS: [u64; SIGNATURE_LEN] = {
    let mut seeds = [0u64; SIGNATURE_LEN];
    let mut i = 0;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while i < SIGNATURE_LEN {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        seeds[i] = z ^ (z >> 31);
        i += 1;
    }
    seeds
};

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(text: &str) -> Signature {
        let toks = arabic::tokenize(text);
        signature(&shingles(toks.iter().map(|t| t.text.as_str()))).unwrap()
    }

    #[test]
    fn near_copies_score_high_and_different_texts_low() {
        let a = "أعلنت وزارة الصحة اليوم تسجيل عشرين إصابة جديدة في العاصمة وقالت إن الوضع تحت السيطرة وإن المستشفيات مستعدة لاستقبال المرضى في الأيام المقبلة";
        let b = "دمشق - أعلنت وزارة الصحة اليوم تسجيل عشرين إصابة جديدة في العاصمة وقالت إن الوضع تحت السيطرة وإن المستشفيات مستعدة لاستقبال المرضى في الأيام المقبلة";
        let c = "فاز الفريق المحلي على ضيفه بثلاثة أهداف مقابل هدف في المباراة التي أقيمت مساء أمس على الملعب البلدي وسط حضور جماهيري كبير";
        assert!(similarity(&sig(a), &sig(b)) > 0.7, "{}", similarity(&sig(a), &sig(b)));
        assert!(similarity(&sig(a), &sig(c)) < 0.1);
    }

    #[test]
    fn spelling_variants_do_not_hide_a_copy() {
        let a = "قال الرئيس التركي رجب طيب أردوغان إن العلاقات مع روسيا جيدة وإن بلاده تعمل على تطويرها في جميع المجالات";
        let b = "قال الرئيس التركي رجب طيب إردوغان إن العلاقات مع روسيا جيدة وإن بلاده تعمل على تطويرها في جميع المجالات";
        assert_eq!(similarity(&sig(a), &sig(b)), 1.0);
    }
}
