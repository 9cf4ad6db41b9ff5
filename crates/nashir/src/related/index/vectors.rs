//! Sparse vectors: (term id, weight) pairs sorted by term id, their weighting, length and
//! dot product.

/// Sublinear tf; counts below one (bigrams, light weights) stay linear so weights stay positive.
#[inline]
pub(super) fn tf_weight(count: f32) -> f32 {
    if count >= 1.0 {
        1.0 + count.ln()
    } else {
        count
    }
}

pub(super) fn normalize(v: &mut [(u32, f32)]) {
    let n = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
    if n > 0.0 {
        for x in v.iter_mut() {
            x.1 /= n;
        }
    }
}

/// Dot product of two vectors sorted by term id.
pub(super) fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut s) = (0, 0, 0.0f32);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                s += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    s
}
