//! Users, their role profiles and passwords.

mod input;

pub use input::{check_username, new_password, ProfileInput};
