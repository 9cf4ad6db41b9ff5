//! «اقرأ أيضاً»: related articles and near-duplicates.
//!
//! The core ([`index`], [`dupes`]) is pure and in memory. [`refresh`] and [`refresh_all`]
//! are the thin shell that reads articles from the store, keeps a per-database index in step
//! with the change log, and writes suggestions, duplicates and entities back (`store::related`).
//! [`follower`] runs them in the server for whatever was written by any path.

pub mod dupes;
mod engine;
pub mod follower;
pub mod index;
mod prepare;
mod stream;

pub use crate::store::related::{EditorAction, EntityRef, RelatedLink, Suggestion};
pub use engine::{refresh, refresh_all, refresh_all_prepared, refresh_many, set_memory_release_hook, STORED};
pub use index::{features, features_with, Doc, FeatureParams, Features, Params, RelatedIndex, Scored};
pub use prepare::{Analyser, Prepared};
pub use stream::set_scratch_dir;
