/**
 * Escaping user text (run names, metric keys, titles) for XML/SVG. Besides the five markup
 * characters, code points XML 1.0 forbids outright (C0 controls other than tab/LF/CR, U+FFFE,
 * U+FFFF, unpaired surrogates) are replaced with U+FFFD: escaping cannot make them legal, and a
 * single one would make the whole document unparsable.
 */

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;"
}

const FORBIDDEN =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Text safe inside both element content and double- or single-quoted attribute values. */
export const escapeXml = (text: string): string =>
  text.replace(FORBIDDEN, "\uFFFD").replace(/[&<>"']/g, (c) => ENTITIES[c])
