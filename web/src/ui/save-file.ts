// Saves data as a file the browser downloads: a Blob behind an object URL, clicked through a link that is gone
// at once; the URL is revoked once the download has had time to start.

/** Offers `parts` as a download named `name`. */
export function saveFile(name: string, parts: BlobPart[], type: string): void {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
