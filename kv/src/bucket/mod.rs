//! Bucket types and bucket properties.
