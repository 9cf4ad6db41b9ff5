use super::features::BIGRAM_JOIN;
use super::*;

fn doc(id: i64, title: &str, body: &str, entities: &[&str]) -> Doc {
    let f = features(title, body);
    Doc { id, terms: f.terms, signature: f.signature, entities: entities.iter().map(|e| e.to_string()).collect(), ..Doc::default() }
}

fn corpus() -> RelatedIndex {
    let mut index = RelatedIndex::new(Params::default());
    let docs = [
        ("ارتفاع أسعار النفط في الأسواق العالمية", "ارتفعت أسعار النفط اليوم مع تراجع المخزونات الأمريكية وزيادة الطلب على الخام في الأسواق"),
        ("النفط يواصل الصعود", "واصلت أسعار خام النفط صعودها في الأسواق بعد قرار أوبك خفض الإنتاج وتراجع المخزونات"),
        ("أوبك تبحث خفض إنتاج النفط", "تجتمع منظمة أوبك لبحث خفض إنتاج النفط لدعم الأسعار في الأسواق العالمية"),
        ("الفريق يفوز بالكأس", "فاز الفريق بالكأس بعد مباراة نهائية مثيرة سجل فيها المهاجم هدفين"),
        ("المنتخب يستعد للمباراة", "يستعد المنتخب لمباراة ودية قبل البطولة ويأمل المدرب في الفوز وتسجيل الأهداف"),
    ];
    for (i, (t, b)) in docs.iter().enumerate() {
        index.upsert(doc(i as i64 + 1, t, b, &[]));
    }
    index.reweight();
    index
}

#[test]
fn suggests_the_same_topic_and_never_itself() {
    let index = corpus();
    let rel = index.related(1, 2, &[]);
    let ids: Vec<i64> = rel.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&2) && ids.contains(&3), "{rel:?}");
    let rel = index.related(4, 1, &[]);
    assert_eq!(rel[0].id, 5);
    assert!(index.related(1, 10, &[]).iter().all(|s| s.id != 1));
}

#[test]
fn articles_added_one_by_one_find_each_other_before_any_reweight() {
    let mut index = RelatedIndex::new(Params::default());
    for (i, (t, b)) in corpus_docs().iter().enumerate() {
        index.upsert(doc(i as i64 + 1, t, b, &[]));
    }
    assert_eq!(index.related(2, 2, &[]).iter().map(|s| s.id).collect::<std::collections::BTreeSet<_>>(), [1, 3].into());
    assert_eq!(index.related(1, 2, &[]).iter().map(|s| s.id).collect::<std::collections::BTreeSet<_>>(), [2, 3].into());
}

#[test]
fn excluded_ids_are_skipped() {
    let index = corpus();
    // Precondition: without the exclusion, 2 is suggested (else the check below is empty).
    assert!(index.related(1, 5, &[]).iter().any(|s| s.id == 2));
    let excluded = index.related(1, 5, &[2]);
    assert!(!excluded.is_empty() && excluded.iter().all(|s| s.id != 2), "{excluded:?}");
}

#[test]
fn document_frequencies_follow_removals() {
    let mut index = corpus();
    let before = index.related(1, 3, &[]);
    index.remove(3);
    assert_eq!(index.len(), 4);
    assert!(index.related(1, 3, &[]).iter().all(|s| s.id != 3));
    let f = features("أوبك تبحث خفض إنتاج النفط", "تجتمع منظمة أوبك لبحث خفض إنتاج النفط لدعم الأسعار في الأسواق العالمية");
    index.upsert(Doc { id: 3, terms: f.terms, signature: f.signature, ..Doc::default() });
    index.reweight();
    let after = index.related(1, 3, &[]);
    assert_eq!(before.iter().map(|s| s.id).collect::<Vec<_>>(), after.iter().map(|s| s.id).collect::<Vec<_>>());
    for (a, b) in before.iter().zip(&after) {
        assert!((a.score - b.score).abs() < 1e-5);
    }
}

#[test]
fn near_duplicates_are_linked_to_the_first_copy_and_not_suggested() {
    let mut index = corpus();
    let body = "ارتفعت أسعار النفط اليوم مع تراجع المخزونات الأمريكية وزيادة الطلب على الخام في الأسواق";
    let dup = index.upsert(doc(10, "أسعار النفط ترتفع", &format!("لندن - {body}"), &[]));
    assert_eq!(dup, Some(1));
    assert_eq!(index.duplicate_of(10), Some(1));
    assert_eq!(index.duplicates(1), vec![10]);
    assert!(index.related(1, 5, &[]).iter().all(|s| s.id != 10));
    assert!(index.related(10, 5, &[]).iter().all(|s| s.id != 1));
    // A third article sees one copy of the story, not both.
    let rel: Vec<i64> = index.related(2, 5, &[]).iter().map(|s| s.id).collect();
    assert!(!(rel.contains(&1) && rel.contains(&10)), "{rel:?}");
}

#[test]
fn bigrams_join_adjacent_content_stems_only() {
    let p = FeatureParams { bigram_weight: 0.5, ..FeatureParams::default() };
    let f = features_with("", "أسعار النفط في الأسواق", &p);
    let pairs: Vec<&(String, f32)> = f.terms.iter().filter(|t| t.0.contains(BIGRAM_JOIN)).collect();
    // «في» is a stopword: «النفط في الأسواق» gives no pair.
    assert_eq!(pairs.len(), 1, "{:?}", f.terms);
    assert_eq!(pairs[0].1, 0.5);
    assert!(features("", "أسعار النفط في الأسواق").terms.iter().all(|t| !t.0.contains(BIGRAM_JOIN)));
}

#[test]
fn title_and_lead_words_weigh_more() {
    let p = FeatureParams { title_weight: 2.0, lead_words: 1, lead_weight: 1.5, ..FeatureParams::default() };
    let f = features_with("النفط", "الأسواق الذهب الذهب", &p);
    // Stems written out (النفط → نفط …), not computed by the analyser under test.
    let w = |stem: &str| f.terms.iter().find(|t| t.0 == stem).map(|t| t.1);
    assert_eq!(w("نفط"), Some(2.0));
    assert_eq!(w("اسواق"), Some(1.5));
    assert_eq!(w("ذهب"), Some(2.0));
}

#[test]
fn light_counts_keep_a_positive_weight() {
    assert!(tf_weight(0.3) > 0.0 && tf_weight(0.3) < tf_weight(1.0));
    assert_eq!(tf_weight(1.0), 1.0);
    assert!(tf_weight(4.0) < 4.0);
}

#[test]
fn rare_and_ubiquitous_terms_leave_the_vectors() {
    let mut index = RelatedIndex::new(Params { min_df: 2, max_df: 0.9, ..Params::default() });
    let docs = corpus_docs();
    for (i, (t, b)) in docs.iter().enumerate() {
        index.upsert(doc(i as i64 + 1, t, b, &[]));
    }
    index.reweight();
    let n = index.len() as f32;
    for slot in index.slots.iter().flatten() {
        for &(t, _) in &slot.vec {
            let df = index.df[t as usize];
            assert!(df >= 2 && df as f32 <= 0.9 * n, "term with df {df} kept");
        }
    }
    // Still enough left to relate the oil stories.
    assert!(index.related(1, 2, &[]).iter().any(|s| s.id == 2 || s.id == 3));
}

#[test]
fn bm25_saturates_repeated_terms() {
    let mut index = RelatedIndex::new(Params { bm25_k1: 1.2, bm25_b: 0.0, ..Params::default() });
    index.upsert(Doc { id: 1, terms: vec![("a".into(), 1.0), ("b".into(), 20.0)], ..Doc::default() });
    index.upsert(Doc { id: 2, terms: vec![("a".into(), 1.0), ("b".into(), 1.0)], ..Doc::default() });
    index.reweight();
    let v = &index.slot(1).expect("doc").vec;
    // Same idf for a and b: a count of 20 weighs less than (k1 + 1) times a count of 1.
    assert!(v[1].1 / v[0].1 < 2.2, "{v:?}");
}

#[test]
fn concepts_group_articles_of_one_topic() {
    let params = Params { concepts: 2, concept_weight: 0.5, ..Params::default() };
    let mut index = RelatedIndex::new(params);
    let oil = ["النفط الأسعار الخام أوبك", "الخام النفط البرميل الأسواق", "أوبك الإنتاج النفط البرميل", "الأسعار البرميل الخام الإنتاج"];
    let sport = ["المباراة الفريق الهدف المدرب", "الفريق الدوري المباراة اللاعب", "الهدف اللاعب المدرب الملعب", "الدوري الملعب الفريق الهدف"];
    let mut id = 0;
    for _ in 0..2 {
        for text in oil.iter().chain(&sport) {
            id += 1;
            index.upsert(doc(id, "", text, &[]));
        }
    }
    index.reweight();
    assert_eq!(index.concepts.0[0].k, 2);
    let profile = |index: &RelatedIndex, id: i64| index.slot(id).expect("doc").concept.clone();
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    // Docs 1 and 4 share one word, 1 and 5 none; their topics still show in the profiles.
    let (p1, p4, p5) = (profile(&index, 1), profile(&index, 4), profile(&index, 5));
    assert!(cos(&p1, &p4) > 0.9, "{p1:?} {p4:?}");
    assert!(cos(&p1, &p5) < 0.5, "{p1:?} {p5:?}");
    // An article added later is placed with the existing concepts.
    index.upsert(doc(100, "", "النفط البرميل أوبك", &[]));
    assert!(cos(&profile(&index, 100), &profile(&index, 2)) > 0.9);
}

#[test]
fn contextual_reranking_prefers_candidates_with_the_same_neighbourhood() {
    let sc = |id: i64, score: f32| Scored { id, score };
    let mut lists: FxHashMap<i64, Vec<Scored>> = FxHashMap::default();
    // 2 and 3 score the same for 1, but 3 shares 1's neighbours (4, 5) and suggests it back.
    lists.insert(1, vec![sc(2, 0.5), sc(3, 0.5), sc(4, 0.4), sc(5, 0.4)]);
    lists.insert(2, vec![sc(9, 0.6), sc(8, 0.5)]);
    lists.insert(3, vec![sc(1, 0.5), sc(4, 0.5), sc(5, 0.4)]);
    let top = rerank_contextual(&lists, 1, 2, 1.0, 10);
    assert_eq!(top[0].id, 3, "{top:?}");
    assert!(top.iter().all(|s| s.id != 1));
    assert_eq!(rerank_shared_neighbours(&lists, 1, 1, 1.0)[0].id, 3);
}

#[test]
fn document_expansion_borrows_neighbours_words() {
    let mut index = RelatedIndex::new(Params { expand_docs: 1, expand_weight: 1.0, ..Params::default() });
    for (i, (t, b)) in corpus_docs().iter().enumerate() {
        index.upsert(doc(i as i64 + 1, t, b, &[]));
    }
    index.reweight();
    let a = index.slot(1).expect("doc");
    assert!(!a.xvec.is_empty());
    let own: Vec<u32> = a.vec.iter().map(|e| e.0).collect();
    assert!(a.xvec.iter().any(|e| !own.contains(&e.0)), "expanded vector has words of its neighbour");
    assert!((a.xvec.iter().map(|e| e.1 * e.1).sum::<f32>() - 1.0).abs() < 1e-4);
}

fn corpus_docs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ارتفاع أسعار النفط في الأسواق العالمية", "ارتفعت أسعار النفط اليوم مع تراجع المخزونات الأمريكية وزيادة الطلب على الخام في الأسواق"),
        ("النفط يواصل الصعود", "واصلت أسعار خام النفط صعودها في الأسواق بعد قرار أوبك خفض الإنتاج وتراجع المخزونات"),
        ("أوبك تبحث خفض إنتاج النفط", "تجتمع منظمة أوبك لبحث خفض إنتاج النفط لدعم الأسعار في الأسواق العالمية"),
        ("الفريق يفوز بالكأس", "فاز الفريق بالكأس بعد مباراة نهائية مثيرة سجل فيها المهاجم هدفين"),
        ("المنتخب يستعد للمباراة", "يستعد المنتخب لمباراة ودية قبل البطولة ويأمل المدرب في الفوز وتسجيل الأهداف"),
    ]
}

#[test]
fn shared_entities_raise_the_score() {
    let mut index = RelatedIndex::new(Params::default());
    index.upsert(doc(1, "زيارة رسمية", "بدأ الرئيس زيارة رسمية تستمر ثلاثة أيام", &["موسكو"]));
    index.upsert(doc(2, "زيارة رسمية أخرى", "بدأ الوزير زيارة رسمية تستمر يومين", &["موسكو"]));
    index.upsert(doc(3, "زيارة رسمية ثالثة", "بدأ الوفد زيارة رسمية تستمر أسبوعا", &["باريس"]));
    let rel = index.related(1, 2, &[]);
    assert_eq!(rel[0].id, 2, "{rel:?}");
}

/// A query reads only the strongest [`Params::posting_depth`] entries of each term's postings
/// (what keeps the whole-archive pass linear in the archive): the lists stay sorted by weight
/// through insertions in any order, removals and a reweight.
#[test]
fn a_query_reads_only_the_strongest_postings_of_each_term() {
    // "x" is the query's only term; the more other terms an article has, the weaker its "x".
    let bare = |id: i64, others: &[&str]| Doc {
        id,
        terms: std::iter::once(("x".to_string(), 1.0)).chain(others.iter().map(|t| (t.to_string(), 1.0))).collect(),
        ..Doc::default()
    };
    let build = |depth: usize| {
        let mut index = RelatedIndex::new(Params { posting_depth: depth, ..Params::default() });
        // Weakest first, so appending would put them at the head of the list.
        for d in [bare(1, &[]), bare(4, &["a", "b", "c"]), bare(3, &["a"]), bare(2, &[])] {
            index.upsert(d);
        }
        index
    };
    let ids = |index: &RelatedIndex| index.related(1, 5, &[]).iter().map(|s| s.id).collect::<Vec<_>>();
    let mut whole = build(0);
    assert_eq!(ids(&whole), [2, 3, 4], "every list read whole");
    let mut head = build(2);
    assert_eq!(ids(&head), [2], "the two strongest entries of x: article 1 itself and 2");
    head.reweight();
    whole.reweight();
    assert_eq!((ids(&head), ids(&whole)), (vec![2], vec![2, 3, 4]), "after a reweight");
    head.remove(2);
    assert_eq!(ids(&head), [3], "after a removal the next strongest moves up");
}
