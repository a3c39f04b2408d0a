//! Core tests of the `retell.*` methods against `FakeRetell`.
