//! Black-box tests of the simulator (next commit).
