/** How fibrpc writes words and quotes input, the same way everywhere. */

/** `1 consumer`, `2 consumers`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** Longest piece of a user's input a message quotes: enough to recognise it, never a flood. */
export const MAX_QUOTED = 60;

/** The input as a message may quote it: cut to MAX_QUOTED characters, saying how long it was. */
export function clip(text: string, max = MAX_QUOTED): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1)}… (${text.length} characters)`;
}
