/**
 * A kernel file whose text does not have the shape its parser expects.
 *
 * Parsers throw it instead of guessing, so a reader can report the file as malformed
 * (with `format` naming which kernel interface it was) rather than emit wrong numbers.
 *
 * @example
 * throw new ParseError("/proc/loadavg", "expected 5 fields, got 3");
 */
export class ParseError extends Error {
  override readonly name = "ParseError";

  constructor(
    readonly format: string,
    readonly reason: string,
  ) {
    super(`${format}: ${reason}`);
  }
}
