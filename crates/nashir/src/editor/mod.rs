//! The newsroom's editor: accounts and roles, scheduled publishing, uploaded images.

pub mod accounts;
pub mod imaging;
pub mod media;
pub mod scheduler;
