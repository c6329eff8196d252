// Characters that must not pass into a terminal or a config file unescaped: C0, DEL, C1 and the
// Unicode line separators.

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
export const CONTROL_CHARS = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;
