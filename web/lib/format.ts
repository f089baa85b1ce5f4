export function bytes(value: number | string | undefined): string {
  const n = Number(value ?? 0);
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let unit = 0;
  while (Math.abs(v) >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${v.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function ago(ms: number | string | undefined, now = Date.now()): string {
  const at = Number(ms ?? 0);
  if (!at) return "–";
  const seconds = Math.round((now - at) / 1000);
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(at).toLocaleString();
}

export function time(ms: number | string | undefined): string {
  const at = Number(ms ?? 0);
  return at ? new Date(at).toLocaleString() : "–";
}

export function number(value: number | string | undefined, digits = 0): string {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n.toLocaleString(undefined, { maximumFractionDigits: digits }) : "–";
}
