//! list cases.

use crate::case::*;

pub fn cases() -> Vec<Case> {
    vec![]
}
