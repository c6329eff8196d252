// The least a compiled Bun program does: start, print nothing, end.
export {};
