/**
 * A one-line progress display for long CLI jobs. On a terminal it redraws in place; otherwise (CI logs, pipes)
 * it prints a line every 10 % so logs stay short.
 */
export function progress(label: string, stream: NodeJS.WriteStream) {
  const tty = stream.isTTY === true;
  let lastDecile = -1;
  let shown = false;
  return {
    update(done: number, total: number) {
      const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
      if (tty) {
        const width = 30;
        const filled = Math.round((pct / 100) * width);
        stream.write(`\r${label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${pct}% (${done}/${total})`);
        shown = true;
      } else if (Math.floor(pct / 10) > lastDecile) {
        lastDecile = Math.floor(pct / 10);
        stream.write(`${label}: ${pct}% (${done}/${total})\n`);
      }
    },
    done() {
      if (tty && shown) stream.write("\n");
    },
  };
}
