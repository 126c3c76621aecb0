/**
 * A one-line progress bar on stderr, drawn only on a terminal: piped or captured output
 * (CI logs, `--json > file`) stays free of carriage returns.
 */
export class ProgressBar {
  private readonly enabled: boolean;
  private lastDrawn = -1;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.enabled = Boolean(out.isTTY) && total > 0;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const width = 30;
    const filled = Math.round((done / this.total) * width);
    if (done === this.lastDrawn) return;
    this.lastDrawn = done;
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    this.out.write(`\r${this.label} [${bar}] ${done}/${this.total}`);
  }

  done(): void {
    if (this.enabled) this.out.write('\r\x1b[K');
  }
}
