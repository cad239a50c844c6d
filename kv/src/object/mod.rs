//! Riak objects, siblings and dotted version vectors.
