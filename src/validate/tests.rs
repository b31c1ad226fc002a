//! Validator unit tests on small inline specs, independent of the shipped ones.
