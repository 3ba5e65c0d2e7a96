/**
 * The last few pictures shown, so a random pick does not show the same picture twice in a
 * row. The window shrinks with a small library (with two pictures, only the last is avoided).
 */
export class RecentPictures {
  private readonly names: string[] = [];

  constructor(private readonly window = 5) {}

  remember(name: string): void {
    const index = this.names.indexOf(name);
    if (index >= 0) this.names.splice(index, 1);
    this.names.push(name);
    if (this.names.length > this.window) this.names.shift();
  }

  /** Names to avoid for a library of `librarySize` pictures: never all of them. */
  exclusions(librarySize: number): ReadonlySet<string> {
    const keep = Math.max(0, Math.min(this.window, librarySize - 1));
    return new Set(keep === 0 ? [] : this.names.slice(-keep));
  }
}
