//! Hash maps and sets for keys that are already uniform hashes (xxh3 keys of identities, md5
//! digests of payloads): the hasher keeps 64 of their bits instead of hashing them again.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// A hasher for keys that are already uniform 128-bit hashes: it keeps 64 of their bits.
#[derive(Default, Clone, Copy)]
pub struct UniformHasher(u64);

impl Hasher for UniformHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 ^= n as u64;
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = self.0.rotate_left(17) ^ n as u64;
    }
}

pub type UniformBuild = BuildHasherDefault<UniformHasher>;
pub type UniformMap<K, V> = HashMap<K, V, UniformBuild>;
pub type UniformSet<K> = HashSet<K, UniformBuild>;
