//! The newsroom's editor: accounts and roles, uploaded images.

pub mod accounts;
pub mod imaging;
pub mod media;
