/** Saves `text` as a file the browser downloads (a WireGuard config, a CSV export). */
export function saveFile(name: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // Long enough for a slow browser to have read it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
