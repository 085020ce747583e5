/** repomd.xml as createrepo_c 0.17 writes it (unique file names: `<sha256>-<type>.xml.<ext>`). */
import { XML_DECL } from "./fragments";

export interface RepomdRecord {
  type: "primary" | "filelists" | "other";
  href: string;
  checksum: string;
  openChecksum: string;
  size: number;
  openSize: number;
}

export function repomdXml(revision: number, timestamp: number, records: readonly RepomdRecord[]): string {
  let s = `${XML_DECL}<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">\n  <revision>${revision}</revision>\n`;
  for (const r of records) {
    s +=
      `  <data type="${r.type}">\n` +
      `    <checksum type="sha256">${r.checksum}</checksum>\n` +
      `    <open-checksum type="sha256">${r.openChecksum}</open-checksum>\n` +
      `    <location href="${r.href}"/>\n` +
      `    <timestamp>${timestamp}</timestamp>\n` +
      `    <size>${r.size}</size>\n` +
      `    <open-size>${r.openSize}</open-size>\n` +
      `  </data>\n`;
  }
  return `${s}</repomd>\n`;
}
