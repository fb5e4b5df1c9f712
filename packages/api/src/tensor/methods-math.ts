// Tensor methods for this group's ops are installed here (see methods-elementwise.ts for the pattern).
export {};
