/**
 * Time travel: the state as of a moment (an ISO date-time) or a log position (digits), exactly as the
 * CLI's --as-of reads it. The value lives in the URL (`asOf=`), so the past view is a link too.
 */
import { useEffect, useState } from "preact/hooks"
import { time } from "../format.ts"

export function AsOf(props: { readonly value: string | undefined; readonly onChange: (asOf: string | undefined) => void }) {
  const [text, setText] = useState(props.value ?? "")
  useEffect(() => setText(props.value ?? ""), [props.value])
  // A date-time is read here, in the viewer's time zone (the server would read one without a zone
  // in its own), and goes to the URL as UTC: the same moment for the server and for whoever opens
  // the link. Text that is not a date goes as it is, for the server's error to say what is wrong.
  const apply = () => {
    const t = text.trim()
    if (t === "" || /^\d+$/.test(t)) return props.onChange(t === "" ? undefined : t)
    const ms = Date.parse(t)
    props.onChange(Number.isNaN(ms) ? t : new Date(ms).toISOString())
  }
  const moment = props.value === undefined || /^\d+$/.test(props.value) ? null : new Date(props.value)
  return (
    <form
      class="asof"
      role="search"
      aria-label="Time travel"
      onSubmit={(e) => {
        e.preventDefault()
        apply()
      }}
    >
      <label>
        As of{" "}
        <input
          name="asOf"
          value={text}
          placeholder="2026-11-30T12:00 or log position"
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          aria-describedby="asof-help"
        />
      </label>
      <button type="submit">Go</button>
      {props.value !== undefined ? (
        <button type="button" onClick={() => props.onChange(undefined)}>
          Now
        </button>
      ) : null}
      <span id="asof-help" class="hint">
        {props.value === undefined
          ? "Now (live)."
          : moment !== null && !Number.isNaN(moment.getTime())
            ? `Showing the state as of ${props.value} (${time(moment.getTime())} here).`
            : `Showing the state as of ${/^\d+$/.test(props.value) ? `log position ${props.value}` : props.value}.`}
      </span>
    </form>
  )
}
