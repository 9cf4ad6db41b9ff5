//! Latent concepts: spherical k-means over the articles' unit TF-IDF vectors, and each
//! article's profile over the centroids found.

use super::parallel_map;
use super::vectors::dot;

/// Centroids of the latent concepts, term-major: row `rows[term]` holds that term's weight in
/// each of the `k` centroids. Terms no centroid uses have no row.
#[derive(Default)]
pub(super) struct Concepts {
    pub(super) k: usize,
    pub(super) rows: Vec<u32>,
    pub(super) centroids: Vec<f32>,
}

pub(super) const NO_ROW: u32 = u32::MAX;

impl Concepts {
    /// Cosine of a unit vector with every centroid.
    pub(super) fn project(&self, vec: &[(u32, f32)], out: &mut [f32]) {
        out.fill(0.0);
        for &(t, w) in vec {
            let Some(&row) = self.rows.get(t as usize) else { continue };
            if row == NO_ROW {
                continue;
            }
            let c = &self.centroids[row as usize * self.k..(row as usize + 1) * self.k];
            for (o, &x) in out.iter_mut().zip(c) {
                *o += w * x;
            }
        }
    }

    /// The article's concept profile: centroid cosines, sharpened, unit length.
    pub(super) fn profile(&self, vec: &[(u32, f32)], sharpen: f32) -> Vec<f32> {
        if self.k == 0 {
            return Vec::new();
        }
        let mut p = vec![0.0f32; self.k];
        self.project(vec, &mut p);
        for x in p.iter_mut() {
            *x = x.max(0.0).powf(sharpen);
        }
        let n = p.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n > 0.0 {
            p.iter_mut().for_each(|x| *x /= n);
        }
        p
    }
}

/// splitmix64, for deterministic seeding of the clustering.
pub(super) fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Spherical k-means (k-means++ seeding, deterministic) over unit sparse vectors sorted by
/// term id. Returns the centroids, term-major over `n_terms` term ids.
pub(super) fn spherical_kmeans(docs: &[&[(u32, f32)]], n_terms: usize, k: usize, iterations: usize, seed: u64) -> Concepts {
    let k = k.min(docs.len());
    if k == 0 {
        return Concepts::default();
    }
    let mut rows = vec![NO_ROW; n_terms];
    let mut n_rows = 0u32;
    for d in docs {
        for &(t, _) in d.iter() {
            if rows[t as usize] == NO_ROW {
                rows[t as usize] = n_rows;
                n_rows += 1;
            }
        }
    }
    // k-means++: each next seed drawn with probability proportional to its distance
    // (1 − cosine) from the nearest seed so far.
    let mut rng = 0x5eed_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut dist: Vec<f32> = vec![1.0; docs.len()];
    let mut seeds: Vec<usize> = vec![(next_random(&mut rng) % docs.len() as u64) as usize];
    while seeds.len() < k {
        let last = docs[*seeds.last().expect("a seed")];
        let near = parallel_map(docs, |doc| dot(doc, last));
        for (d, cos) in dist.iter_mut().zip(near) {
            *d = d.min(1.0 - cos).max(0.0);
        }
        let total: f64 = dist.iter().map(|&d| f64::from(d)).sum();
        if total <= 0.0 {
            break;
        }
        let mut r = (next_random(&mut rng) >> 11) as f64 / (1u64 << 53) as f64 * total;
        let mut pick = docs.len() - 1;
        for (i, &d) in dist.iter().enumerate() {
            r -= f64::from(d);
            if r <= 0.0 {
                pick = i;
                break;
            }
        }
        seeds.push(pick);
    }
    let k = seeds.len();
    let mut c = Concepts { k, rows, centroids: vec![0.0; n_rows as usize * k] };
    for (j, &s) in seeds.iter().enumerate() {
        for &(t, w) in docs[s] {
            c.centroids[c.rows[t as usize] as usize * k + j] = w;
        }
    }
    let mut assign = vec![usize::MAX; docs.len()];
    for _ in 0..iterations {
        let mut moved = 0usize;
        let nearest = parallel_map(docs, |doc| {
            let mut scores = vec![0.0f32; k];
            c.project(doc, &mut scores);
            scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |b| b.0)
        });
        for (a, best) in assign.iter_mut().zip(nearest) {
            if *a != best {
                moved += 1;
                *a = best;
            }
        }
        if moved == 0 {
            break;
        }
        let mut next = vec![0.0f32; c.centroids.len()];
        let mut members = vec![0usize; k];
        for (doc, &j) in docs.iter().zip(&assign) {
            members[j] += 1;
            for &(t, w) in doc.iter() {
                next[c.rows[t as usize] as usize * k + j] += w;
            }
        }
        let mut norms = vec![0.0f32; k];
        for row in next.chunks(k) {
            for (n, &x) in norms.iter_mut().zip(row) {
                *n += x * x;
            }
        }
        for row in next.chunks_mut(k) {
            for (j, x) in row.iter_mut().enumerate() {
                if norms[j] > 0.0 {
                    *x /= norms[j].sqrt();
                }
            }
        }
        // A cluster left empty keeps its old centroid.
        for (j, &m) in members.iter().enumerate() {
            if m == 0 {
                for (row, old) in next.chunks_mut(k).zip(c.centroids.chunks(k)) {
                    row[j] = old[j];
                }
            }
        }
        c.centroids = next;
    }
    c
}
