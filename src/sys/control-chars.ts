// Characters that must not pass into a terminal or a config file unescaped: C0, DEL, C1 and the
// Unicode line separators.

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
export const CONTROL_CHARS = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;
const EVERY_CONTROL_CHAR = new RegExp(CONTROL_CHARS.source, "g");

/**
 * TEXT with the CONTROL_CHARS but tab shown as \xHH (\uHHHH for the line separators): an error or a
 * note may quote an image's or a layer's words (an entrypoint, a file name), which must neither
 * reach a terminal as escape sequences nor break the one line in two.
 */
export function visible(text: string): string {
  return text.replace(EVERY_CONTROL_CHAR, (c) => {
    if (c === "\t") return c;
    const n = c.charCodeAt(0);
    return n > 0xff ? `\\u${n.toString(16).padStart(4, "0")}` : `\\x${n.toString(16).padStart(2, "0")}`;
  });
}
