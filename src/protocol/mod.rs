//! Wire protocols and request signing, one module per provider.
