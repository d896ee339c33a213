/** Edits (insert, delete, substitute one character) between two words: Levenshtein's distance. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The known name a mistyped one most likely meant: one it is the start of, else, case aside, at
 * most a third of its letters apart (two at least, so a short key's typo still counts); undefined
 * when nothing is that close.
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  // A key cut short (maxGrants for maxGrantsPerRequest) is meant, however many letters are missing.
  const cutShort = typed.length >= 4 ? known.find((name) => name.toLowerCase().startsWith(typed.toLowerCase())) : undefined;
  if (cutShort) return cutShort;
  const limit = Math.max(2, Math.floor(typed.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(typed.toLowerCase(), name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}
