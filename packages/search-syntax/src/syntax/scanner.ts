/**
 * A character-level scanner shared by the filter and order_by parsers. The parsers are
 * recursive descent and ask the scanner for the token they expect next, which keeps the
 * context-sensitive bits simple (after `metrics.` a key may start with a digit, `NOT` is a
 * prefix operator at the start of an expression but part of `NOT IN` after an identifier).
 *
 * Failures are thrown as `SyntaxFailure` and turned into tagged errors at the parser's edge.
 */

/** Internal: a syntax error at a 0-based position; `detail` is the text after "position <n>: ". */
export class SyntaxFailure {
  readonly position: number
  readonly detail: string
  constructor(position: number, detail: string) {
    this.position = position
    this.detail = detail
  }
}

const isWordStart = (c: string): boolean => /^[A-Za-z_]$/.test(c)
export const isWordChar = (c: string): boolean => /^[A-Za-z0-9_]$/.test(c)
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y

export class Scanner {
  readonly input: string
  pos = 0

  constructor(input: string) {
    this.input = input
  }

  fail(position: number, detail: string): never {
    throw new SyntaxFailure(position, detail)
  }

  skipWhitespace(): void {
    while (this.pos < this.input.length && /\s/.test(this.input[this.pos])) this.pos++
  }

  /** True when only whitespace is left (and skips it). */
  atEnd(): boolean {
    this.skipWhitespace()
    return this.pos >= this.input.length
  }

  peek(offset = 0): string {
    return this.input.charAt(this.pos + offset)
  }

  /** Consumes `text` (after whitespace) if it is next. */
  tryText(text: string): boolean {
    this.skipWhitespace()
    if (this.input.startsWith(text, this.pos)) {
      this.pos += text.length
      return true
    }
    return false
  }

  /** Whether the case-insensitive keyword `word` is next, as a whole word. */
  peekKeyword(word: string): boolean {
    this.skipWhitespace()
    const end = this.pos + word.length
    return this.input.slice(this.pos, end).toUpperCase() === word && !isWordChar(this.input.charAt(end))
  }

  /** Consumes the case-insensitive keyword `word` if it is next. */
  tryKeyword(word: string): boolean {
    if (!this.peekKeyword(word)) return false
    this.pos += word.length
    return true
  }

  /** Reads `[A-Za-z_][A-Za-z0-9_]*` at the current position, or returns undefined. */
  readWord(): string | undefined {
    if (!isWordStart(this.peek())) return undefined
    const start = this.pos
    while (isWordChar(this.peek())) this.pos++
    return this.input.slice(start, this.pos)
  }

  /**
   * Reads a quoted text whose opening quote (', " or `) is at the current position.
   * A doubled quote inside stands for one quote character (SQL style): 'it''s'.
   */
  readQuoted(what: string): string {
    const start = this.pos
    const quote = this.input[start]
    let out = ""
    let i = start + 1
    for (;;) {
      const j = this.input.indexOf(quote, i)
      if (j < 0) {
        this.fail(start, `expected a closing ${quote} for the ${what} starting here, found end of input`)
      }
      out += this.input.slice(i, j)
      if (this.input[j + 1] === quote) {
        out += quote
        i = j + 2
      } else {
        this.pos = j + 1
        return out
      }
    }
  }

  /** Reads a number literal (`-1`, `0.5`, `.5`, `1e-3`, `2E+10`) or returns undefined. */
  readNumber(): number | undefined {
    NUMBER.lastIndex = this.pos
    const m = NUMBER.exec(this.input)
    if (m === null) return undefined
    const end = this.pos + m[0].length
    const next = this.input.charAt(end)
    if (isWordChar(next) || next === ".") {
      this.fail(this.pos, `expected a number, found ${this.describeAt(this.pos)}`)
    }
    const value = Number(m[0])
    if (!Number.isFinite(value)) this.fail(this.pos, `number ${m[0]} is out of range`)
    this.pos = end
    // -0 is kept as written; it compares equal to 0 everywhere.
    return value
  }

  /** A short quoted rendering of the token at `position` (after whitespace), for "found …". */
  describeAt(position: number): string {
    let p = position
    while (p < this.input.length && /\s/.test(this.input[p])) p++
    if (p >= this.input.length) return "end of input"
    const c = this.input[p]
    let end = p + 1
    if (c === "'" || c === "\"" || c === "`") {
      for (;;) {
        const j = this.input.indexOf(c, end)
        if (j < 0) {
          end = this.input.length
          break
        }
        if (this.input[j + 1] === c) end = j + 2
        else {
          end = j + 1
          break
        }
      }
    } else if (isWordChar(c) || (c === "-" && /[0-9.]/.test(this.input.charAt(p + 1)))) {
      while (end < this.input.length && /[A-Za-z0-9_.]/.test(this.input[end])) end++
    } else if (/[=!<>]/.test(c)) {
      while (end < this.input.length && /[=!<>]/.test(this.input[end])) end++
    } else {
      const cp = this.input.codePointAt(p) ?? 0
      end = p + (cp > 0xffff ? 2 : 1)
    }
    let lexeme = this.input.slice(p, end)
    if (lexeme.length > 40) lexeme = `${lexeme.slice(0, 40)}…`
    return quoteForMessage(lexeme)
  }
}

/** Wraps a snippet in quotes for an error message, preferring single quotes. */
export const quoteForMessage = (text: string): string =>
  text.includes("'") && !text.includes("\"") ? `"${text}"` : `'${text}'`
