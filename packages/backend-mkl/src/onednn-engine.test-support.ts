// Imported first by tests that compare jit's fused products with eager ones bit for bit: the
// fused post-op path always multiplies through oneDNN, while eager float32 products go to
// whichever engine (OpenBLAS or oneDNN) timed faster for the shape, and the two sum in different
// orders. kernels/dot.ts reads the variable once, when it is first imported, so this module must
// be evaluated before the backend's.
process.env.FLINT_MKL_MATMUL = 'onednn';
