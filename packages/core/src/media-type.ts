/** A media type guessed from an artifact path's extension; `application/octet-stream` when unknown. */
const BY_EXTENSION: Record<string, string> = {
  json: "application/json",
  jsonl: "application/x-ndjson",
  txt: "text/plain",
  log: "text/plain",
  md: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  yaml: "application/yaml",
  yml: "application/yaml",
  html: "text/html",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  pdf: "application/pdf",
  parquet: "application/vnd.apache.parquet",
  arrow: "application/vnd.apache.arrow.file",
  onnx: "application/onnx",
  pt: "application/octet-stream",
  npy: "application/octet-stream",
  zip: "application/zip",
  gz: "application/gzip"
}

export const mediaTypeOf = (path: string): string => {
  const dot = path.lastIndexOf(".")
  const slash = path.lastIndexOf("/")
  if (dot <= slash + 1) return "application/octet-stream"
  return BY_EXTENSION[path.slice(dot + 1).toLowerCase()] ?? "application/octet-stream"
}

/** The last segment of a local path, for an artifact logged without an explicit path. */
export const baseName = (localPath: string): string => {
  const parts = localPath.split(/[\\/]/).filter((p) => p.length > 0)
  return parts[parts.length - 1] ?? localPath
}
