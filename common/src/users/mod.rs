//! Component: users. Registration with a case-insensitively unique email.

pub mod store;
