/**
 * Errors the user caused and can fix (bad sizes, a malformed file, NaN weights). The UI shows
 * their message as is and keeps the previous state; anything else is reported as a bug.
 */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

const BAD_INPUT_NAMES = new Set(['BadInputError', 'ModelFileError', 'SafetensorsError', 'IdxError', 'DataFormatError', 'SgldDivergedError', 'SessionFileError']);

export function isBadInput(e: unknown): boolean {
  return e instanceof Error && BAD_INPUT_NAMES.has(e.name);
}
