/**
 * A progress bar on stderr for long work (catching the read model up with a large log). Drawn only
 * on a terminal, at most ten times a second, and erased when done; scripts and pipes see nothing.
 */
export const progressBar = (label: string, stream: NodeJS.WriteStream = process.stderr) => {
  const enabled = stream.isTTY === true
  let last = 0
  let drawn = false
  /** Erase the bar, once: a second call writes nothing (it would erase the command's own line). */
  const done = (): void => {
    if (enabled && drawn) stream.write("\r\x1b[K")
    drawn = false
  }
  return {
    update(count: number, total: number | undefined) {
      if (!enabled) return
      // Finished: erased at once, before whatever the command prints next on the terminal.
      if (total !== undefined && count >= total) return done()
      const now = Date.now()
      if (now - last < 100) return
      last = now
      drawn = true
      const width = 30
      const fraction = total ? Math.min(1, count / total) : 0
      const bar = total ? `[${"#".repeat(Math.round(fraction * width)).padEnd(width, ".")}] ${(fraction * 100).toFixed(0).padStart(3)}%` : ""
      stream.write(`\r${label} ${bar} ${count.toLocaleString("en-US")}${total ? ` / ${total.toLocaleString("en-US")}` : ""} events\x1b[K`)
    },
    done
  }
}
