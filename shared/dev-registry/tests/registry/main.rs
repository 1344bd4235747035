//! Integration tests: a real registry on 127.0.0.1:0, real HTTP, no mocks.

mod api;
mod auth;
mod compatibility;
mod converter;
mod persistence;
mod support;
