//! Shared by the integration tests.
#![allow(dead_code)]

pub(crate) mod cluster;
